import Foundation
import MCP

/// A failed tool call: returned to the agent as a tool result with `isError: true` and this
/// message, never as a crash or a protocol error.
struct ToolError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// The arguments of one tool call, checked against what the tool takes: a missing required
/// argument, a wrong type or an unknown name is a `ToolError` that says which and why.
struct ToolArguments {
    let tool: String
    private let values: [String: Value]

    init(_ raw: [String: Value]?, tool: String, accepted: [String]) throws(ToolError) {
        self.tool = tool
        // JSON null means "not given", like a missing key.
        self.values = (raw ?? [:]).filter { !$0.value.isNull }
        if let unknown = values.keys.sorted().first(where: { !accepted.contains($0) }) {
            let list = accepted.isEmpty ? "no arguments" : "only " + accepted.joined(separator: ", ")
            throw ToolError("\(tool): unknown argument '\(unknown)'; it takes \(list)")
        }
    }

    /// A string argument, or nil when it was not given.
    func string(_ name: String) throws(ToolError) -> String? {
        guard let value = values[name] else { return nil }
        switch value {
        case .string(let text):
            return text
        case .data(let mimeType, let data):
            // The SDK decodes a string shaped like a data: URL as data; give back a data: URL.
            return data.dataURLEncoded(mimeType: mimeType)
        default:
            throw ToolError("\(tool): argument '\(name)' must be a string, got \(Self.typeName(value))")
        }
    }

    /// A string argument that must be present; `blankAllowed: false` also refuses whitespace.
    func requiredString(_ name: String, blankAllowed: Bool = false) throws(ToolError) -> String {
        guard let text = try string(name) else {
            throw ToolError("\(tool): missing required argument '\(name)'")
        }
        if !blankAllowed, text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw ToolError("\(tool): argument '\(name)' is empty")
        }
        return text
    }

    /// A boolean argument (also "true"/"false", 1/0, as models send them), or nil when not given.
    func bool(_ name: String) throws(ToolError) -> Bool? {
        guard let value = values[name] else { return nil }
        switch value {
        case .bool(let flag): return flag
        case .int(let number) where number == 0 || number == 1: return number == 1
        case .string(let text) where ["true", "false", "1", "0"].contains(text.lowercased()): return ["true", "1"].contains(text.lowercased())
        default: throw ToolError("\(tool): argument '\(name)' must be true or false, got \(Self.typeName(value)) (\(Self.shown(value)))")
        }
    }

    /// An array of strings (button labels), or nil when not given.
    func strings(_ name: String) throws(ToolError) -> [String]? {
        guard let value = values[name] else { return nil }
        guard case .array(let items) = value else {
            throw ToolError("\(tool): argument '\(name)' must be an array of strings, got \(Self.typeName(value))")
        }
        var strings: [String] = []
        for item in items {
            guard case .string(let text) = item else {
                throw ToolError("\(tool): argument '\(name)' must hold strings only, got \(Self.typeName(item)) (\(Self.shown(item)))")
            }
            strings.append(text)
        }
        return strings
    }

    /// A whole-number argument within `range`, or `defaultValue` when not given. A number in a
    /// string ("5") and a whole float (5.0) are accepted: models send both.
    func integer(_ name: String, default defaultValue: Int, range: ClosedRange<Int>) throws(ToolError) -> Int {
        guard let value = values[name] else { return defaultValue }
        let number: Int?
        switch value {
        case .int(let int): number = int
        case .double(let double): number = double.rounded() == double && abs(double) < 1e15 ? Int(double) : nil
        case .string(let text): number = Int(text.trimmingCharacters(in: .whitespaces))
        default: number = nil
        }
        guard let number else {
            throw ToolError("\(tool): argument '\(name)' must be a whole number, got \(Self.typeName(value)) (\(Self.shown(value)))")
        }
        guard range.contains(number) else {
            throw ToolError("\(tool): argument '\(name)' must be from \(range.lowerBound) to \(range.upperBound), got \(number)")
        }
        return number
    }

    /// A value as JSON, shortened, for an error message.
    static func shown(_ value: Value) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let text = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "\(value)"
        return text.count > 60 ? text.prefix(60) + "…" : text
    }

    static func typeName(_ value: Value) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "a boolean"
        case .int, .double: return "a number"
        case .string, .data: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
