import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Shared

/// The Interactions Endpoint (CONTRACT section 7): an HTTP service that takes the interactions
/// Discord POSTs to the application's Interactions Endpoint URL, for deployments with no gateway
/// session. `POST /interactions` (or `/`) is the endpoint; `GET /healthz` is its liveness.
public struct InteractionsService: Service, CustomStringConvertible {
    let config: ConnectorConfig
    let logger: Logger
    public var description: String { "InteractionsEndpoint" }

    public init(config: ConnectorConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    /// The configuration this service needs, checked before anything starts.
    public static func validate(_ config: ConnectorConfig) throws(ConfigError) {
        guard config.interactionsPort != nil else {
            throw ConfigError(variable: "INTERACTIONS_PORT", problem: "required by the Interactions service: the port Discord's requests arrive on (behind your HTTPS proxy)")
        }
        guard config.discordPublicKey != nil else {
            throw ConfigError(variable: "DISCORD_PUBLIC_KEY", problem: "required by the Interactions service: the application's public key (Developer Portal, General Information)")
        }
    }

    public func run() async throws {
        try Self.validate(config)
        let redis = RedisClient(config: config, name: "interactions-redis")
        let keys = BusKeys(config: config)
        // The key that signs ctx blocks also signs component ids: clicks are verified with it.
        guard let signingKey = try await CtxSigner.resolveKey(config: config, redis: redis, keys: keys, logger: logger) else { return }
        let endpoint = InteractionEndpoint(
            signature: try InteractionSignature(publicKeyHex: config.discordPublicKey ?? ""),
            intake: InteractionIntake(config: config, signingKey: signingKey),
            acceptor: InboundAcceptor(redis: redis, config: config, logger: logger),
            ledger: InteractionLedger(stats: BusStats(redis: redis, keys: keys)),
            logger: logger
        )
        let port = config.interactionsPort ?? 0
        let host = config.interactionsHost
        let logger = logger
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        let server = try HTTPServerBuilder.http1().buildServer(
            configuration: .init(address: .hostname(host, port: port)),
            eventLoopGroup: MultiThreadedEventLoopGroup.singleton,
            logger: serverLogger,
            responder: { request, writer, _ in
                let response = await Self.respond(to: request, endpoint: endpoint)
                try await writer.write(response: response.head, body: response.body)
            },
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.notice("Interactions Endpoint on http://\(host.contains(":") ? "[\(host)]" : host):\(bound)/interactions", metadata: ["interactions_port": "\(bound)"])
            }
        )
        try await server.run()
    }

    static func respond(to request: Request, endpoint: InteractionEndpoint) async -> Response {
        switch (request.method, request.uri.path) {
        case (.get, "/healthz"):
            return reply(.init(status: 200, body: Data("ok\n".utf8)), contentType: "text/plain; charset=utf-8")
        case (.post, "/interactions"), (.post, "/"):
            var body = Data()
            do {
                for try await chunk in request.body {
                    body.append(contentsOf: chunk.readableBytesView)
                    if body.count > InteractionEndpoint.maxBodyBytes {
                        return reply(InteractionEndpoint.error(413, "request body over \(InteractionEndpoint.maxBodyBytes) bytes"))
                    }
                }
            } catch {
                return reply(InteractionEndpoint.error(400, "cannot read the request body"))
            }
            let answer = await endpoint.handle(
                body: body,
                signatureHeader: request.headers[HTTPField.Name("X-Signature-Ed25519")!],
                timestampHeader: request.headers[HTTPField.Name("X-Signature-Timestamp")!]
            )
            return reply(answer)
        case (_, "/interactions"), (_, "/"):
            return reply(InteractionEndpoint.error(405, "POST interactions here"))
        default:
            return reply(InteractionEndpoint.error(404, "not found; Discord's requests go to POST /interactions"))
        }
    }

    private static func reply(_ answer: InteractionEndpoint.Reply, contentType: String = "application/json") -> Response {
        Response(
            status: HTTPResponse.Status(code: answer.status),
            headers: [.contentType: contentType],
            body: .init(byteBuffer: ByteBuffer(bytes: answer.body))
        )
    }
}
