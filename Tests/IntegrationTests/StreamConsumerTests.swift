import Foundation
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Shared
import Synchronization
import Testing
import TestSupport

/// `StreamConsumer` in-process against a real redis-server: what it reads first, what it takes
/// over, when it dead-letters, and what graceful shutdown leaves.
@Suite("StreamConsumer", .timeLimit(.minutes(2)))
struct StreamConsumerTests {
    static let logger = Logger(label: "consumer-test")

    /// The entries a handler saw, in order.
    final class Seen: Sendable {
        private let ids = Mutex<[String]>([])
        func add(_ id: String) { ids.withLock { $0.append(id) } }
        var all: [String] { ids.withLock { $0 } }
    }

    func consumer(_ server: RedisServer, name: String, claimIdle: Duration = .seconds(30), maxDeliveries: Int = 10, deadLetters: String = "dead") throws -> StreamConsumer {
        StreamConsumer(
            redis: try server.makeClient(name: name), stream: "in", group: "g", consumer: name, deadLetters: deadLetters,
            claimIdle: claimIdle, maxDeliveries: maxDeliveries, batchSize: 16, logger: Self.logger
        )
    }

    func add(_ server: RedisServer, _ count: Int, from start: Int = 0) async throws -> [String] {
        var ids: [String] = []
        for index in start..<(start + count) { ids.append(try await server.client.run(XADD("in", fields: [("n", String(index))]))) }
        return ids
    }

    func pending(_ server: RedisServer) async throws -> [XPENDING.Entry] {
        try await server.client.run(XPENDING("in", group: "g", count: 100))
    }

    /// Runs the consumer until `done` holds (bounded), then cancels it.
    func consume(_ consumer: StreamConsumer, until done: @escaping @Sendable () async -> Bool, _ handle: @escaping @Sendable (StreamEntry) async -> ConsumeOutcome) async {
        let task = Task { await consumer.run(handle) }
        _ = await eventually(timeout: .seconds(15)) { await done() ? true : nil }
        task.cancel()
        await task.value
    }

    @Test("a restarted consumer finishes its own pending entries first, in order, before anything new")
    func ownPendingFirst() async throws {
        try await RedisServer.with(label: "consumer-own") { server in
            try await server.client.run(XGROUPCREATE("in", group: "g"))
            let before = try await add(server, 3)
            // A consumer of this name read them and died before acknowledging.
            _ = try await server.client.run(XREADGROUP(group: "g", consumer: "c", count: 10, stream: "in", id: ">"))
            let after = try await add(server, 2, from: 3)
            let seen = Seen()
            await consume(try consumer(server, name: "c"), until: { seen.all.count >= 5 }) { entry in
                seen.add(entry.id)
                return .ack
            }
            #expect(seen.all == before + after)
            #expect(try await pending(server).isEmpty)
        }
    }

    @Test("entries a dead consumer left pending are claimed after CLAIM_IDLE_MS")
    func claimsAbandoned() async throws {
        try await RedisServer.with(label: "consumer-claim") { server in
            try await server.client.run(XGROUPCREATE("in", group: "g"))
            let ids = try await add(server, 2)
            _ = try await server.client.run(XREADGROUP(group: "g", consumer: "gone", count: 10, stream: "in", id: ">"))
            let seen = Seen()
            let started = ContinuousClock.now
            await consume(try consumer(server, name: "alive", claimIdle: .milliseconds(300)), until: { seen.all.count >= 2 }) { entry in
                seen.add(entry.id)
                return .ack
            }
            #expect(seen.all == ids)
            #expect(ContinuousClock.now - started >= .milliseconds(300))
            #expect(try await pending(server).isEmpty)
        }
    }

    @Test("a poison entry is dead-lettered after MAX_DELIVERIES with its reason and fields, and acknowledged")
    func poisonEntry() async throws {
        try await RedisServer.with(label: "consumer-poison") { server in
            try await server.client.run(XGROUPCREATE("in", group: "g"))
            let ids = try await add(server, 2)
            let seen = Seen()
            // The first entry never succeeds (its handler gives up each time); the second is fine.
            await consume(try consumer(server, name: "c", maxDeliveries: 3), until: { (try? await server.client.run(XLEN("dead"))) == 1 && seen.all.contains(ids[1]) }) { entry in
                seen.add(entry.id)
                return entry.id == ids[0] ? .leavePending : .ack
            }
            let letters = try await server.client.run(XRANGE("dead"))
            #expect(letters.count == 1)
            #expect(letters.first?.fields["entry_id"] == ids[0])
            #expect(letters.first?.fields["stream"] == "in")
            #expect(letters.first?.fields["reason"]?.contains("limit 3") == true)
            #expect(letters.first?.fields["field:n"] == "0")
            #expect(seen.all.filter { $0 == ids[0] }.count == 3)
            #expect(try await pending(server).isEmpty)
        }
    }

    @Test("a dead letter that cannot be written leaves the entry pending: nothing is lost (WRONGTYPE on the dead-letter key)")
    func deadLetterNeverLost() async throws {
        try await RedisServer.with(label: "consumer-wrongtype") { server in
            try await server.client.run(XGROUPCREATE("in", group: "g"))
            try await server.client.run(SET("dead", "not a stream"))
            let ids = try await add(server, 2)
            let poison = ids[0]
            // The second entry is acknowledged after the first's dead letter was tried: once it
            // is, the attempt is over.
            await consume(try consumer(server, name: "c"), until: { (try? await pending(server).map(\.id)) == [poison] }) { entry in
                entry.id == poison ? .deadLetter(reason: "unreadable") : .ack
            }
            // Still pending, still in the stream: a fixed dead-letter key takes it next time.
            #expect(try await pending(server).map(\.id) == [poison])
            #expect(try await server.client.run(XRANGE("in")).map(\.id) == ids)
            try await server.client.send("DEL", "dead")
            await consume(try consumer(server, name: "c"), until: { (try? await server.client.run(XLEN("dead"))) == 1 }) { _ in .deadLetter(reason: "unreadable") }
            #expect(try await server.client.run(XRANGE("dead")).first?.fields["entry_id"] == poison)
            #expect(try await pending(server).isEmpty)
        }
    }

    @Test("graceful shutdown finishes and acknowledges the entry in hand, then reads nothing more")
    func gracefulShutdownDrains() async throws {
        try await RedisServer.with(label: "consumer-drain") { server in
            try await server.client.run(XGROUPCREATE("in", group: "g"))
            let ids = try await add(server, 3)
            let seen = Seen()
            let finished = Seen()
            let consumer = try consumer(server, name: "c")
            try await testGracefulShutdown { trigger in
                let task = Task {
                    await consumer.run { entry in
                        seen.add(entry.id)
                        // A slow post: shutdown arrives while it is in flight.
                        try? await Task.sleep(for: .milliseconds(500))
                        finished.add(entry.id)
                        return .ack
                    }
                }
                _ = await eventually { seen.all.isEmpty ? nil : true }
                trigger.triggerGracefulShutdown()
                _ = await eventually(timeout: .seconds(5)) { finished.all.isEmpty ? nil : true }
                await task.value
            }
            #expect(seen.all == [ids[0]])
            #expect(finished.all == [ids[0]])
            // The one in hand was acknowledged; the two read with it stay pending for the next run.
            #expect(try await pending(server).map(\.id) == Array(ids[1...]))
        }
    }
}
