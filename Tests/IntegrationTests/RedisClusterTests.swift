import Foundation
import Logging
import Shared
import Testing
import TestSupport

/// The Redis layer against a real three-primary Redis Cluster on loopback (CONTRACT section 9):
/// commands go to the node that owns their key's slot, and a slot migration while commands flow
/// (ASK, then MOVED) loses and doubles nothing.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct RedisClusterTests {
    func withCluster(_ body: (RedisClusterGroup) async throws -> Void) async throws {
        try await RedisClusterGroup.with(label: "redis-cluster", body)
    }

    @Test("slots are computed as the cluster computes them; 300 entries over 10 streams land on all three nodes, in order per stream")
    func routesBySlot() async throws {
        try await withCluster { cluster in
            let node = try cluster.client(port: cluster.nodes[0].port)
            for key in ["sos:inbox:kasra", "discord:inbound", "{discord:in:3}:seen:1", "discord:replies:7", "a", "sos:inbox:loom"] + (0..<40).map({ "key-\($0)" }) {
                #expect(try await node.send("CLUSTER", "KEYSLOT", key).int == ClusterSlots.slot(of: key), "\(key)")
            }
            let bus = RedisClient(url: try RedisURL(parsing: cluster.url), name: "cluster-bus")
            for index in 0..<300 {
                try await bus.run(XADD("channel-\(index % 10)", fields: [("seq", String(index))]))
            }
            for channel in 0..<10 {
                let entries = try await bus.run(XRANGE("channel-\(channel)"))
                #expect(entries.compactMap { $0.fields["seq"].flatMap(Int.init) } == Array(stride(from: channel, to: 300, by: 10)))
            }
            // A pipeline over keys of several nodes keeps its order.
            let replies = try await bus.pipeline((0..<10).map { XLEN("channel-\($0)").request })
            #expect(replies.map(\.int) == Array(repeating: 30, count: 10))
            for node in cluster.nodes {
                #expect(try await cluster.client(port: node.port).send("DBSIZE").int ?? 0 > 0, "node \(node.port) holds no key")
            }
        }
    }

    @Test("a slot migrated while entries are added (ASK, then MOVED): every entry once, in order, on the new owner")
    func migrationLosesNothing() async throws {
        try await withCluster { cluster in
            let stream = "sos:inbox:kasra"
            let slot = ClusterSlots.slot(of: stream)
            let source = try await cluster.owner(of: slot)
            let target = try #require(cluster.nodes.first { $0.port != source }?.port)
            let bus = RedisClient(url: try RedisURL(parsing: cluster.url), name: "cluster-writer")
            let total = 400
            let writer = Task {
                for index in 0..<total {
                    // Through a failure the writer would retry as a stage does: with RedisClient.retrying.
                    _ = try await RedisClient.retrying(logger: .init(label: "writer"), what: "adding") { () throws(RedisError) in
                        try await bus.run(XADD(stream, fields: [("seq", String(index))]))
                    }
                    try await Task.sleep(for: .milliseconds(2))
                }
            }
            try await Task.sleep(for: .milliseconds(200))
            try await cluster.migrate(slot: slot, to: target, hold: .milliseconds(400))
            try await writer.value
            #expect(try await cluster.owner(of: slot) == target)
            let entries = try await bus.run(XRANGE(stream))
            #expect(entries.compactMap { $0.fields["seq"].flatMap(Int.init) } == Array(0..<total))
            // It all lives on the new owner now; the old one has nothing of it.
            #expect(try await cluster.client(port: target).send("XLEN", stream).int == total)
            #expect(try await cluster.client(port: source).send("CLUSTER", "COUNTKEYSINSLOT", String(slot)).int == 0)
        }
    }

    @Test("BUS_MIN_REPLICAS on a cluster: a write counts once its own node's replica has it; a node whose replica is gone fails its writes as an outage, the others go on")
    func minReplicasPerNode() async throws {
        try await RedisClusterGroup.with(label: "redis-cluster-replicas", replicas: 1) { cluster in
            let bus = RedisClient(url: try RedisURL(parsing: cluster.url), name: "cluster-durable", minReplicas: 1)
            // Every primary has its replica: writes everywhere, single and pipelined, succeed.
            let streams = (0..<30).map { "durable-\($0)" }
            for stream in streams { try await bus.run(XADD(stream, fields: [("n", "1")])) }
            _ = try await bus.pipeline(streams.map { XADD($0, fields: [("n", "2")]).request })
            // The replicas have the writes.
            var replicaPorts: [Int: Int] = [:]  // primary -> replica
            for node in cluster.nodes {
                if let primary = try await cluster.primary(ofReplica: node.port) { replicaPorts[primary] = node.port }
            }
            #expect(replicaPorts.count == 3)
            // Stop one replica: its primary's writes fail (as an outage, to be retried), the
            // other primaries' still succeed.
            let (primary, replica) = try #require(replicaPorts.first)
            let replicaProcess = try #require(cluster.nodes.first { $0.port == replica }?.process)
            replicaProcess.signal(SIGKILL)
            _ = await replicaProcess.waitForExit(timeout: .seconds(3))
            var failed = 0, written = 0
            for stream in streams {
                let owner = try await cluster.owner(of: ClusterSlots.slot(of: stream))
                if owner == primary, failed >= 2 { continue }  // each such write waits its 1 s
                do throws(RedisError) {
                    try await bus.run(XADD(stream, fields: [("n", "3")]))
                    written += 1
                    #expect(owner != primary, "\(stream) on \(owner) counted durable without its replica")
                } catch {
                    failed += 1
                    #expect(owner == primary)
                    #expect(error.kind == .connection)
                    #expect(error.message.contains("BUS_MIN_REPLICAS=1"))
                }
            }
            #expect(failed > 0)
            #expect(written > 0)
        }
    }
}
