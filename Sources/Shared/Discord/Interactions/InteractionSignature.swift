import Crypto
import Foundation

/// Discord signs every interaction it POSTs to an Interactions Endpoint: `X-Signature-Ed25519` is
/// the hex Ed25519 signature, with the application's public key, of `X-Signature-Timestamp`
/// followed by the raw body. An endpoint must refuse (401) whatever does not verify; Discord
/// itself sends forged requests to check that it does.
public struct InteractionSignature: Sendable {
    /// The key's 32 bytes (CryptoKit's key type is not Sendable; a key is cheap to rebuild).
    private let keyBytes: Data

    /// - Parameter publicKeyHex: `DISCORD_PUBLIC_KEY`, the Developer Portal's 64 hex characters.
    public init(publicKeyHex: String) throws(ConfigError) {
        guard let bytes = Hex.decode(publicKeyHex), bytes.count == 32,
              (try? Curve25519.Signing.PublicKey(rawRepresentation: bytes)) != nil else {
            throw ConfigError(variable: "DISCORD_PUBLIC_KEY", problem: "expected the application's public key: 64 hex characters (Developer Portal, General Information)")
        }
        self.keyBytes = Data(bytes)
    }

    public enum Refusal: Error, Equatable, CustomStringConvertible {
        case missingHeaders
        case malformedSignature
        case malformedTimestamp
        case badSignature
        /// The timestamp is too far from now: a replayed request.
        case stale(seconds: Int)

        public var description: String {
            switch self {
            case .missingHeaders: "no X-Signature-Ed25519 / X-Signature-Timestamp header"
            case .malformedSignature: "X-Signature-Ed25519 is not 64 bytes of hex"
            case .malformedTimestamp: "X-Signature-Timestamp is not a Unix time in seconds"
            case .badSignature: "the signature does not verify with DISCORD_PUBLIC_KEY"
            case .stale(let seconds): "X-Signature-Timestamp is \(seconds) s from now"
            }
        }
    }

    /// Checks one request. `maxSkew` bounds how old (or early) its timestamp may be, so a
    /// captured request cannot be replayed later.
    public func verify(signature: String?, timestamp: String?, body: some DataProtocol, now: Date = Date(), maxSkew: TimeInterval = 300) throws(Refusal) {
        guard let signature, let timestamp, !timestamp.isEmpty else { throw .missingHeaders }
        guard let signatureBytes = Hex.decode(signature), signatureBytes.count == 64 else { throw .malformedSignature }
        var message = Data(timestamp.utf8)
        message.append(contentsOf: body)
        guard isValid(signature: signatureBytes, message: message) else { throw .badSignature }
        // Checked after the signature, so the answer says nothing about timestamps to a forger.
        guard let seconds = TimeInterval(timestamp), seconds.isFinite else { throw .malformedTimestamp }
        if abs(now.timeIntervalSince1970 - seconds) > maxSkew {
            throw .stale(seconds: Int(now.timeIntervalSince1970 - seconds))
        }
    }

    /// Plain Ed25519 (RFC 8032) verification of `signature` over `message`.
    public func isValid(signature: [UInt8], message: Data) -> Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes) else { return false }
        return key.isValidSignature(signature, for: message)
    }
}
