import Foundation
import Logging
import ServiceLifecycle
import UnixSignals

/// The shared entry point of every executable: parses `--check`, `--healthcheck` and `--help`,
/// loads and validates the configuration, sets up logging (`LOG_FORMAT`) and, with
/// `METRICS_PORT`, metrics and the `/metrics`, `/healthz`, `/readyz` endpoint, and runs the
/// process's services in one `ServiceGroup` until SIGTERM or SIGINT.
///
/// SIGTERM is a graceful shutdown, not a cancellation: each service stops taking new work and
/// finishes what it has in hand (a reply being posted is posted and acknowledged). Loops that
/// can stop at once say so with `cancelWhenGracefulShutdown`. Work still running after
/// `gracefulShutdownLimit` is cancelled, before a container runtime's SIGKILL (10 s by default).
public enum ServiceMain {
    public struct Options: Sendable {
        public var name: String
        public var summary: String
        /// Ingest and Replier talk to Discord and need the token (unless `DRY_RUN=1`).
        public var needsDiscordToken: Bool

        public init(name: String, summary: String, needsDiscordToken: Bool) {
            self.name = name
            self.summary = summary
            self.needsDiscordToken = needsDiscordToken
        }
    }

    /// How long a graceful shutdown may take before what is left is cancelled.
    public static let gracefulShutdownLimit: Duration = .seconds(8)

    /// Runs the services `make` returns for the configuration.
    public static func run(_ options: Options, services make: @escaping @Sendable (ConnectorConfig, Logger) throws -> [any Service]) async -> Never {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments.contains("--help") || arguments.contains("-h") {
            print("""
            \(options.name): \(options.summary)

            Usage: \(options.name) [--check | --healthcheck]
              --check         validate the configuration, print it with secrets redacted, and
                              exit (non-zero on error); touches no network.
              --healthcheck   GET the running service's own /healthz (METRICS_PORT) and exit 0
                              on 200, 1 otherwise: a health check for images without curl.

            Configuration comes from the environment and a .env file in the working directory;
            see the README's configuration table.
            """)
            exit(0)
        }
        if let unknown = arguments.first(where: { $0 != "--check" && $0 != "--healthcheck" }) {
            FileHandle.standardError.write(Data("\(options.name): unknown argument '\(unknown)' (try --help)\n".utf8))
            exit(2)
        }

        let config: ConnectorConfig
        do {
            config = try ConnectorConfig.load()
            if options.needsDiscordToken { _ = try config.requireDiscordToken() }
        } catch {
            FileHandle.standardError.write(Data("\(options.name): \(error)\n".utf8))
            exit(2)
        }

        if arguments.contains("--check") {
            print("\(options.name): configuration OK")
            print(config.redactedDescription)
            exit(0)
        }
        if arguments.contains("--healthcheck") {
            let (code, message) = await ObservabilityServer.probe(config: config)
            print("\(options.name): \(message)")
            exit(code)
        }

        let level = Logger.Level(rawValue: config.logLevel) ?? .info
        switch config.logFormat {
        case .text:
            LoggingSystem.bootstrap { label in
                var handler = StreamLogHandler.standardError(label: label)
                handler.logLevel = level
                return handler
            }
        case .json:
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
        }
        let logger = Logger(label: options.name)

        // Metrics are recorded only when something can read them; otherwise counters are no-ops.
        var observability: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let port = config.metricsPort {
            ConnectorMetrics.bootstrap(service: options.name)
            do {
                let server = try ObservabilityServer.make(config: config, port: port, registry: ConnectorMetrics.registry, logger: logger)
                // First in the group, so it is shut down last: /metrics stays up while the service drains.
                observability.append(.init(service: server))
            } catch {
                logger.critical("cannot set up the HTTP endpoint on port \(port): \(error)")
                exit(1)
            }
        }

        let services: [any Service]
        do {
            services = try make(config, logger)
        } catch {
            logger.critical("cannot start: \(error)")
            exit(2)
        }
        let heartbeat = HeartbeatService(
            redis: RedisClient(config: config, name: "heartbeat"),
            key: BusKeys(config: config).heartbeats,
            field: "\(options.name)@\(ProcessInfo.processInfo.hostName):\(getpid())"
        )
        var configuration = ServiceGroupConfiguration(
            // A service that ends (or fails) stops the process: a half-running stage is worse
            // than a restart. Services shut down in reverse order: the heartbeat first, the
            // metrics endpoint last.
            services: observability + services.map {
                .init(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup)
            } + [.init(service: heartbeat)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        configuration.maximumGracefulShutdownDuration = gracefulShutdownLimit
        let group = ServiceGroup(configuration: configuration)
        do {
            try await group.run()
            logger.info("stopped")
            exit(0)
        } catch {
            logger.critical("exiting: \(error)")
            exit(1)
        }
    }
}

/// Writes this process's heartbeat every 5 seconds, for `connector status`; removes it on a
/// clean stop. Best effort: a Redis outage is reported by the service itself.
private struct HeartbeatService: Service, CustomStringConvertible {
    let redis: RedisClient
    let key: String
    let field: String
    var description: String { "Heartbeat" }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                _ = try? await redis.run(HSET(key, fields: [(field, String(Int(Date().timeIntervalSince1970 * 1000)))]))
                try? await Task.sleep(for: .seconds(5))
            }
        }
        _ = try? await redis.run(HDEL(key, fields: [field]))
    }
}
