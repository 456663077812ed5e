import Crypto
import Dispatch
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// The application's Ed25519 key pair, as Discord holds it: it signs what Discord POSTs to the
/// Interactions Endpoint URL, and the public half is the application's `verify_key`.
struct InteractionSigner: Sendable {
    /// The 32-byte private key; kept as bytes, since swift-crypto's key type is not `Sendable`.
    private let seed: [UInt8]
    /// The public key, hex: the application's `verify_key`.
    let verifyKey: String

    /// - Parameter seed: the 32-byte private key; `nil` makes a fresh one.
    init(seed: [UInt8]?) throws {
        let key = try seed.map { try Curve25519.Signing.PrivateKey(rawRepresentation: $0) } ?? Curve25519.Signing.PrivateKey()
        self.seed = Array(key.rawRepresentation)
        verifyKey = Self.hex(key.publicKey.rawRepresentation)
    }

    /// `X-Signature-Ed25519`: the signature of the timestamp followed by the body, in hex.
    func signature(timestamp: String, body: [UInt8]) -> String {
        // Neither step fails for the 32-byte seed `init` checked.
        guard let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed),
            let signature = try? key.signature(for: Array(timestamp.utf8) + body)
        else { return "" }
        return Self.hex(signature)
    }

    static func hex(_ bytes: some Sequence<UInt8>) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }
}

/// Sends one HTTP delivery, as Discord does: a signed POST that must be answered within
/// Discord's 3 s; the answer is the interaction's callback.
enum EndpointDelivery {
    static let userAgent = "Discord-Interactions/1.0 (+https://discord.com)"

    private static let session: URLSession = {
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = InteractionState.callbackDeadline
        configuration.timeoutIntervalForResource = InteractionState.callbackDeadline
        configuration.httpMaximumConnectionsPerHost = 4
        return URLSession(configuration: configuration)
    }()

    /// The endpoint's answer, or status 0 when none came within `timeout` (or the connection failed).
    static func send(_ outgoing: OutgoingInteraction, timeout: TimeInterval = InteractionState.callbackDeadline) async -> EndpointAnswer {
        let start = Date()
        @Sendable func elapsed() -> Int64 { Date().microsecondsSince1970 - start.microsecondsSince1970 }
        guard let url = URL(string: outgoing.url) else {
            return EndpointAnswer(status: 0, body: nil, latencyUs: 0)
        }
        var request = URLRequest(url: url, cachePolicy: .reloadIgnoringLocalCacheData, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.httpBody = Data(outgoing.body)
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        request.setValue(outgoing.signature, forHTTPHeaderField: "X-Signature-Ed25519")
        request.setValue(outgoing.timestamp, forHTTPHeaderField: "X-Signature-Timestamp")
        request.setValue(userAgent, forHTTPHeaderField: "User-Agent")

        return await withCheckedContinuation { continuation in
            let once = ResumeOnce(continuation)
            let task = session.dataTask(with: request) { data, response, error in
                let status = error == nil ? (response as? HTTPURLResponse)?.statusCode ?? 0 : 0
                once.resume(EndpointAnswer(status: status, body: status == 0 ? nil : data.map(Array.init), latencyUs: elapsed()))
            }
            task.resume()
            // The hard bound: URLSession's own timeout is an idle timeout.
            DispatchQueue.global().asyncAfter(deadline: .now() + timeout) {
                once.resume(EndpointAnswer(status: 0, body: nil, latencyUs: elapsed()))
                task.cancel()
            }
        }
    }

    /// Resumes a continuation with whichever result comes first: the answer or the deadline.
    /// A lock rather than `Mutex`, which needs macOS 15.
    private final class ResumeOnce: @unchecked Sendable {
        private let lock = NSLock()
        private var continuation: CheckedContinuation<EndpointAnswer, Never>?

        init(_ continuation: CheckedContinuation<EndpointAnswer, Never>) {
            self.continuation = continuation
        }

        func resume(_ answer: EndpointAnswer) {
            lock.lock()
            let pending = continuation
            continuation = nil
            lock.unlock()
            pending?.resume(returning: answer)
        }
    }
}
