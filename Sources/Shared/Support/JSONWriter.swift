import Foundation

/// A body that writes its own JSON, byte for byte what `JSON.encode` makes of it (sorted keys,
/// slashes unescaped), without `JSONEncoder`'s per-key reflection: for the bodies sent once per
/// reply (`MessageCreate`).
public protocol HandWrittenJSON: Encodable {
    func writeJSON(to writer: inout JSONWriter) throws
}

extension HandWrittenJSON {
    public func jsonData() throws -> Data {
        var writer = JSONWriter()
        try writeJSON(to: &writer)
        return Data(writer.bytes)
    }
}

/// Appends JSON text: objects whose members the caller gives in sorted order, strings escaped
/// as `JSONEncoder` escapes them.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []
    /// Whether the current object or array already has a member (a comma goes before the next).
    private var hasMember: [Bool] = []

    public init() { bytes.reserveCapacity(256) }

    public mutating func object(_ members: (inout JSONWriter) throws -> Void) rethrows {
        open(UInt8(ascii: "{"))
        try members(&self)
        close(UInt8(ascii: "}"))
    }

    public mutating func array<S: Sequence>(_ elements: S, _ element: (inout JSONWriter, S.Element) throws -> Void) rethrows {
        open(UInt8(ascii: "["))
        for item in elements {
            separate()
            try element(&self, item)
        }
        close(UInt8(ascii: "]"))
    }

    /// A member's name; its value is written next.
    public mutating func key(_ name: String) {
        separate()
        string(name)
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func string(_ value: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x08: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "b")]
            case 0x0C: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "f")]
            case 0..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                bytes += [UInt8(ascii: "\\"), UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0x0F)]]
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    public mutating func bool(_ value: Bool) {
        bytes += value ? Array("true".utf8) : Array("false".utf8)
    }

    public mutating func int(_ value: Int) {
        bytes += Array(String(value).utf8)
    }

    /// A value already encoded as JSON.
    public mutating func raw(_ json: Data) {
        bytes += json
    }

    /// A value `JSON.encode` writes (the rare parts: components).
    public mutating func encoded(_ value: some Encodable) throws {
        raw(try JSON.encode(value))
    }

    private mutating func open(_ bracket: UInt8) {
        bytes.append(bracket)
        hasMember.append(false)
    }

    private mutating func close(_ bracket: UInt8) {
        hasMember.removeLast()
        bytes.append(bracket)
    }

    private mutating func separate() {
        guard let last = hasMember.indices.last else { return }
        if hasMember[last] { bytes.append(UInt8(ascii: ",")) } else { hasMember[last] = true }
    }
}
