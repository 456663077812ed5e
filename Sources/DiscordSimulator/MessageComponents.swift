import Foundation

/// Legacy message components (docs/components/reference.mdx): action rows of buttons or one
/// string select, checked as Discord checks them and echoed as sent. Other component types
/// (the other selects, text inputs, the Components V2 layout types) are refused: the simulator
/// keeps to what the connector sends.
enum MessageComponents {
    static let actionRow = 1
    static let button = 2
    static let stringSelect = 3
    static let linkStyle = 5

    /// The 50035 error tree for `components` (the part under `"components"`), `nil` when valid.
    static func errors(_ rows: [JSONValue]) -> JSONValue? {
        var tree: [String: JSONValue] = [:]
        if rows.count > 5 {
            tree["_errors"] = listError(code: "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
        }
        var customIds = Set<String>()
        for (index, row) in rows.enumerated() {
            if let error = rowError(row, customIds: &customIds) { tree[String(index)] = error }
        }
        return tree.isEmpty ? nil : .object(tree)
    }

    private static func rowError(_ row: JSONValue, customIds: inout Set<String>) -> JSONValue? {
        guard case .object(let fields) = row else {
            return .formError(code: "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        }
        guard fields["type"]?.intValue == actionRow else {
            return .object(["type": .formError(code: "UNION_TYPE_CHOICES", "Value of field \"type\" must be one of (1,).")])
        }
        guard case .array(let children)? = fields["components"] else {
            return .object(["components": .formError(code: "BASE_TYPE_REQUIRED", "This field is required")])
        }
        var tree: [String: JSONValue] = [:]
        if children.isEmpty {
            tree["_errors"] = listError(code: "BASE_TYPE_MIN_LENGTH", "Must be 1 or more in length.")
        } else if children.count > 5 {
            tree["_errors"] = listError(code: "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
        } else if children.count > 1, children.contains(where: { $0["type"]?.intValue == stringSelect }) {
            // A select is as wide as a row.
            tree["_errors"] = listError(code: "COMPONENT_LAYOUT_WIDTH_EXCEEDED", "The specified component exceeds the maximum width")
        }
        for (index, child) in children.enumerated() {
            if let error = childError(child, customIds: &customIds) { tree[String(index)] = error }
        }
        return tree.isEmpty ? nil : .object(["components": .object(tree)])
    }

    private static func childError(_ child: JSONValue, customIds: inout Set<String>) -> JSONValue? {
        guard case .object(let fields) = child else {
            return .formError(code: "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        }
        var problems: [String: JSONValue] = [:]
        switch fields["type"]?.intValue {
        case button?:
            buttonProblems(fields, into: &problems)
        case stringSelect?:
            selectProblems(fields, into: &problems)
        default:
            problems["type"] = .formError(code: "UNION_TYPE_CHOICES", "Value of field \"type\" must be one of (2, 3).")
        }
        if problems["custom_id"] == nil, let customId = fields["custom_id"]?.stringValue, !customIds.insert(customId).inserted {
            problems["custom_id"] = .formError(code: "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
        }
        return problems.isEmpty ? nil : .object(problems)
    }

    private static func buttonProblems(_ fields: [String: JSONValue], into problems: inout [String: JSONValue]) {
        guard let style = fields["style"]?.intValue, (1...5).contains(style) else {
            problems["style"] = .formError(code: "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5}.")
            return
        }
        if style == linkStyle {
            if fields["custom_id"].isPresent {
                problems["custom_id"] = .formError(code: "BUTTON_COMPONENT_CUSTOM_ID_NOT_ALLOWED", "A link button cannot have a custom id")
            }
            if let error = lengthError(fields["url"], 1...512) { problems["url"] = error }
        } else {
            if let error = lengthError(fields["custom_id"], 1...100) { problems["custom_id"] = error }
            if fields["url"].isPresent {
                problems["url"] = .formError(code: "BUTTON_COMPONENT_URL_NOT_ALLOWED", "Only link buttons may have a url")
            }
        }
        if let label = fields["label"], label != .null {
            if let error = lengthError(label, 0...80) { problems["label"] = error }
        } else if !fields["emoji"].isPresent {
            problems["label"] = .formError(code: "BUTTON_COMPONENT_LABEL_OR_EMOJI_REQUIRED", "A button needs a label or an emoji")
        }
    }

    private static func selectProblems(_ fields: [String: JSONValue], into problems: inout [String: JSONValue]) {
        if let error = lengthError(fields["custom_id"], 1...100) { problems["custom_id"] = error }
        if let placeholder = fields["placeholder"], placeholder != .null, let error = lengthError(placeholder, 0...150) {
            problems["placeholder"] = error
        }
        let minValues = fields["min_values"]?.intValue ?? 1
        let maxValues = fields["max_values"]?.intValue ?? 1
        if fields["min_values"].isPresent, !(0...25).contains(fields["min_values"]?.intValue ?? -1) {
            problems["min_values"] = .formError(code: "NUMBER_TYPE_MAX", "int value should be between 0 and 25.")
        }
        if fields["max_values"].isPresent, !(1...25).contains(fields["max_values"]?.intValue ?? -1) {
            problems["max_values"] = .formError(code: "NUMBER_TYPE_MAX", "int value should be between 1 and 25.")
        } else if problems["min_values"] == nil, minValues > maxValues {
            problems["max_values"] = .formError(code: "SELECT_COMPONENT_MAX_VALUES_BELOW_MIN", "max_values must be at least min_values")
        }
        guard case .array(let options)? = fields["options"] else {
            problems["options"] = .formError(code: "BASE_TYPE_REQUIRED", "This field is required")
            return
        }
        var tree: [String: JSONValue] = [:]
        if !(1...25).contains(options.count) {
            tree["_errors"] = listError(code: "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 25 in length.")
        } else if problems["max_values"] == nil, maxValues > options.count {
            problems["max_values"] = .formError(code: "SELECT_COMPONENT_MAX_VALUES_TOO_HIGH", "max_values cannot exceed the number of options")
        }
        var values = Set<String>()
        for (index, option) in options.enumerated() {
            var optionProblems: [String: JSONValue] = [:]
            if let error = lengthError(option["label"], 1...100) { optionProblems["label"] = error }
            if let error = lengthError(option["value"], 1...100) {
                optionProblems["value"] = error
            } else if let value = option["value"]?.stringValue, !values.insert(value).inserted {
                optionProblems["value"] = .formError(code: "SELECT_COMPONENT_OPTION_VALUE_DUPLICATED", "Select option values must be unique")
            }
            if let description = option["description"], description != .null, let error = lengthError(description, 0...100) {
                optionProblems["description"] = error
            }
            if !optionProblems.isEmpty { tree[String(index)] = .object(optionProblems) }
        }
        if !tree.isEmpty { problems["options"] = .object(tree) }
    }

    /// A required string field of `range` characters (code points, as Discord counts).
    private static func lengthError(_ value: JSONValue?, _ range: ClosedRange<Int>) -> JSONValue? {
        guard let value, value != .null else {
            return .formError(code: "BASE_TYPE_REQUIRED", "This field is required")
        }
        guard let text = value.stringValue else {
            return .formError(code: "BASE_TYPE_STRING", "Could not interpret \"\(value)\" as string.")
        }
        guard range.contains(text.unicodeScalars.count) else {
            if range.lowerBound == 0 {
                return .formError(code: "BASE_TYPE_MAX_LENGTH", "Must be \(range.upperBound) or fewer in length.")
            }
            return .formError(code: "BASE_TYPE_BAD_LENGTH", "Must be between \(range.lowerBound) and \(range.upperBound) in length.")
        }
        return nil
    }

    private static func listError(code: String, _ message: String) -> JSONValue {
        .array([.object(["code": .string(code), "message": .string(message)])])
    }

    // MARK: - Lookup (the click control call)

    /// An interactive component found on a message.
    struct Found: Sendable {
        let fields: [String: JSONValue]

        var type: Int { fields["type"]?.intValue ?? 0 }
        var customId: String? { fields["custom_id"]?.stringValue }
        var isDisabled: Bool { fields["disabled"]?.boolValue ?? false }
        var isLinkButton: Bool { type == button && fields["style"]?.intValue == linkStyle }
        var optionValues: [String] {
            guard case .array(let options)? = fields["options"] else { return [] }
            return options.compactMap { $0["value"]?.stringValue }
        }
        var minValues: Int { fields["min_values"]?.intValue ?? 1 }
        var maxValues: Int { fields["max_values"]?.intValue ?? 1 }
    }

    /// The component with `customId`, or else the first button labelled `label`.
    static func find(in rows: [JSONValue], customId: String?, label: String?) -> Found? {
        let children = rows.flatMap { row -> [[String: JSONValue]] in
            guard case .array(let items)? = row["components"] else { return [] }
            return items.compactMap { if case .object(let fields) = $0 { fields } else { nil } }
        }
        if let customId {
            return children.first { $0["custom_id"]?.stringValue == customId }.map(Found.init)
        }
        if let label {
            return children.first { $0["type"]?.intValue == button && $0["label"]?.stringValue == label }.map(Found.init)
        }
        return nil
    }
}

extension JSONValue {
    subscript(key: String) -> JSONValue? {
        if case .object(let fields) = self { return fields[key] }
        return nil
    }

    var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// Whole numbers only, as JSON numbers decode to `Double`.
    var intValue: Int? {
        if case .number(let value) = self, value.rounded() == value, abs(value) < 1e15 { return Int(value) }
        return nil
    }

    var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }
}

extension Optional where Wrapped == JSONValue {
    /// Present and not `null`.
    var isPresent: Bool {
        switch self {
        case .none, .null?: false
        default: true
        }
    }
}
