import Crypto
import Foundation

/// Signs and verifies ctx block tokens: `<request_id>.<tag>`, where the tag is the first
/// 16 bytes of HMAC-SHA256(key, "ctx1:" + request_id), base64url without padding.
///
/// A block only routes a reply when this connector signed it, so text typed by a human or
/// invented by an agent cannot steer a reply into another conversation.
public struct CtxSigner: Sendable {
    private let keyBytes: Data

    public init(key: String) {
        self.keyBytes = Data(key.utf8)
    }

    /// The single line `[ctx:<token>]` for a request.
    public func block(for requestID: String) -> String {
        "[ctx:\(requestID).\(tag(for: requestID))]"
    }

    /// The request id inside a token, when the token carries this connector's signature.
    public func verify(_ token: String) -> String? {
        guard let dot = token.lastIndex(of: ".") else { return nil }
        let requestID = String(token[..<dot]).lowercased()
        let presented = Data(token[token.index(after: dot)...].utf8)
        let expected = Data(tag(for: requestID).utf8)
        guard presented.count == expected.count else { return nil }
        // Constant-time comparison: no early exit on the first differing byte.
        var difference: UInt8 = 0
        for (a, b) in zip(presented, expected) { difference |= a ^ b }
        return difference == 0 ? requestID : nil
    }

    private func tag(for requestID: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("ctx1:\(requestID)".utf8), using: SymmetricKey(data: keyBytes))
        return Data(mac.prefix(16)).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    /// A new random key, for development when `CTX_SIGNING_KEY` is not set.
    public static func generateKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { hexString($0) }
    }
}
