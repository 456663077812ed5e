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

    @Test("a cluster URL gives each atomic step's keys one slot and spreads the traffic's keys; the agents' streams keep their names")
    func clusterKeys() throws {
        let config = try ConnectorConfig(environment: ["MUMEGA_BUS_URL": "redis+cluster://127.0.0.1:7000,127.0.0.1:7001"])
        #expect(config.inboundPartitions == 4)
        #expect(try ConnectorConfig(environment: [:]).inboundPartitions == 1)
        let keys = BusKeys(config: config)
        #expect(keys.inbound(2) == "discord:{inbound:2}")
        #expect(keys.seen("99", inboundPartition: 2) == "discord:{inbound:2}:seen:99")
        #expect(keys.pending("r1") == "discord:pending:{r1}")
        #expect(keys.replyPartition(3) == "discord:{replies:3}")
        #expect(keys.rateLimit.prefix == "discord:{ratelimit}:")
        // One slot per atomic step: inbound accept (partition + its seen-markers), the limiter's
        // scripts, the bookkeeping.
        for partition in 0..<4 {
            #expect(ClusterSlots.slot(of: keys.seen("1", inboundPartition: partition)) == ClusterSlots.slot(of: keys.inbound(partition)))
        }
        let limiter = keys.rateLimit
        #expect(Set([limiter.globalSent, limiter.globalPause, limiter.bucketSent("b", major: "1"), limiter.route("x"), limiter.invalid(window: 3)].map(ClusterSlots.slot(of:))).count == 1)
        #expect(Set([keys.cursors, keys.unanswered, keys.typing, keys.deadLetters, keys.heartbeats, keys.stats].map(ClusterSlots.slot(of:))).count == 1)
        // The traffic spreads: partitions and pending contexts each have slots of their own.
        #expect(Set((0..<4).map { ClusterSlots.slot(of: keys.inbound($0)) }).count == 4)
        #expect(Set((0..<8).map { ClusterSlots.slot(of: keys.replyPartition($0)) }).count == 8)
        #expect(Set((0..<20).map { ClusterSlots.slot(of: keys.pending("request-\($0)")) }).count > 10)
        #expect(keys.replyInbox == "sos:inbox:discord-connector")
        // On one Redis the names are the documented ones.
        let plain = BusKeys(connectorAgentName: "discord-connector")
        #expect(plain.inbound(0) == "discord:inbound")
        #expect(plain.inbound(1) == "discord:inbound:1")
        #expect(plain.seen("5", inboundPartition: 1) == "discord:seen:5")
        #expect(plain.pending("r1") == "discord:pending:r1")
        #expect(plain.replyPartition(3) == "discord:replies:3")
        // The mark of a moved entry sits in its target's slot.
        for target in ["sos:inbox:kasra", keys.replyPartition(3), keys.deadLetters, keys.inbound(1)] {
            #expect(ClusterSlots.slot(of: BusMove.marker(target: target, source: keys.inbound(0), entryID: "1-0")) == ClusterSlots.slot(of: target), "\(target)")
        }
        #expect(try ConnectorConfig(environment: ["MUMEGA_BUS_URL": "redis+cluster://127.0.0.1:7000", "BUS_MIN_REPLICAS": "1"]).busMinReplicas == 1)
    }

    @Test("a channel's partition is stable and spreads", arguments: [1, 4, 8])
    func partitions(count: Int) {
        let channels = (0..<400).map { String(1_200_000_000_000_000_000 + $0 * 7919) }
        let assigned = channels.map { BusKeys.partition(of: $0, count: count) }
        #expect(assigned == channels.map { BusKeys.partition(of: $0, count: count) })
        #expect(Set(assigned) == Set(0..<count))
        #expect(assigned.allSatisfy { (0..<count).contains($0) })
    }
}
