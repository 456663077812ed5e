import Foundation
import Logging
import ServiceLifecycle

/// Numbered slots (gateway shards, reply partitions) shared out among the live copies of a
/// service through Redis leases: each slot has at most one owner, and the slots spread evenly
/// as copies come and go.
///
/// Each lease is a key holding its owner's id, set with `NX` and a time to live and renewed
/// while the owner lives. An owner stops a slot's worker once half the lease has passed without
/// a confirmed renewal, well before anyone else can acquire it, so two workers never run for
/// one slot at once. A SIGKILLed owner's work dies with its process; a standby takes the slot
/// when the lease lapses.
public actor LeaseSet {
    public let count: Int
    public let owner: String
    private let redis: RedisClient
    private let keyPrefix: String
    private let membersKey: String
    private let ttl: Duration
    private let logger: Logger
    private var held: [Int: ContinuousClock.Instant] = [:]  // slot -> last confirmed renewal
    private var workers: [Int: Task<Void, Never>] = [:]
    /// Slots whose worker returned by itself (it drained on graceful shutdown).
    private var ended: Set<Int> = []
    private var failure: (any Error)?
    private var announcedWaiting = false

    /// - Parameters:
    ///   - keyPrefix: the lease of slot `n` is `<keyPrefix><n>`.
    ///   - membersKey: a sorted set of live copies, which sets each copy's fair share.
    public init(redis: RedisClient, keyPrefix: String, membersKey: String, count: Int, ttl: Duration, owner: String, logger: Logger) {
        self.redis = redis
        self.keyPrefix = keyPrefix
        self.membersKey = membersKey
        self.count = max(1, count)
        self.ttl = ttl
        self.owner = owner
        self.logger = logger
    }

    /// How often leases are renewed and free slots looked for.
    public var interval: Duration { min(.milliseconds(500), ttl / 4) }

    public var heldSlots: [Int] { held.keys.sorted() }

    /// Runs until cancelled: keeps this copy's fair share of slots and runs `work(slot)` for each
    /// held slot in a task of its own, cancelling it (and waiting for it to end) before a slot
    /// is given up. On cancellation every worker is stopped and every lease released. A worker
    /// that throws stops everything the same way, and its error is rethrown.
    ///
    /// On graceful shutdown no slot is taken any more, but the held leases are still renewed
    /// until each worker has returned by itself (finishing the work in hand); then they are
    /// released, so a standby takes over at once.
    public func run(_ work: @escaping @Sendable (Int) async throws -> Void) async throws {
        defer { failure = nil }
        while !Task.isCancelled, failure == nil {
            for slot in ended {
                workers[slot] = nil
                if !Task.isShuttingDownGracefully {
                    logger.warning("the work of slot \(slot) ended by itself; giving the slot up", metadata: ["lease": "\(keyPrefix)\(slot)"])
                    await release(slot)
                }
            }
            ended.removeAll()
            if Task.isShuttingDownGracefully, workers.isEmpty { break }
            let plan = await round(acquiring: !Task.isShuttingDownGracefully)
            for slot in plan.lost {
                logger.error("lost the lease of slot \(slot); stopping its work", metadata: ["lease": "\(keyPrefix)\(slot)"])
            }
            for slot in plan.surplus {
                logger.notice("handing slot \(slot) to another copy (rebalancing)", metadata: ["lease": "\(keyPrefix)\(slot)"])
            }
            // All at once: a worker can take a second to stop (a blocking read), and stopping
            // them one after another would leave the kept leases unrenewed long enough to lapse,
            // letting another copy start a second worker for a slot whose worker still runs.
            await stopWorkers(plan.lost + plan.surplus)
            for slot in plan.surplus { await release(slot) }
            for slot in plan.gained {
                logger.info("holding slot \(slot)", metadata: ["lease": "\(keyPrefix)\(slot)", "owner": "\(owner)"])
                workers[slot] = Task {
                    do { try await work(slot) } catch { self.fail(error) }
                    self.workerEnded(slot)
                }
            }
            try? await Task.sleep(for: interval)
        }
        await stopWorkers(Array(workers.keys))
        for slot in Array(held.keys) { await release(slot) }
        _ = try? await redis.run(ZREM(membersKey, members: [owner]))
        if let failure { throw failure }
    }

    private func fail(_ error: any Error) {
        if failure == nil { failure = error }
    }

    private func workerEnded(_ slot: Int) {
        if workers[slot] != nil { ended.insert(slot) }
    }

    struct Plan {
        var gained: [Int] = []
        var lost: [Int] = []
        var surplus: [Int] = []
    }

    /// One round: renew what is held, then claim free slots up to the fair share, or mark the
    /// slots above it as surplus.
    func round(acquiring: Bool = true) async -> Plan {
        var plan = Plan()
        let now = ContinuousClock.now
        for slot in held.keys.sorted() {
            do {
                if try await redis.run(Self.renewScript.call(keys: [keyPrefix + String(slot)], arguments: [RedisBytes(owner), RedisBytes(milliseconds(ttl))])).int == 1 {
                    held[slot] = now
                } else {
                    held[slot] = nil
                    plan.lost.append(slot)
                }
            } catch {
                // Unconfirmed: give up before the lease could lapse and pass to someone else.
                if let confirmed = held[slot], ContinuousClock.now - confirmed > ttl / 2 {
                    logger.error("cannot renew the lease of slot \(slot): \(error)")
                    held[slot] = nil
                    plan.lost.append(slot)
                }
            }
        }
        guard acquiring, let share = try? await fairShare() else { return plan }
        if held.count > share {
            plan.surplus = Array(held.keys.sorted().suffix(held.count - share))
            return plan
        }
        var waiting = false
        for slot in 0..<count where held[slot] == nil && held.count < share {
            let acquired = (try? await redis.run(SET(keyPrefix + String(slot), RedisBytes(owner), onlyIfAbsent: true, expireMilliseconds: Int(ttl.wholeMilliseconds)))) == true
            if acquired {
                held[slot] = ContinuousClock.now
                plan.gained.append(slot)
            } else {
                waiting = true
            }
        }
        if waiting, held.isEmpty, !announcedWaiting {
            logger.notice("standing by: every slot is held by another copy; taking over any whose owner stops renewing", metadata: ["leases": "\(keyPrefix)*"])
        }
        announcedWaiting = waiting && held.isEmpty
        return plan
    }

    /// This copy's share of the slots: the count divided by the live copies, rounded up.
    private func fairShare() async throws(RedisError) -> Int {
        let nowMs = Int(Date().timeIntervalSince1970 * 1000)
        let expiry = nowMs - 2 * (Int(milliseconds(ttl)) ?? 0)
        let replies = try await redis.pipeline([
            ZADD(membersKey, score: nowMs, member: owner).request,
            ZREMRANGEBYSCORE(membersKey, max: expiry).request,
            ZCARD(membersKey).request,
        ])
        let live = max(1, replies.last?.int ?? 1)
        return (count + live - 1) / live
    }

    /// Cancels the slots' workers together, then waits for each to end.
    private func stopWorkers(_ slots: [Int]) async {
        let tasks = slots.compactMap { workers.removeValue(forKey: $0) }
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }

    private func release(_ slot: Int) async {
        held[slot] = nil
        _ = try? await redis.run(Self.releaseScript.call(keys: [keyPrefix + String(slot)], arguments: [RedisBytes(owner)]))
    }

    private func milliseconds(_ duration: Duration) -> String {
        String(duration.wholeMilliseconds)
    }

    private static let renewScript = LuaScript(keys: ["lease"], """
    if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
    return 0
    """)

    private static let releaseScript = LuaScript(keys: ["lease"], """
    if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
    return 0
    """)

    /// A lease owner id unique to this process.
    public static func makeOwnerID(prefix: String) -> String {
        "\(prefix)-\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8))"
    }
}
