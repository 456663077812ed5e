import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// A stand-in for an application's Interactions Endpoint, on 127.0.0.1: it records what the
/// simulator POSTs to it and answers as the test tells it (a JSON body, or nothing for a while).
public final class InteractionsEndpointStub: Sendable {
    /// One request as it arrived.
    public struct Received: Sendable {
        public var method: String
        public var path: String
        public var headers: [String: String]
        public var body: Data

        /// A header by name, case-insensitively.
        public func header(_ name: String) -> String? {
            headers.first { $0.key.lowercased() == name.lowercased() }?.value
        }
    }

    public enum Reply: Sendable {
        case json(status: Int, String)
        /// No answer for this long (then a 204), to outlast Discord's 3 s deadline.
        case silence(Duration)
    }

    private actor State {
        var port: Int?
        var received: [Received] = []
        var stopping = false

        func setPort(_ port: Int) { self.port = port }
        func append(_ request: Received) { received.append(request) }
        func stop() { stopping = true }
    }

    private let state = State()
    private let group: ServiceGroup
    private let task: Task<Void, any Error>
    public let port: Int

    /// The URL to give the simulator (`PUT /_sim/interactions/endpoint`).
    public var url: String { "http://127.0.0.1:\(port)/interactions" }

    public init(reply: @escaping @Sendable (Received) async -> Reply) async throws {
        let state = state
        var logger = Logger(label: "interactions-endpoint-stub")
        logger.logLevel = .warning
        let server = try HTTPServerBuilder.http1().buildServer(
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: logger,
            responder: { request, writer, _ in
                var body = Data()
                for try await chunk in request.body {
                    body.append(contentsOf: chunk.readableBytesView)
                    if body.count > 1 << 20 { break }
                }
                var headers: [String: String] = [:]
                for field in request.headers { headers[field.name.canonicalName] = field.value }
                let received = Received(method: request.method.rawValue, path: request.uri.path, headers: headers, body: body)
                await state.append(received)
                var status = 204
                var text = ""
                switch await reply(received) {
                case .json(let code, let json):
                    (status, text) = (code, json)
                case .silence(let duration):
                    // Polled, so that `stop()` need not wait the whole silence out.
                    let deadline = ContinuousClock.now + duration
                    while ContinuousClock.now < deadline, await !state.stopping {
                        try? await Task.sleep(for: .milliseconds(50))
                    }
                }
                let response = Response(
                    status: HTTPResponse.Status(code: status),
                    headers: [.contentType: "application/json", .connection: "close"],
                    body: .init(byteBuffer: ByteBuffer(string: text))
                )
                try await writer.write(response: response.head, body: response.body)
            },
            onServerRunning: { channel in
                await state.setPort(channel.localAddress?.port ?? 0)
            }
        )
        let group = ServiceGroup(configuration: .init(services: [server], logger: logger))
        self.group = group
        task = Task { try await group.run() }
        let bound = await eventually(timeout: .seconds(10)) { await state.port }
        guard let bound, bound > 0 else {
            task.cancel()
            throw TestSupportError("the interactions endpoint stub did not start")
        }
        port = bound
    }

    /// Every request so far, in arrival order.
    public func received() async -> [Received] {
        await state.received
    }

    /// Shuts the server down, waiting at most 5 s for open requests before cancelling it.
    public func stop() async {
        await state.stop()
        await group.triggerGracefulShutdown()
        let task = task
        let watchdog = Task {
            try? await Task.sleep(for: .seconds(5))
            task.cancel()
        }
        _ = await task.result
        watchdog.cancel()
    }
}
