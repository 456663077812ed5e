import Crypto
import Foundation

/// Signs and verifies ctx block tokens: `<request_id>.<tag>`, where the tag is the first
/// 16 bytes of HMAC-SHA256(key, "ctx1:" + request_id), base64url without padding.
///
/// A block only routes a reply when this connector signed it, so text typed by a human or
/// invented by an agent cannot steer a reply into another conversation.
public struct CtxSigner: Sendable {
    private let mac: HMACTag

    public init(key: String) {
        self.mac = HMACTag(key: key, length: 16)
    }

    /// The single line `[ctx:<token>]` for a request.
    public func block(for requestID: String) -> String {
        "[ctx:\(requestID).\(tag(for: requestID))]"
    }

    /// The request id inside a token, when the token carries this connector's signature.
    public func verify(_ token: String) -> String? {
        guard let dot = token.lastIndex(of: ".") else { return nil }
        let requestID = String(token[..<dot]).lowercased()
        return mac.matches(token[token.index(after: dot)...], for: "ctx1:\(requestID)") ? requestID : nil
    }

    private func tag(for requestID: String) -> String {
        mac.tag("ctx1:\(requestID)")
    }

    /// A new random key, for development when `CTX_SIGNING_KEY` is not set.
    public static func generateKey() -> String {
        SymmetricKey(size: .bits256).withUnsafeBytes { hexString($0) }
    }
}
