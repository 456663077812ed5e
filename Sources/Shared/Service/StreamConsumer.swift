import Foundation
import Logging
import ServiceLifecycle

/// What a stage did with one stream entry.
public enum ConsumeOutcome: Sendable, Equatable {
    /// Done: acknowledge the entry.
    case ack
    /// The handler acknowledged the entry itself, atomically with its own write.
    case alreadyAcknowledged
    /// Not done and not acknowledged (the process is stopping): the entry stays pending and is
    /// read again by this consumer after a restart, or claimed by another.
    case leavePending
    /// It can never succeed: move it to the dead-letter stream with the reason, then acknowledge.
    case deadLetter(reason: String)
}

/// One consumer of a Redis consumer group: reads new entries, takes over entries that a dead
/// consumer left pending, and hands each entry to the stage's handler in stream order.
///
/// Entries are acknowledged only after the handler says their effect is durable, so a consumer
/// killed at any instant loses nothing:
/// - restarted under the same name (the default name is stable per host), it first reads its own
///   pending entries, in order, before anything new, so order is kept across restarts;
/// - a consumer that never comes back has its entries claimed by a live one after `claimIdle`.
/// An entry delivered more than `maxDeliveries` times (one that crashes its consumer, say) is
/// moved to the dead-letter stream instead of being tried forever.
public struct StreamConsumer: Sendable {
    public let redis: RedisClient
    public let stream: String
    public let group: String
    public let consumer: String
    public let deadLetters: String
    public let claimIdle: Duration
    public let maxDeliveries: Int
    public let batchSize: Int
    /// Take over every pending entry of the group before starting: for a stream that only one
    /// consumer at a time may read (a partition whose lease this process just acquired).
    public let takeOverOnStart: Bool
    public let logger: Logger

    public init(redis: RedisClient, stream: String, group: String, consumer: String, deadLetters: String, claimIdle: Duration, maxDeliveries: Int = 10, batchSize: Int = 64, takeOverOnStart: Bool = false, logger: Logger) {
        self.takeOverOnStart = takeOverOnStart
        self.redis = redis
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.deadLetters = deadLetters
        self.claimIdle = claimIdle
        self.maxDeliveries = maxDeliveries
        self.batchSize = batchSize
        self.logger = logger
    }

    /// Consumes until the task is cancelled or the service shuts down gracefully. On graceful
    /// shutdown no new entry is read, but the entry in hand is finished and acknowledged: a post
    /// in flight completes instead of being cut and posted again after the restart.
    public func run(_ handle: @Sendable (StreamEntry) async -> ConsumeOutcome) async {
        await run(batch: { entries in
            var outcomes: [ConsumeOutcome] = []
            for entry in entries {
                // Stopping: what is not in hand yet stays pending, for the next start.
                if Task.isCancelled || Task.isShuttingDownGracefully {
                    outcomes.append(.leavePending)
                    continue
                }
                // Each entry is finished before the next is handled: a crash repeats one at most.
                let outcome = await handle(entry)
                if outcome == .leavePending {
                    outcomes.append(.leavePending)
                } else {
                    await finish(entry, outcome)
                    outcomes.append(.alreadyAcknowledged)
                }
            }
            return outcomes
        })
    }

