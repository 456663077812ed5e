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
        return Data(mac.prefix(length)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
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
