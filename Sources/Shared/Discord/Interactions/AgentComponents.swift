import Foundation

/// The buttons and selects an agent puts under a reply (CONTRACT section 6: `buttons`, a JSON
/// array of labels, or `components`, Discord action rows), checked against Discord's limits
/// before anything is posted, with the agent's own `custom_id`s listed in order. What Discord
/// sees carries, in their place, ids the connector signs (`signedRows`), so that a click names
/// a component the connector posted and nothing an agent or a person could forge.
public struct AgentComponents: Sendable, Equatable {
    /// The action rows, as the agent gave them (custom ids still the agent's).
    public private(set) var rows: [JSONValue]
    /// One entry per interactive component, in order: the agent's id and a label for people
    /// and agents to read (a button's label, a select's placeholder or id).
    public private(set) var items: [Item]

    public struct Item: Sendable, Equatable {
        public var customID: String
        public var label: String

        public init(customID: String, label: String) {
            self.customID = customID
            self.label = label
        }
    }

    /// Discord's limits (Message Components reference), and the agent's id length (CONTRACT section 6).
    public static let maxRows = 5
    public static let maxButtonsPerRow = 5
    public static let maxLabelCharacters = 80
    public static let maxAgentCustomIDCharacters = 64
    public static let maxSelectOptions = 25
    public static let maxOptionCharacters = 100

    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// From a reply record's `buttons` and `components` fields (either, both, or neither; nil
    /// for neither). `buttons` becomes one more row after `components`' rows.
    public static func parse(buttons: String?, components: String?) throws(Invalid) -> AgentComponents? {
        var rows: [JSONValue] = []
        if let components {
            guard let decoded = try? JSON.decode(JSONValue.self, from: components), case .array(let list) = decoded else {
                throw Invalid("components must be a JSON array of action rows")
            }
            rows += list
        }
        if let buttons {
            rows.append(try buttonRow(buttons))
        }
        if rows.isEmpty { return nil }
        return try AgentComponents(rows: rows)
    }

    /// `["Approve", "Deny"]` as a row of buttons whose custom ids are their labels: the first
    /// one primary (blurple), the rest secondary (grey).
    static func buttonRow(_ json: String) throws(Invalid) -> JSONValue {
        guard let decoded = try? JSON.decode([String].self, from: json) else {
            throw Invalid("buttons must be a JSON array of labels, like [\"Approve\", \"Deny\"]")
        }
        guard !decoded.isEmpty, decoded.count <= maxButtonsPerRow else {
            throw Invalid("buttons must hold 1 to \(maxButtonsPerRow) labels, not \(decoded.count)")
        }
        let buttons = decoded.enumerated().map { index, label -> JSONValue in
            .object(["type": .number(2), "style": .number(index == 0 ? 1 : 2), "label": .string(label), "custom_id": .string(label)])
        }
        return .object(["type": .number(1), "components": .array(buttons)])
    }

    init(rows: [JSONValue]) throws(Invalid) {
        guard rows.count <= Self.maxRows else { throw Invalid("at most \(Self.maxRows) rows of components, not \(rows.count)") }
        self.rows = rows
        self.items = []
        for (r, row) in rows.enumerated() {
            let place = "row \(r + 1)"
            guard row["type"]?.intValue == 1, case .array(let children)? = row["components"] else {
                throw Invalid("\(place) must be an action row: {\"type\": 1, \"components\": [...]}")
            }
            let types = children.map { $0["type"]?.intValue ?? 0 }
            if types.contains(3) {
                guard children.count == 1 else { throw Invalid("\(place): a string select fills its row alone") }
            } else {
                guard !children.isEmpty, children.count <= Self.maxButtonsPerRow else {
                    throw Invalid("\(place) must hold 1 to \(Self.maxButtonsPerRow) buttons, not \(children.count)")
                }
            }
            for (c, child) in children.enumerated() {
                try check(child, at: "\(place), component \(c + 1)")
            }
        }
        let ids = items.map(\.customID)
        if let repeated = ids.first(where: { id in ids.filter { $0 == id }.count > 1 }) {
            throw Invalid("custom_id '\(repeated.prefix(64))' is used twice; each component needs its own")
        }
    }

