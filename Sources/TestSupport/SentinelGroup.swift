import Foundation
import Shared

/// A Redis Sentinel setup on loopback for one test: a primary, two replicas and three
/// sentinels (quorum 2, a node is down after 1 s), all real `redis-server` processes.
public final class SentinelGroup: ServerGroup, @unchecked Sendable {
    public static let master = "mymaster"
    public let directory: String
    /// Data nodes by port; the first was started as the primary.
    public private(set) var nodes: [(port: Int, process: ChildProcess)] = []
    public private(set) var sentinels: [(port: Int, process: ChildProcess)] = []

    /// `redis+sentinel://…/mymaster`.
    public var url: String {
        "redis+sentinel://" + sentinels.map { "127.0.0.1:\($0.port)" }.joined(separator: ",") + "/\(Self.master)"
    }

    public init(directory: String) async throws {
        self.directory = directory
        guard let executable = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw TestSupportError("redis-server is not installed (apt-get install redis-server)")
        }
        do {
            let primaryPort = try freeLoopbackPort()
            for index in 0..<3 {
                let port = index == 0 ? primaryPort : try freeLoopbackPort()
                let data = directory + "/node-\(index)"
                try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
                var arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", data]
                if index > 0 { arguments += ["--replicaof", "127.0.0.1", String(primaryPort)] }
                nodes.append((port, try ChildProcess(name: "redis-\(index)", executable: executable, arguments: arguments, environment: [:], logPath: data + "/redis.log")))
            }
            let primary = try client(port: primaryPort)
            let replicated = await eventually(timeout: .seconds(15)) { () -> Bool? in
                let info = (try? await primary.send("INFO", "replication").string) ?? ""
                return info.contains("connected_slaves:2") && !info.contains("state=wait_bgsave") ? true : nil
            }
            guard replicated == true else { throw TestSupportError("the replicas did not attach to the primary") }
            for index in 0..<3 {
                let port = try freeLoopbackPort()
                let config = directory + "/sentinel-\(index).conf"
                try """
                port \(port)
                bind 127.0.0.1
                dir \(directory)
                sentinel monitor \(Self.master) 127.0.0.1 \(primaryPort) 2
                sentinel down-after-milliseconds \(Self.master) 1000
                sentinel failover-timeout \(Self.master) 5000
                sentinel parallel-syncs \(Self.master) 1

                """.write(toFile: config, atomically: true, encoding: .utf8)
                sentinels.append((port, try ChildProcess(name: "sentinel-\(index)", executable: executable, arguments: [config, "--sentinel"], environment: [:], logPath: directory + "/sentinel-\(index).log")))
            }
            // Ready once every sentinel knows the replicas and the other sentinels (quorum).
            for sentinel in sentinels {
                let client = try client(port: sentinel.port)
                let ready = await eventually(timeout: .seconds(20)) { () -> Bool? in
                    let quorum = try? await client.send("SENTINEL", "ckquorum", Self.master).string
                    let replicas = (try? await client.send("SENTINEL", "replicas", Self.master).array?.count) ?? 0
                    let peers = (try? await client.send("SENTINEL", "sentinels", Self.master).array?.count) ?? 0
                    return quorum?.hasPrefix("OK") == true && replicas == 2 && peers == 2 ? true : nil
                }
                guard ready == true else { throw TestSupportError("sentinel on port \(sentinel.port) did not see the whole group") }
            }
        } catch {
            await stop()
            throw error
        }
    }


    /// Runs `body` against a fresh group in a scratch directory and stops every process
    /// afterwards, pass or fail; a failure is rethrown with the servers' logs attached.
    public static func with(label: String, _ body: (SentinelGroup) async throws -> Void) async throws {
        try await withScratch(label: label, make: { try await SentinelGroup(directory: $0) }, body)
    }

    public func client(port: Int, timeout: Duration = .seconds(5)) throws -> RedisClient {
        RedisClient(url: try RedisURL(parsing: "redis://127.0.0.1:\(port)"), timeout: timeout, name: "sentinel-test")
    }

    /// A client of the group through the sentinels, as the services have.
    public func busClient() throws -> RedisClient {
        RedisClient(url: try RedisURL(parsing: url), timeout: .seconds(5), name: "sentinel-bus")
    }

    /// The port of the primary the sentinels name now.
    public func primaryPort() async throws -> Int {
        for sentinel in sentinels {
            if let reply = try? await client(port: sentinel.port).send("SENTINEL", "get-master-addr-by-name", Self.master).array,
               reply.count == 2, let port = reply[1].string.flatMap({ Int($0) }) { return port }
        }
        throw TestSupportError("no sentinel answered")
    }

    /// SIGKILLs the current primary; returns its port.
    @discardableResult
    public func killPrimary() async throws -> Int {
        let port = try await primaryPort()
        guard let node = nodes.first(where: { $0.port == port }) else { throw TestSupportError("the primary \(port) is not one of ours") }
        node.process.signal(SIGKILL)
        _ = await node.process.waitForExit(timeout: .seconds(5))
        return port
    }

    /// Every process, by the pid it was started with.
    public func stop() async {
        for process in (sentinels + nodes).map(\.process) {
            process.signal(SIGKILL)
            _ = await process.waitForExit(timeout: .seconds(3))
        }
    }

    public var logs: String {
        (nodes.map(\.process) + sentinels.map(\.process)).map { "=== \($0.name) ===\n\($0.log.suffix(1500))" }.joined(separator: "\n")
    }
}