    /// As `run`, with the stage's handler given each batch as read, in stream order (entries
    /// delivered too often already taken out): it answers one outcome per entry, in the same
    /// order, so a stage can write a whole batch in one round trip. Entries answered `.ack` are
    /// acknowledged together.
    public func run(batch handle: @Sendable ([StreamEntry]) async -> [ConsumeOutcome]) async {
        var groupReady = false
        var ownPendingDone = false
        var nextClaim = ContinuousClock.now
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            let batch: [StreamEntry]?
            var attempts = 0
            do {
                batch = try await RedisClient.retrying(logger: logger, what: "reading \(stream)") { () throws(RedisError) -> [StreamEntry] in
                    attempts += 1
                    // A read whose reply was lost with the connection still delivered its entries
                    // to us: find them among our pending entries before reading anything new.
                    if attempts > 1 { ownPendingDone = false }
                    if !groupReady {
                        try await ensureGroup()
                        if takeOverOnStart { try await takeOverAll() }
                        groupReady = true
                    }
                    if !ownPendingDone {
                        // What this consumer read before a crash or restart, in order, before anything new.
                        let own = try await read(from: "0", block: false)
                        if !own.isEmpty { return own }
                        ownPendingDone = true
                    }
                    if ContinuousClock.now >= nextClaim {
                        nextClaim = ContinuousClock.now + min(claimIdle, .seconds(5))
                        let claimed = try await claimAbandoned()
                        if !claimed.isEmpty { return claimed }
                    }
                    return try await read(from: ">", block: true)
                }
            } catch {
                // Redis answered, but with an error (a WRONGTYPE key, an ACL denial): say so and retry.
                logger.error("cannot read \(stream): \(error)")
                groupReady = false
                ownPendingDone = false
                try? await Task.sleep(for: .seconds(2))
                continue
            }
            guard let batch else { return }
            if Task.isCancelled || Task.isShuttingDownGracefully { return }
            let deliveries = (try? await deliveryCounts(batch)) ?? [:]
            var eligible: [StreamEntry] = []
            for entry in batch {
                if let count = deliveries[entry.id], count > maxDeliveries {
                    await finish(entry, .deadLetter(reason: "delivered \(count) times without success (limit \(maxDeliveries))"))
                } else {
                    eligible.append(entry)
                }
            }
            if eligible.isEmpty { continue }
            var outcomes = await handle(eligible)
            if outcomes.count != eligible.count {
                logger.critical("the handler answered \(outcomes.count) outcomes for \(eligible.count) entries; leaving them pending")
                outcomes = Array(repeating: .leavePending, count: eligible.count)
            }
            var acknowledged: [String] = []
            for (entry, outcome) in zip(eligible, outcomes) {
                if outcome == .ack {
                    acknowledged.append(entry.id)
                } else {
                    await finish(entry, outcome)
                }
                if outcome == .leavePending { ownPendingDone = false }
            }
            if !acknowledged.isEmpty { await acknowledge(acknowledged) }
        }
    }

    /// Acknowledges entries the handler finished, in one command.
    private func acknowledge(_ ids: [String]) async {
        do {
            _ = try await RedisClient.retrying(logger: logger, what: "acknowledging \(ids.count) entries") { () throws(RedisError) in
                try await redis.run(XACK(stream, group: group, ids: ids))
            }
        } catch {
            // They stay pending and are read or claimed again.
            logger.error("cannot acknowledge \(ids.count) \(stream) entries: \(error)")
        }
    }

    /// Creates the group (and the stream) if missing, reading from the start so entries written
    /// before the first consumer existed are not skipped.
    public func ensureGroup() async throws(RedisError) {
        do {
            try await redis.run(XGROUPCREATE(stream, group: group, start: "0"))
            logger.info("created consumer group", metadata: ["stream": "\(stream)", "group": "\(group)"])
        } catch where XGROUPCREATE.isBusyGroup(error) {
            // Already there: another copy or an earlier run made it.
        }
    }

    /// Makes every pending entry of the group ours (its previous owner is gone: we hold the
    /// stream's lease), so reading our own pending entries finishes them first, in order.
    private func takeOverAll() async throws(RedisError) {
        var cursor = "0-0"
        repeat {
            cursor = try await redis.run(XAUTOCLAIM(stream, group: group, consumer: consumer, minIdle: 0, start: cursor, count: 1000, justIDs: true)).next
        } while cursor != "0-0"
    }

    /// `>`: new entries, waiting up to a second; `0`: this consumer's own pending entries.
    private func read(from id: String, block: Bool) async throws(RedisError) -> [StreamEntry] {
        let entries = try await redis.run(XREADGROUP(group: group, consumer: consumer, count: batchSize, block: block ? 1000 : nil, stream: stream, id: id))
        return try await dropDeleted(entries)
    }

    /// Entries pending longer than `claimIdle` with any consumer of the group, now ours.
    private func claimAbandoned() async throws(RedisError) -> [StreamEntry] {
        let claimed = try await redis.run(XAUTOCLAIM(stream, group: group, consumer: consumer, minIdle: Int(claimIdle.wholeMilliseconds), count: batchSize))
        let entries = try await dropDeleted(claimed.entries)
        if !entries.isEmpty { logger.notice("claimed \(entries.count) entries abandoned by another consumer", metadata: ["stream": "\(stream)"]) }
        return entries
    }

    /// An entry deleted from the stream while pending comes back without fields: nothing to do
    /// but acknowledge it.
    private func dropDeleted(_ entries: [StreamEntry]) async throws(RedisError) -> [StreamEntry] {
        let deleted = entries.filter(\.fields.isEmpty).map(\.id)
        if !deleted.isEmpty { _ = try await redis.run(XACK(stream, group: group, ids: deleted)) }
        return entries.filter { !$0.fields.isEmpty }
    }

    /// How often each entry of the batch has been delivered, from `XPENDING`.
    private func deliveryCounts(_ batch: [StreamEntry]) async throws(RedisError) -> [String: Int] {
        guard let first = batch.first?.id, let last = batch.last?.id else { return [:] }
        let pending = try await redis.run(XPENDING(stream, group: group, start: first, end: last, count: batch.count * 2 + 16, consumer: consumer))
        return Dictionary(pending.map { ($0.id, $0.deliveries) }, uniquingKeysWith: max)
    }

    /// The dead letter of an entry: why, where from, when, and the entry's own fields in order.
    static func deadLetterFields(reason: String, stream: String, entry: StreamEntry, group: String, at date: Date = Date()) -> StreamFields {
        var fields = StreamFields([("reason", reason), ("stream", stream), ("entry_id", entry.id), ("group", group), ("at", ISO8601.string(date))])
        for (name, value) in entry.fields { fields.append("field:\(name)", bytes: value) }
        return fields
    }

    private func finish(_ entry: StreamEntry, _ outcome: ConsumeOutcome) async {
        do {
            _ = try await RedisClient.retrying(logger: logger, what: "acknowledging \(entry.id)") { () throws(RedisError) in
                switch outcome {
                case .ack:
                    try await redis.run(XACK(stream, group: group, ids: [entry.id]))
                case .alreadyAcknowledged, .leavePending:
                    break
                case .deadLetter(let reason):
                    logger.error("dead-lettering \(stream) entry \(entry.id): \(reason)")
                    let fields = Self.deadLetterFields(reason: reason, stream: stream, entry: entry, group: group)
                    // The dead letter is written first, and the entry is acknowledged only if
                    // that worked (one script; in a Redis Cluster an idempotent sequence).
                    try await BusMove.deadLetter(redis: redis, deadLetters: deadLetters, source: stream, group: group, entryID: entry.id, fields: fields)
                    ConnectorMetrics.deadLetters(group: group).increment()
                }
            }
        } catch {
            // The entry stays pending and is read or claimed again.
            logger.error("cannot acknowledge \(stream) entry \(entry.id): \(error)")
        }
    }
}