    private mutating func check(_ component: JSONValue, at place: String) throws(Invalid) {
        switch component["type"]?.intValue {
        case 2?:
            let style = component["style"]?.intValue ?? 0
            guard (1...5).contains(style) else { throw Invalid("\(place): a button's style must be 1 to 5") }
            let label = component["label"]?.stringValue ?? ""
            guard label.count <= Self.maxLabelCharacters else {
                throw Invalid("\(place): a label is at most \(Self.maxLabelCharacters) characters, not \(label.count)")
            }
            if style == 5 {
                guard let url = component["url"]?.stringValue, url.hasPrefix("https://") || url.hasPrefix("http://") else {
                    throw Invalid("\(place): a link button (style 5) needs a url")
                }
                guard component["custom_id"] == nil else { throw Invalid("\(place): a link button has a url, not a custom_id") }
                guard !label.isEmpty else { throw Invalid("\(place): a link button needs a label") }
                return  // a link opens its url; there is no click to deliver
            }
            guard !label.isEmpty || component["emoji"] != nil else { throw Invalid("\(place): a button needs a label or an emoji") }
            items.append(Item(customID: try customID(component, at: place), label: label.isEmpty ? (component["emoji"]?["name"]?.stringValue ?? "") : label))
        case 3?:
            guard case .array(let options)? = component["options"], !options.isEmpty, options.count <= Self.maxSelectOptions else {
                throw Invalid("\(place): a string select needs 1 to \(Self.maxSelectOptions) options")
            }
            for (o, option) in options.enumerated() {
                guard let label = option["label"]?.stringValue, let value = option["value"]?.stringValue,
                      !label.isEmpty, !value.isEmpty, label.count <= Self.maxOptionCharacters, value.count <= Self.maxOptionCharacters else {
                    throw Invalid("\(place), option \(o + 1): needs a label and a value of 1 to \(Self.maxOptionCharacters) characters")
                }
            }
            let minimum = component["min_values"]?.intValue ?? 1
            let maximum = component["max_values"]?.intValue ?? 1
            guard (0...Self.maxSelectOptions).contains(minimum), (1...Self.maxSelectOptions).contains(maximum), minimum <= maximum, maximum <= options.count else {
                throw Invalid("\(place): min_values and max_values must satisfy 0 <= min <= max <= the number of options")
            }
            let id = try customID(component, at: place)
            items.append(Item(customID: id, label: component["placeholder"]?.stringValue ?? id))
        case let other:
            throw Invalid("\(place): only buttons (type 2) and string selects (type 3) go in a row, not type \(other.map(String.init) ?? "none")")
        }
    }

    private func customID(_ component: JSONValue, at place: String) throws(Invalid) -> String {
        guard let id = component["custom_id"]?.stringValue, !id.isEmpty else { throw Invalid("\(place): needs a custom_id") }
        guard id.count <= Self.maxAgentCustomIDCharacters else {
            throw Invalid("\(place): custom_id is at most \(Self.maxAgentCustomIDCharacters) characters, not \(id.count)")
        }
        return id
    }

    /// The rows as Discord gets them: the n-th interactive component's id replaced by
    /// `signer`'s id for (`set`, n).
    public func signedRows(set: String, signer: ComponentIDSigner) -> [JSONValue] {
        var index = 0
        return rows.map { row in
            guard case .object(var object) = row, case .array(let children)? = object["components"] else { return row }
            object["components"] = .array(children.map { child in
                guard case .object(var component) = child, component["custom_id"] != nil else { return child }
                component["custom_id"] = .string(signer.sign(.init(set: set, index: index)))
                index += 1
                return .object(component)
            })
            return .object(object)
        }
    }
}
