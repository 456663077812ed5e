import Foundation
import Shared

/// A Redis Cluster of three primaries (and optionally a replica of each) on loopback for one
/// test, made with `redis-cli --cluster create`; every process is stopped by the pid it was
/// started with.
public final class RedisClusterGroup: ServerGroup, @unchecked Sendable {
    public let directory: String
    public private(set) var nodes: [(port: Int, process: ChildProcess)] = []

    public var url: String { "redis+cluster://" + nodes.map { "127.0.0.1:\($0.port)" }.joined(separator: ",") }

    /// - Parameters:
    ///   - size: primaries.
    ///   - replicas: replicas of each primary (`--cluster-replicas`).
    public init(directory: String, size: Int = 3, replicas: Int = 0) async throws {
        self.directory = directory
        guard let server = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }),
              let cli = ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestSupportError("redis-server and redis-cli are needed (apt-get install redis-server)")
        }
        do {
            for index in 0..<(size * (1 + replicas)) {
                let port = try freeLoopbackPort()
                // The cluster bus port is port + 10000 unless set: often past 65535 for an ephemeral port.
                let busPort = try freeLoopbackPort()
                let data = directory + "/cluster-\(index)"
                try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
                nodes.append((port, try ChildProcess(
                    name: "cluster-\(index)", executable: server,
                    arguments: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", data,
                                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "5000",
                                "--cluster-port", String(busPort)],
                    environment: [:], logPath: data + "/redis.log"
                )))
            }
            for node in nodes {
                let client = try client(port: node.port)
                let up = await eventually(timeout: .seconds(10)) { try? await client.send("PING").string }
                guard up == "PONG" else { throw TestSupportError("cluster node \(node.port) did not start") }
            }
            let create = try await runToCompletion(cli, arguments: ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" } + ["--cluster-replicas", String(replicas), "--cluster-yes"], environment: [:], timeout: .seconds(30))
            guard create.code == 0 else { throw TestSupportError("redis-cli --cluster create failed: \(create.output.suffix(1500))") }
            for node in nodes {
                let client = try client(port: node.port)
                let ok = await eventually(timeout: .seconds(20)) { () -> Bool? in
                    let info = (try? await client.send("CLUSTER", "INFO").string) ?? ""
                    return info.contains("cluster_state:ok") && info.contains("cluster_slots_ok:16384") ? true : nil
                }
                guard ok == true else { throw TestSupportError("the cluster did not become ok on \(node.port)") }
            }
            // Replicas in sync with their primaries (ROLE: slave, host, port, "connected", offset).
            for node in nodes where replicas > 0 {
                let client = try client(port: node.port)
                let synced = await eventually(timeout: .seconds(20)) { () -> Bool? in
                    guard let role = try? await client.send("ROLE").array else { return nil }
                    if role.first?.string == "master" { return true }
                    return role.count > 3 && role[3].string == "connected" ? true : nil
                }
                guard synced == true else { throw TestSupportError("replica \(node.port) did not sync") }
            }
        } catch {
            await stop()
            throw error
        }
    }

    /// Runs `body` against a fresh group in a scratch directory and stops every process
    /// afterwards, pass or fail; a failure is rethrown with the servers' logs attached.
    public static func with(label: String, replicas: Int = 0, _ body: (RedisClusterGroup) async throws -> Void) async throws {
        try await withScratch(label: label, make: { try await RedisClusterGroup(directory: $0, replicas: replicas) }, body)
    }

    /// The nodes' logs, for a failure message.
    public var logs: String {
        nodes.map { "=== \($0.process.name) ===\n\($0.process.log.suffix(1500))" }.joined(separator: "\n")
    }

    /// A plain connection to one node (no redirection following).
    public func client(port: Int) throws -> RedisClient {
        RedisClient(url: try RedisURL(parsing: "redis://127.0.0.1:\(port)"), timeout: .seconds(5), name: "cluster-node")
    }

    /// The node id (`CLUSTER MYID`) of the node on `port`.
    public func nodeID(port: Int) async throws -> String {
        guard let id = try await client(port: port).send("CLUSTER", "MYID").string else { throw TestSupportError("no CLUSTER MYID from \(port)") }
        return id
    }

    /// The port of the node that owns `slot` now.
    public func owner(of slot: Int) async throws -> Int {
        let slots = try await client(port: nodes[0].port).send("CLUSTER", "SLOTS").array ?? []
        for range in slots {
            guard let items = range.array, items.count >= 3, let start = items[0].int, let end = items[1].int,
                  (start...end).contains(slot), let port = items[2].array?[1].int else { continue }
            return port
        }
        throw TestSupportError("slot \(slot) has no owner")
    }

    /// Moves `slot` from its owner to the node on `port`, the way `redis-cli --cluster reshard`
    /// does: IMPORTING / MIGRATING, `MIGRATE` of its keys in batches of `batch` with `pause`
    /// between them (so traffic meets the migration half-way: ASK), then the new owner everywhere.
    /// `hold`: how long the slot stays half-moved (its keys on the target, the source still named
    /// its owner) before the new owner is announced: clients meet ASK, then MOVED.
    public func migrate(slot: Int, to port: Int, batch: Int = 10, pause: Duration = .milliseconds(20), hold: Duration = .zero) async throws {
        let source = try await owner(of: slot)
        guard source != port else { return }
        let sourceID = try await nodeID(port: source), targetID = try await nodeID(port: port)
        let sourceClient = try client(port: source), targetClient = try client(port: port)
        try await targetClient.send("CLUSTER", "SETSLOT", String(slot), "IMPORTING", sourceID)
        try await sourceClient.send("CLUSTER", "SETSLOT", String(slot), "MIGRATING", targetID)
        while true {
            let keys = (try await sourceClient.send("CLUSTER", "GETKEYSINSLOT", String(slot), String(batch)).array ?? []).compactMap(\.string)
            if keys.isEmpty { break }
            try await sourceClient.send(["MIGRATE", "127.0.0.1", String(port), "", "0", "5000", "KEYS"] + keys)
            try await Task.sleep(for: pause)
        }
        try await Task.sleep(for: hold)
        for node in nodes {
            try await client(port: node.port).send("CLUSTER", "SETSLOT", String(slot), "NODE", targetID)
        }
    }

    /// The port of a replica's primary (`ROLE`); nil for a primary.
    public func primary(ofReplica port: Int) async throws -> Int? {
        let role = try await client(port: port).send("ROLE").array ?? []
        guard role.first?.string == "slave", role.count > 2 else { return nil }
        return role[2].int
    }

    public func stop() async {
        for node in nodes {
            node.process.signal(SIGKILL)
            _ = await node.process.waitForExit(timeout: .seconds(3))
        }
    }
}
