import Crypto

/// Lower-case hex of a byte sequence.
public func hexString<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes {
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0f)])
    }
    return String(decoding: out, as: UTF8.self)
}

/// Lower-case hex of the SHA-256 of a string's UTF-8 bytes (Redis ACL password hashes, say).
public func sha256Hex(_ text: String) -> String {
    hexString(SHA256.hash(data: Array(text.utf8)))
}
