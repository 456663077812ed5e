import Foundation

/// Parses the `.env` format: `KEY=VALUE` lines, optional `export `, `#` comments, and
/// single- or double-quoted values. Pure, so that its errors can be tested without files.
public enum DotEnv {
    public static func parse(_ text: String, source: String = ".env") throws(ConfigError) -> [String: String] {
        var values: [String: String] = [:]
        // Splitting on isNewline also splits Windows line ends ("\r\n" is one Character).
        for (index, rawLine) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            var line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst("export ".count)).trimmingWhitespace() }
            guard let equals = line.firstIndex(of: "=") else {
                throw ConfigError(variable: nil, problem: "\(source) line \(index + 1): expected KEY=VALUE")
            }
            let key = String(line[..<equals]).trimmingWhitespace()
            guard isValidKey(key) else {
                throw ConfigError(variable: nil, problem: "\(source) line \(index + 1): '\(key)' is not a valid variable name")
            }
            values[key] = try unquote(String(line[line.index(after: equals)...]).trimmingWhitespace(), key: key, line: index + 1, source: source)
        }
        return values
    }

    private static func isValidKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, first == "_" || first.isASCIILetter else { return false }
        return key.unicodeScalars.allSatisfy { $0 == "_" || $0.isASCIILetter || ("0"..."9").contains($0) }
    }

    private static func unquote(_ value: String, key: String, line: Int, source: String) throws(ConfigError) -> String {
        guard let quote = value.first, quote == "\"" || quote == "'" else {
            // Unquoted: an inline comment starts at " #".
            if let comment = value.range(of: " #") { return String(value[..<comment.lowerBound]).trimmingWhitespace() }
            return value
        }
        let body = value.dropFirst()
        // In double quotes a backslash escapes the next character, so \" does not close the value.
        var close: Substring.Index?
        var index = body.startIndex
        while index < body.endIndex {
            if body[index] == "\\", quote == "\"" {
                index = body.index(after: index)
                if index == body.endIndex { break }
            } else if body[index] == quote {
                close = index
                break
            }
            index = body.index(after: index)
        }
        guard let close else {
            // The value is deliberately left out of the message: it may be a token.
            throw ConfigError(variable: key, problem: "\(source) line \(line): unterminated \(quote) quote")
        }
        let trailing = body[body.index(after: close)...].trimmingWhitespace()
        guard trailing.isEmpty || trailing.hasPrefix("#") else {
            throw ConfigError(variable: key, problem: "\(source) line \(line): unexpected text after the closing \(quote) quote")
        }
        let inner = String(body[..<close])
        guard quote == "\"" else { return inner }
        return inner.replacingOccurrences(of: "\\n", with: "\n").replacingOccurrences(of: "\\\"", with: "\"")
    }
}

extension Unicode.Scalar {
    var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        // Most values have nothing to trim: answered without walking them (a reply's fields).
        guard let first, let last, first.isWhitespace || last.isWhitespace else { return String(self) }
        return String(self.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }
}
