import Foundation

/// Finds an object's members in JSON text without decoding them: the gateway's hot path reads
/// `op`, `s`, `t` and a message's author id from the bytes as they arrived, and hands `d` on as
/// those same bytes (no parse into Foundation objects and back).
///
/// Strings, brackets and literals are checked as they are skipped (balanced, terminated, no raw
/// control characters); a value the caller goes on to use in full is decoded by `JSONDecoder`,
/// which checks the rest.
public enum JSONScan {
    public struct Malformed: Error, Equatable {
        public var offset: Int
    }

    public typealias Member = (name: String, value: Range<Int>)

    /// The members of the JSON object that fills `range` of `bytes` (whitespace around it
    /// allowed), in order, each with its value's byte range.
    public static func members(_ bytes: [UInt8], in range: Range<Int>) throws(Malformed) -> [Member] {
        var result: [Member] = []
        try walk(bytes, in: range) { (name: Range<Int>, value: Range<Int>) throws(Malformed) in
            guard let text = string(bytes, name) else { throw Malformed(offset: name.lowerBound) }
            result.append((text, value))
        }
        return result
    }

    /// The values of the members with these names (the last of a repeated name, as `members`
    /// gives it), in the order of `names`; nil for a name that is absent. Names are compared as
    /// bytes, without building a `String` for every member: the gateway's check of each echo.
    public static func values(named names: [String], in bytes: [UInt8], range: Range<Int>) throws(Malformed) -> [Range<Int>?] {
        let wanted = names.map { Array($0.utf8) }
        var found = [Range<Int>?](repeating: nil, count: names.count)
        try walk(bytes, in: range) { (name: Range<Int>, value: Range<Int>) throws(Malformed) in
            let inner = (name.lowerBound + 1)..<(name.upperBound - 1)
            if bytes[inner].contains(UInt8(ascii: "\\")) {
                // An escaped name: compared once decoded.
                guard let text = string(bytes, name) else { throw Malformed(offset: name.lowerBound) }
                if let index = names.firstIndex(of: text) { found[index] = value }
            } else if let index = wanted.firstIndex(where: { $0.elementsEqual(bytes[inner]) }) {
                found[index] = value
            }
        }
        return found
    }

