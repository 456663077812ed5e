import Foundation
import Logging
import IngestCore
import Shared

/// The floor for Ingest's inbound throughput and CPU (`ConnectorBench --ingest-floor`, started by
/// the benchmark as a process of its own): the least any gateway reader does with a message, and
/// nothing of the connector's. It receives each frame (the same WebSocket client and frame
/// reading as Ingest), and appends each `MESSAGE_CREATE` payload as it came to one stream: no
/// decoding, no trigger policy, no pending context, no seen-marker.
enum IngestFloor {
    static let stream = "bench:floor"

    /// Session state kept in memory: the floor never resumes.
    struct NoStore: GatewaySessionStore {
        func load() async -> GatewaySession.Resumable? { nil }
        func save(_ resumable: GatewaySession.Resumable?) async {}
    }

    static func run(environment: [String: String]) async -> Never {
        guard let gatewayURL = environment["FLOOR_GATEWAY_URL"], let token = environment["FLOOR_TOKEN"],
              let busURL = environment["FLOOR_BUS_URL"].flatMap({ try? RedisURL(parsing: $0) }) else {
            FileHandle.standardError.write(Data("--ingest-floor needs FLOOR_GATEWAY_URL, FLOOR_TOKEN and FLOOR_BUS_URL\n".utf8))
            exit(64)
        }
        var logger = Logger(label: "ingest-floor")
        logger.logLevel = .warning
        let redis = RedisClient(url: busURL, name: "floor")
        let gateway = GatewayClient(token: token, gatewayURL: gatewayURL, store: NoStore(), resumable: nil, logger: logger, onBatch: { events in
            // One XADD per message, as a gateway reader that does nothing more would.
            for event in events where event.name == "MESSAGE_CREATE" {
                _ = try? await redis.run(XADD(stream, fields: StreamFields(bytes: [("d", RedisBytes(Array(event.data)))])))
            }
            return events.count
        })
        do {
            try await gateway.run()
        } catch {
            FileHandle.standardError.write(Data("ingest floor: \(error)\n".utf8))
        }
        exit(1)
    }
}
