import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle

/// The HTTP endpoint of a service when `METRICS_PORT` is set (docs/OBSERVABILITY.md):
///
/// - `GET /metrics`: the counters in Prometheus' text format (0.0.4);
/// - `GET /healthz`: 200 `ok` while the process runs (liveness);
/// - `GET /readyz`: 200 `ready` when Redis answers PING within a second, else 503 with the
///   reason (readiness). Ingest is ready whether it holds a gateway session or stands by: a
///   standby is working as designed, and is the copy that takes over.
///
/// It runs as one more `Service` in the process's `ServiceGroup`, so it stops with the others.
public enum ObservabilityServer {
    public static let paths = ["/metrics", "/healthz", "/readyz"]

    /// The server, to be run in the service group. HummingbirdCore's HTTP/1.1 server on an
    /// event loop of its own, with a responder for the three paths: no router, no date cache.
    public static func make(config: ConnectorConfig, port: Int, registry: PrometheusCollectorRegistry, logger: Logger) throws -> any Service {
        let redis = RedisClient(url: config.busURL, user: config.connectorAgentName, password: config.busToken, timeout: .seconds(1), name: "readiness")
        let host = config.metricsHost
        // HummingbirdCore's own lines stay quiet (a failure to bind is thrown); ours says where it listens.
        var serverLogger = logger
        serverLogger.logLevel = max(logger.logLevel, .warning)
        let server = try HTTPServerBuilder.http1().buildServer(
            configuration: .init(address: .hostname(host, port: port)),
            eventLoopGroup: eventLoop,
            logger: serverLogger,
            responder: { request, writer, _ in
                let response = await respond(to: request, registry: registry, redis: redis)
                try await writer.write(response: response.head, body: response.body)
            },
            onServerRunning: { channel in
                let bound = channel.localAddress?.port ?? port
                logger.info("serving \(paths.joined(separator: ", ")) on http://\(host.contains(":") ? "[\(host)]" : host):\(bound)", metadata: ["metrics_port": "\(bound)"])
            }
        )
        return Named(base: server, description: "ObservabilityServer")
    }

    /// One thread is plenty for a scrape every few seconds.
    private static let eventLoop = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    static func respond(to request: Request, registry: PrometheusCollectorRegistry, redis: RedisClient) async -> Response {
        guard request.method == .get else {
            return text(.methodNotAllowed, "only GET\n")
        }
        switch request.uri.path {
        case "/metrics":
            return Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(bytes: registry.emitToBuffer()))
            )
        case "/healthz":
            return text(.ok, "ok\n")
        case "/readyz":
            if let problem = await readinessProblem(redis) { return text(.serviceUnavailable, "not ready: \(problem)\n") }
            return text(.ok, "ready\n")
        default:
            return text(.notFound, "not found; try \(paths.joined(separator: ", "))\n")
        }
    }

    private static func text(_ status: HTTPTypes.HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }

    /// ServiceLifecycle logs services by `description`; this keeps the server's out of the logs.
    struct Named: Service, CustomStringConvertible {
        let base: any Service
        let description: String
        func run() async throws { try await base.run() }
    }

    /// Nil when the service is ready, else why not.
    static func readinessProblem(_ redis: RedisClient) async -> String? {
        do {
            let reply = try await redis.run(PING())
            return reply == "PONG" ? nil : "Redis answered PING with \(reply)"
        } catch {
            await redis.disconnect()
            return "Redis does not answer PING: \(error)"
        }
    }

    /// `--healthcheck`: GETs this process's own `/healthz` (for Docker's HEALTHCHECK, whose
    /// image has no curl). Returns the exit code and a line to print.
    public static func probe(config: ConnectorConfig, path: String = "/healthz") async -> (code: Int32, message: String) {
        guard let port = config.metricsPort, port > 0 else {
            return (1, "METRICS_PORT is not set (or is 0): there is no HTTP endpoint to check")
        }
        let host: String
        switch config.metricsHost {
        case "0.0.0.0", "": host = "127.0.0.1"
        case "::", "[::]": host = "[::1]"
        case let named where named.contains(":") && !named.hasPrefix("["): host = "[\(named)]"
        case let named: host = named
        }
        let url = "http://\(host):\(port)\(path)"
        do {
            let response = try await HTTPClient(timeout: .seconds(3), name: "healthcheck").request(method: "GET", url: url)
            let body = response.bodyText.trimmingCharacters(in: .whitespacesAndNewlines)
            return (response.status == 200 ? 0 : 1, "\(url): \(response.status) \(body)")
        } catch {
            return (1, "\(url): \(error)")
        }
    }
}
