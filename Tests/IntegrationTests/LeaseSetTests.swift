import Foundation
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Shared
import Synchronization
import Testing
import TestSupport

/// `LeaseSet` in-process against a real redis-server: slots shared out fairly, at most one
/// worker per slot, takeover when an owner stops, and a clean hand-over on graceful shutdown.
@Suite("LeaseSet", .timeLimit(.minutes(2)))
struct LeaseSetTests {
    static let logger = Logger(label: "lease-test")

    /// Which owner runs a worker for which slot right now, and whether two ever overlapped.
    final class Workers: Sendable {
        private let state = Mutex<(running: [Int: String], overlaps: Int)>(([:], 0))
        func start(_ slot: Int, _ owner: String) {
            state.withLock { state in
                if state.running[slot] != nil { state.overlaps += 1 }
                state.running[slot] = owner
            }
        }
        func stop(_ slot: Int) { state.withLock { _ = $0.running.removeValue(forKey: slot) } }
        var running: [Int: String] { state.withLock { $0.running } }
        var overlaps: Int { state.withLock { $0.overlaps } }
        func count(of owner: String) -> Int { running.values.filter { $0 == owner }.count }
    }

    func leases(_ server: RedisServer, owner: String, count: Int = 4) throws -> LeaseSet {
        LeaseSet(redis: try server.makeClient(name: owner, timeout: .milliseconds(500)), keyPrefix: "lease:", membersKey: "members", count: count, ttl: .milliseconds(1500), owner: owner, logger: Self.logger)
    }

    /// A worker that holds its slot until cancelled, or until a graceful shutdown after `drain`.
    func work(_ workers: Workers, owner: String, drain: Duration = .zero) -> @Sendable (Int) async throws -> Void {
        { slot in
            workers.start(slot, owner)
            defer { workers.stop(slot) }
            while !Task.isCancelled, !Task.isShuttingDownGracefully { try? await Task.sleep(for: .milliseconds(20)) }
            if Task.isShuttingDownGracefully { try? await Task.sleep(for: drain) }
        }
    }

    @Test("two owners share four slots two each, and one takes all when the other stops")
    func sharesAndTakesOver() async throws {
        try await RedisServer.with(label: "leases") { server in
            let workers = Workers()
            let first = try leases(server, owner: "a")
            let second = try leases(server, owner: "b")
            let a = Task { try await first.run(work(workers, owner: "a")) }
            let b = Task { try await second.run(work(workers, owner: "b")) }
            let shared = await eventually(timeout: .seconds(10)) { workers.count(of: "a") == 2 && workers.count(of: "b") == 2 ? true : nil }
            #expect(shared == true)
            for slot in 0..<4 {
                #expect(try await server.client.run(GET("lease:\(slot)")) == workers.running[slot])
            }
            a.cancel()
            _ = try? await a.value
            let alone = await eventually(timeout: .seconds(10)) { workers.count(of: "b") == 4 ? true : nil }
            #expect(alone == true)
            #expect(workers.overlaps == 0)
            b.cancel()
            _ = try? await b.value
            #expect(workers.running.isEmpty)
            // Leases released on the way out, not left to expire.
            for slot in 0..<4 { #expect(try await server.client.run(GET("lease:\(slot)")) == nil) }
        }
    }

    @Test("on graceful shutdown the workers finish, the leases stay renewed meanwhile, then are released")
    func gracefulHandOver() async throws {
        try await RedisServer.with(label: "leases-drain") { server in
            let workers = Workers()
            let set = try leases(server, owner: "a", count: 2)
            try await testGracefulShutdown { trigger in
                // Draining takes longer than the lease's time to live: it must be renewed meanwhile.
                let task = Task { try await set.run(work(workers, owner: "a", drain: .seconds(2))) }
                _ = await eventually { workers.count(of: "a") == 2 ? true : nil }
                trigger.triggerGracefulShutdown()
                try await Task.sleep(for: .milliseconds(1800))
                #expect(workers.count(of: "a") == 2)
                #expect(try await server.client.run(GET("lease:0")) == "a")
                try await task.value
            }
            #expect(workers.running.isEmpty)
            #expect(try await server.client.run(GET("lease:0")) == nil)
            #expect(try await server.client.run(GET("lease:1")) == nil)
        }
    }
}
