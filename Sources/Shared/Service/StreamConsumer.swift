import Foundation
import Logging

/// What a stage did with one stream entry.
public enum ConsumeOutcome: Sendable, Equatable {
    /// Done: acknowledge the entry.
    case ack
    /// The handler acknowledged the entry itself, atomically with its own write.
    case alreadyAcknowledged
    /// It can never succeed: move it to the dead-letter stream with the reason, then acknowledge.
    case deadLetter(reason: String)
}

/// One consumer of a Redis consumer group: reads new entries, takes over entries that a dead
/// consumer left pending, and hands each entry to the stage's handler in stream order.
///
/// Entries are acknowledged only after the handler says their effect is durable, so a consumer
/// killed at any instant loses nothing: a live consumer claims its entries after `claimIdle`.
public struct StreamConsumer: Sendable {
    public let redis: RedisClient
    public let stream: String
    public let group: String
    public let consumer: String
    public let deadLetters: String
    public let claimIdle: Duration
    public let batchSize: Int
    public let logger: Logger

    public init(redis: RedisClient, stream: String, group: String, consumer: String, deadLetters: String, claimIdle: Duration, batchSize: Int = 64, logger: Logger) {
        self.redis = redis
        self.stream = stream
        self.group = group
        self.consumer = consumer
        self.deadLetters = deadLetters
        self.claimIdle = claimIdle
        self.batchSize = batchSize
        self.logger = logger
    }

    /// A consumer name unique to this process: `<prefix>-<host>-<pid>`.
    public static func uniqueName(prefix: String) -> String {
        "\(prefix)-\(ProcessInfo.processInfo.hostName)-\(getpid())"
    }

    /// Consumes until the task is cancelled.
    public func run(_ handle: @Sendable (StreamEntry) async -> ConsumeOutcome) async {
        var groupReady = false
        var nextClaim = ContinuousClock.now
        while !Task.isCancelled {
            let entries: [StreamEntry]?
            do {
                entries = try await RedisClient.retrying(logger: logger, what: "reading \(stream)") { () throws(RedisError) -> [StreamEntry] in
                if !groupReady {
                    try await ensureGroup()
                    groupReady = true
                }
                if ContinuousClock.now >= nextClaim {
                    nextClaim = ContinuousClock.now + min(claimIdle, .seconds(5))
                    let claimed = try await claimAbandoned()
                    if !claimed.isEmpty { return claimed }
                }
                return try await readNew()
                }
            } catch {
                // Redis answered, but with an error (a WRONGTYPE key, an ACL denial): say so and retry.
                logger.error("cannot read \(stream): \(error)")
                groupReady = false
                try? await Task.sleep(for: .seconds(2))
                continue
            }
            guard let entries else { return }
            for entry in entries {
                if Task.isCancelled { return }
                await process(entry, handle)
            }
        }
    }

    /// Creates the group (and the stream) if missing, reading from the start so entries written
    /// before the first consumer existed are not skipped.
    public func ensureGroup() async throws(RedisError) {
        do {
            try await redis.send("XGROUP", "CREATE", stream, group, "0", "MKSTREAM")
            logger.info("created consumer group", metadata: ["stream": "\(stream)", "group": "\(group)"])
        } catch where error.kind == .server && error.message.hasPrefix("BUSYGROUP") {
            // Already there: another copy or an earlier run made it.
        }
    }

    private func readNew() async throws(RedisError) -> [StreamEntry] {
        let reply = try await redis.send("XREADGROUP", "GROUP", group, consumer, "COUNT", String(batchSize), "BLOCK", "1000", "STREAMS", stream, ">")
        return try StreamEntry.fromRead(reply)
    }

    /// Entries pending longer than `claimIdle` with any consumer of the group (including an
    /// earlier incarnation of this one), now ours.
    private func claimAbandoned() async throws(RedisError) -> [StreamEntry] {
        let idle = String(claimIdle.components.seconds * 1000 + claimIdle.components.attoseconds / 1_000_000_000_000_000)
        let reply = try await redis.send("XAUTOCLAIM", stream, group, consumer, idle, "0-0", "COUNT", String(batchSize))
        guard let parts = reply.array, parts.count >= 2 else {
            throw RedisError(.protocolViolation, "XAUTOCLAIM reply \(reply)")
        }
        let entries = try StreamEntry.list(from: parts[1])
        if !entries.isEmpty { logger.notice("claimed \(entries.count) abandoned entries", metadata: ["stream": "\(stream)"]) }
        // An entry deleted from the stream while pending has no fields: nothing to do but ack it.
        for entry in entries where entry.fields.isEmpty {
            try await redis.send("XACK", stream, group, entry.id)
        }
        return entries.filter { !$0.fields.isEmpty }
    }

    private func process(_ entry: StreamEntry, _ handle: @Sendable (StreamEntry) async -> ConsumeOutcome) async {
        let outcome = await handle(entry)
        do {
            _ = try await RedisClient.retrying(logger: logger, what: "acknowledging \(entry.id)") { () throws(RedisError) in
            switch outcome {
            case .ack:
                try await redis.send("XACK", stream, group, entry.id)
            case .alreadyAcknowledged:
                break
            case .deadLetter(let reason):
                logger.error("dead-lettering \(stream) entry \(entry.id): \(reason)")
                let fields = [("reason", reason), ("stream", stream), ("entry_id", entry.id), ("group", group)]
                    + entry.fields.sorted { $0.key < $1.key }.map { ("field:\($0.key)", $0.value) }
                // MULTI/EXEC: the dead letter and the acknowledgement land together or not at all.
                let replies = try await redis.pipeline([
                    ["MULTI"],
                    ["XADD", deadLetters, "*"] + flattenFields(fields),
                    ["XACK", stream, group, entry.id],
                    ["EXEC"],
                ])
                if case .error(let message) = replies.last ?? .null { throw RedisError(.server, message) }
            }
            }
        } catch {
            // The entry stays pending and is claimed again after `claimIdle`.
            logger.error("cannot acknowledge \(stream) entry \(entry.id): \(error)")
        }
    }
}
