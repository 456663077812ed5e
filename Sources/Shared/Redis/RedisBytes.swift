/// The bytes of one Redis bulk string or command argument, as Redis holds them: UTF-8 text
/// most of the time, raw bytes where a field carries a file. Nothing is decoded until asked.
public struct RedisBytes: Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    public var bytes: [UInt8]

    public init(_ bytes: [UInt8]) { self.bytes = bytes }
    public init(_ string: String) { self.bytes = Array(string.utf8) }
    public init(stringLiteral value: String) { self.init(value) }
    public init(_ number: Int) { self.init(String(number)) }

    /// The bytes read as UTF-8 (invalid sequences become U+FFFD).
    public var string: String { String(decoding: bytes, as: UTF8.self) }
    public var count: Int { bytes.count }
    public var isEmpty: Bool { bytes.isEmpty }

    public var description: String { string }
}