    /// Calls `body` with each member's name (quotes included) and value byte ranges, in order.
    private static func walk(_ bytes: [UInt8], in range: Range<Int>, _ body: (Range<Int>, Range<Int>) throws(Malformed) -> Void) throws(Malformed) {
        var index = skipWhitespace(bytes, range.lowerBound, range.upperBound)
        guard index < range.upperBound, bytes[index] == UInt8(ascii: "{") else { throw Malformed(offset: index) }
        index = skipWhitespace(bytes, index + 1, range.upperBound)
        if index < range.upperBound, bytes[index] == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                guard index < range.upperBound, bytes[index] == UInt8(ascii: "\"") else { throw Malformed(offset: index) }
                let nameEnd = try skipString(bytes, index, range.upperBound)
                let name = index..<nameEnd
                index = skipWhitespace(bytes, nameEnd, range.upperBound)
                guard index < range.upperBound, bytes[index] == UInt8(ascii: ":") else { throw Malformed(offset: index) }
                index = skipWhitespace(bytes, index + 1, range.upperBound)
                let valueEnd = try skipValue(bytes, index, range.upperBound)
                try body(name, index..<valueEnd)
                index = skipWhitespace(bytes, valueEnd, range.upperBound)
                guard index < range.upperBound else { throw Malformed(offset: index) }
                if bytes[index] == UInt8(ascii: ",") {
                    index = skipWhitespace(bytes, index + 1, range.upperBound)
                    continue
                }
                guard bytes[index] == UInt8(ascii: "}") else { throw Malformed(offset: index) }
                index += 1
                break
            }
        }
        guard skipWhitespace(bytes, index, range.upperBound) == range.upperBound else { throw Malformed(offset: index) }
    }

    /// The value at `path` (member names, object by object) of the object in `bytes`; nil when a
    /// step is missing or not an object.
    public static func value(at path: [String], in bytes: [UInt8]) -> Range<Int>? {
        var range = 0..<bytes.count
        for name in path {
            guard let members = try? members(bytes, in: range), let member = members.last(where: { $0.name == name }) else { return nil }
            range = member.value
        }
        return range
    }

    /// The string value of the member `name` of the JSON object in `data` (e.g. a created
    /// message's `id`); nil when it is missing or not a string.
    public static func string(member name: String, in data: Data) -> String? {
        let bytes = [UInt8](data)
        return value(at: [name], in: bytes).flatMap { string(bytes, $0) }
    }

    /// A JSON string value, unescaped; nil for anything else (or a malformed escape).
    public static func string(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
        guard range.count >= 2, bytes[range.lowerBound] == UInt8(ascii: "\""), bytes[range.upperBound - 1] == UInt8(ascii: "\"") else { return nil }
        let inner = (range.lowerBound + 1)..<(range.upperBound - 1)
        guard bytes[inner].contains(UInt8(ascii: "\\")) else { return String(decoding: bytes[inner], as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(inner.count)
        var index = inner.lowerBound
        func hex4(_ at: Int) -> UInt32? {
            guard at + 4 <= inner.upperBound else { return nil }
            var value: UInt32 = 0
            for byte in bytes[at..<(at + 4)] {
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
            }
            return value
        }
        while index < inner.upperBound {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                index += 1
                continue
            }
            guard index + 1 < inner.upperBound else { return nil }
            let escaped = bytes[index + 1]
            index += 2
            switch escaped {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escaped)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard var scalar = hex4(index) else { return nil }
                index += 4
                if (0xD800..<0xDC00).contains(scalar) {
                    // A high surrogate must be followed by an escaped low one.
                    guard index + 6 <= inner.upperBound, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u"),
                          let low = hex4(index + 2), (0xDC00..<0xE000).contains(low) else { return nil }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                } else if (0xDC00..<0xE000).contains(scalar) {
                    return nil
                }
                guard let unicode = Unicode.Scalar(scalar) else { return nil }
                out.append(contentsOf: Array(String(Character(unicode)).utf8))
            default:
                return nil
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// The elements of the JSON array at `range`, each as its byte range; nil for anything else.
    public static func elements(_ bytes: [UInt8], _ range: Range<Int>) -> [Range<Int>]? {
        var index = skipWhitespace(bytes, range.lowerBound, range.upperBound)
        guard index < range.upperBound, bytes[index] == UInt8(ascii: "[") else { return nil }
        index = skipWhitespace(bytes, index + 1, range.upperBound)
        var result: [Range<Int>] = []
        if index < range.upperBound, bytes[index] == UInt8(ascii: "]") { return result }
        while true {
            guard let end = try? skipValue(bytes, index, range.upperBound) else { return nil }
            result.append(index..<end)
            index = skipWhitespace(bytes, end, range.upperBound)
            guard index < range.upperBound else { return nil }
            if bytes[index] == UInt8(ascii: "]") { return result }
            guard bytes[index] == UInt8(ascii: ",") else { return nil }
            index = skipWhitespace(bytes, index + 1, range.upperBound)
        }
    }

    /// Whether the value is the literal `true` (nil when it is not a boolean).
    public static func bool(_ bytes: [UInt8], _ range: Range<Int>) -> Bool? {
        if bytes[range].elementsEqual("true".utf8) { return true }
        if bytes[range].elementsEqual("false".utf8) { return false }
        return nil
    }

    /// A JSON integer value (no fraction, no exponent); nil for anything else.
    public static func int(_ bytes: [UInt8], _ range: Range<Int>) -> Int? {
        guard !range.isEmpty else { return nil }
        var index = range.lowerBound
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        guard index < range.upperBound, range.upperBound - index <= 18 else { return nil }
        var value = 0
        while index < range.upperBound {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
            index += 1
        }
        return negative ? -value : value
    }

    /// Whether the value is the literal `null`.
    public static func isNull(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        bytes[range].elementsEqual("null".utf8)
    }

    // MARK: Skipping

    static func skipWhitespace(_ bytes: [UInt8], _ start: Int, _ end: Int) -> Int {
        var index = start
        while index < end {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return index
            }
        }
        return index
    }

    /// The end of the string that starts at `start` (after its closing quote).
    static func skipString(_ bytes: [UInt8], _ start: Int, _ end: Int) throws(Malformed) -> Int {
        var index = start + 1
        while index < end {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { return index + 1 }
            if byte == UInt8(ascii: "\\") {
                index += 2
                continue
            }
            guard byte >= 0x20 else { throw Malformed(offset: index) }
            index += 1
        }
        throw Malformed(offset: start)
    }

    /// The end of the value that starts at `start`.
    static func skipValue(_ bytes: [UInt8], _ start: Int, _ end: Int) throws(Malformed) -> Int {
        guard start < end else { throw Malformed(offset: start) }
        switch bytes[start] {
        case UInt8(ascii: "\""):
            return try skipString(bytes, start, end)
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var closers: [UInt8] = []
            var index = start
            while index < end {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    index = try skipString(bytes, index, end)
                    continue
                case UInt8(ascii: "{"): closers.append(UInt8(ascii: "}"))
                case UInt8(ascii: "["): closers.append(UInt8(ascii: "]"))
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    guard closers.popLast() == bytes[index] else { throw Malformed(offset: index) }
                    if closers.isEmpty { return index + 1 }
                default: break
                }
                index += 1
            }
            throw Malformed(offset: start)
        default:
            var index = start
            while index < end {
                switch bytes[index] {
                case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D:
                    break
                default:
                    index += 1
                    continue
                }
                break
            }
            let token = bytes[start..<index]
            let literal = token.elementsEqual("true".utf8) || token.elementsEqual("false".utf8) || token.elementsEqual("null".utf8)
            let number = !token.isEmpty && token.allSatisfy { ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "+") || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
            guard literal || number else { throw Malformed(offset: start) }
            return index
        }
    }
}
