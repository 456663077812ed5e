import Crypto
import Foundation

/// The tags the connector's signers append (ctx blocks, component ids): a prefix of
/// HMAC-SHA256 under the signing key, base64url without padding, compared in constant time.
struct HMACTag: Sendable {
    private let keyBytes: Data
    /// Bytes of the MAC kept in the tag.
    private let length: Int

    init(key: String, length: Int) {
        self.keyBytes = Data(key.utf8)
        self.length = length
    }

    func tag(_ message: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data(message.utf8), using: SymmetricKey(data: keyBytes))
        return Self.base64URL(Array(mac.prefix(length)))
    }

    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Base64url (RFC 4648 section 5) without padding, written out directly: this runs for every
    /// message the Dispatcher delivers.
    static func base64URL(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var index = 0
        while index + 3 <= bytes.count {
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
            out += [alphabet[Int(chunk >> 18 & 63)], alphabet[Int(chunk >> 12 & 63)], alphabet[Int(chunk >> 6 & 63)], alphabet[Int(chunk & 63)]]
            index += 3
        }
        switch bytes.count - index {
        case 1:
            let chunk = UInt32(bytes[index]) << 16
            out += [alphabet[Int(chunk >> 18 & 63)], alphabet[Int(chunk >> 12 & 63)]]
        case 2:
            let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
            out += [alphabet[Int(chunk >> 18 & 63)], alphabet[Int(chunk >> 12 & 63)], alphabet[Int(chunk >> 6 & 63)]]
        default:
            break
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Whether `presented` is the tag of `message`, without an early exit on the first difference.
    func matches(_ presented: Substring, for message: String) -> Bool {
        let presented = Array(presented.utf8)
        let expected = Array(tag(message).utf8)
        guard presented.count == expected.count else { return false }
        var difference: UInt8 = 0
        for (a, b) in zip(presented, expected) { difference |= a ^ b }
        return difference == 0
    }
}
