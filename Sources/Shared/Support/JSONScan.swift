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
        var index = skipWhitespace(bytes, range.lowerBound, range.upperBound)
        guard index < range.upperBound, bytes[index] == UInt8(ascii: "{") else { throw Malformed(offset: index) }
        index = skipWhitespace(bytes, index + 1, range.upperBound)
        var result: [Member] = []
        if index < range.upperBound, bytes[index] == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                guard index < range.upperBound, bytes[index] == UInt8(ascii: "\"") else { throw Malformed(offset: index) }
                let nameEnd = try skipString(bytes, index, range.upperBound)
                guard let name = string(bytes, index..<nameEnd) else { throw Malformed(offset: index) }
                index = skipWhitespace(bytes, nameEnd, range.upperBound)
                guard index < range.upperBound, bytes[index] == UInt8(ascii: ":") else { throw Malformed(offset: index) }
                index = skipWhitespace(bytes, index + 1, range.upperBound)
                let valueEnd = try skipValue(bytes, index, range.upperBound)
                result.append((name, index..<valueEnd))
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
        return result
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

    /// A JSON string value, unescaped; nil for anything else.
    public static func string(_ bytes: [UInt8], _ range: Range<Int>) -> String? {
        guard range.count >= 2, bytes[range.lowerBound] == UInt8(ascii: "\""), bytes[range.upperBound - 1] == UInt8(ascii: "\"") else { return nil }
        let inner = (range.lowerBound + 1)..<(range.upperBound - 1)
        if !bytes[inner].contains(UInt8(ascii: "\\")) { return String(decoding: bytes[inner], as: UTF8.self) }
        // Escapes are rare in the values read this way: let Foundation unescape them.
        return (try? JSONSerialization.jsonObject(with: Data(bytes[range]), options: [.fragmentsAllowed])) as? String
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
