import Testing
@testable import Shared

@Suite("Redis Cluster slots")
struct ClusterSlotsTests {
    // Values from the Redis Cluster specification and `CLUSTER KEYSLOT` on Redis 7.
    @Test("a key's slot: CRC16 of the key, or of its hash tag", arguments: [
        ("123456789", 12739),
        ("foo", 12182),
        ("bar", 5061),
        ("{user1000}.following", 3443),
        ("{user1000}.followers", 3443),
        ("user1000", 3443),
        ("foo{}{bar}", 8363),
        ("foo{{bar}}zap", 4015),
        ("foo{bar}{zap}", 5061),
        ("", 0),
    ])
    func slots(key: String, slot: Int) {
        #expect(ClusterSlots.slot(of: key) == slot)
    }

    @Test("redirections are read from MOVED and ASK replies; other errors are none", arguments: [
        ("MOVED 3999 127.0.0.1:6381", ClusterSlots.Redirect(kind: .moved, slot: 3999, node: .init(host: "127.0.0.1", port: 6381))),
        ("ASK 12182 10.0.0.2:7000", ClusterSlots.Redirect(kind: .ask, slot: 12182, node: .init(host: "10.0.0.2", port: 7000))),
        ("MOVED 1 :7001", ClusterSlots.Redirect(kind: .moved, slot: 1, node: .init(host: "?", port: 7001))),
        ("MOVED 99999 127.0.0.1:1", nil),
        ("ERR unknown command", nil),
        ("CROSSSLOT Keys in request don't hash to the same slot", nil),
    ] as [(String, ClusterSlots.Redirect?)])
    func redirects(message: String, expected: ClusterSlots.Redirect?) {
        #expect(ClusterSlots.redirect(message) == expected)
    }

    @Test("a cluster URL tags the connector's keys (one slot); the agents' streams keep their names")
    func clusterKeys() throws {
        let config = try ConnectorConfig(environment: ["MUMEGA_BUS_URL": "redis+cluster://127.0.0.1:7000,127.0.0.1:7001"])
        let keys = BusKeys(config: config)
        #expect(keys.inbound == "discord:{bus}:inbound")
        #expect(keys.pending("r1") == "discord:{bus}:pending:r1")
        #expect(keys.rateLimit.prefix == "discord:{bus}:ratelimit:")
        let slots = Set([keys.inbound, keys.pending("x"), keys.seen("1"), keys.cursors, keys.unanswered, keys.deadLetters, keys.replyPartition(3), keys.rateLimit.globalSent].map(ClusterSlots.slot(of:)))
        #expect(slots.count == 1)
        #expect(keys.replyInbox == "sos:inbox:discord-connector")
        #expect(BusKeys(connectorAgentName: "discord-connector").inbound == "discord:inbound")
        // The mark of a moved entry sits in its target's slot.
        for target in ["sos:inbox:kasra", keys.replyPartition(3), keys.deadLetters] {
            #expect(ClusterSlots.slot(of: BusMove.marker(target: target, source: keys.inbound, entryID: "1-0")) == ClusterSlots.slot(of: target), "\(target)")
        }
        do {
            _ = try ConnectorConfig(environment: ["MUMEGA_BUS_URL": "redis+cluster://127.0.0.1:7000", "BUS_MIN_REPLICAS": "1"])
            Issue.record("BUS_MIN_REPLICAS accepted with a cluster")
        } catch {
            #expect(error.variable == "BUS_MIN_REPLICAS")
        }
    }
}
