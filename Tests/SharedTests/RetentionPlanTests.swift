import Testing
@testable import Shared

@Suite("Retention: where a stream may be trimmed")
struct RetentionPlanTests {
    static func id(_ text: String) -> StreamID { StreamID(text)! }

    @Test("stream ids parse and order as Redis orders them", arguments: [
        ("1-0", "1-1", true), ("1-9", "2-0", true), ("10-0", "9-99", false), ("5", "5-0", false),
    ])
    func ordering(lhs: String, rhs: String, less: Bool) {
        #expect((Self.id(lhs) < Self.id(rhs)) == less)
    }

    @Test("malformed ids are refused", arguments: ["", "-", "a-1", "1-b", "1-2-3", "-1"])
    func malformed(text: String) {
        #expect(StreamID(text) == nil)
    }

    @Test("the next id after one")
    func next() {
        #expect(Self.id("7-3").next.description == "7-4")
        #expect(StreamID(milliseconds: 7, sequence: .max).next.description == "8-0")
    }

    // now = 100,000 ms; keep 10,000 ms: the time limit is 90000-0.
    @Test("MINID: the time limit, lowered to the floor of every group", arguments: [
        // no group: time only
        ([], "90000-0"),
        // a group that has read and acknowledged everything
        ([("g", "99000-0", nil)], "90000-0"),
        // a group that is behind: it has read up to 50000-2, nothing pending
        ([("g", "50000-2", nil)], "50000-3"),
        // a group with a pending entry older than what it has read
        ([("g", "95000-0", "40000-1")], "40000-1"),
        // two groups: the slower one wins
        ([("fast", "99000-0", nil), ("slow", "60000-0", "30000-0")], "30000-0"),
        // a group created at the start that has read nothing: nothing is trimmed
        ([("new", "0-0", nil)], nil),
    ] as [([(String, String, String?)], String?)])
    func minID(groups: [(String, String, String?)], expected: String?) {
        let states = groups.map { RetentionPlan.Group(name: $0.0, lastDelivered: Self.id($0.1), oldestPending: $0.2.map(Self.id)) }
        let result = RetentionPlan.minID(groups: states, nowMilliseconds: 100_000, keepMilliseconds: 10_000)
        #expect(result?.description == expected)
    }

    @Test("a retention longer than the clock trims nothing")
    func retentionBeyondTheEpoch() {
        #expect(RetentionPlan.minID(groups: [], nowMilliseconds: 5_000, keepMilliseconds: 10_000) == nil)
    }

    @Test("how long each kind of stream keeps its entries")
    func keep() {
        func keep(_ kind: RetentionPlan.Kind, _ hasGroups: Bool) -> Int {
            RetentionPlan.keepSeconds(kind, hasGroups: hasGroups, streamRetention: 700, ackedRetention: 30, deadLetterRetention: 9_000)
        }
        #expect(keep(.connector, true) == 30)
        // Nothing has read it yet (its reader never started): kept as long as any stream.
        #expect(keep(.connector, false) == 700)
        #expect(keep(.agentInbox, true) == 700)
        #expect(keep(.agentInbox, false) == 700)
        #expect(keep(.deadLetters, false) == 9_000)
    }

    @Test("retention settings: defaults, and malformed values name the variable")
    func settings() throws {
        let defaults = try ConnectorConfig(environment: [:])
        #expect(defaults.streamRetention == 604_800)
        #expect(defaults.ackedRetention == 3_600)
        #expect(defaults.deadLetterRetention == 2_592_000)
        #expect(defaults.janitorInterval == 60)
        for variable in ["STREAM_RETENTION", "ACKED_RETENTION", "DEAD_LETTER_RETENTION", "JANITOR_INTERVAL"] {
            for bad in ["0", "-5", "a week"] {
                do {
                    _ = try ConnectorConfig(environment: [variable: bad])
                    Issue.record("\(variable)=\(bad) accepted")
                } catch {
                    #expect(error.variable == variable)
                }
            }
        }
    }
}

@Suite("BUS_MIN_REPLICAS")
struct BusMinReplicasTests {
    @Test("defaults to 0; takes 0 to 16; refuses the rest naming the variable")
    func parses() throws {
        #expect(try ConnectorConfig(environment: [:]).busMinReplicas == 0)
        #expect(try ConnectorConfig(environment: ["BUS_MIN_REPLICAS": "2"]).busMinReplicas == 2)
        for bad in ["-1", "17", "one"] {
            do {
                _ = try ConnectorConfig(environment: ["BUS_MIN_REPLICAS": bad])
                Issue.record("accepted \(bad)")
            } catch {
                #expect(error.variable == "BUS_MIN_REPLICAS")
            }
        }
    }

    @Test("failover replies are told from other errors", arguments: [
        ("READONLY You can't write against a read only replica.", true),
        ("LOADING Redis is loading the dataset in memory", true),
        ("MASTERDOWN Link with MASTER is down", true),
        ("WRONGTYPE Operation against a key holding the wrong kind of value", false),
        ("NOPERM this user has no permissions", false),
    ])
    func failoverReplies(message: String, failover: Bool) {
        #expect(RedisClient.isFailoverReply(message) == failover)
    }
}
