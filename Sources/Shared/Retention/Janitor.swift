import Foundation
import Logging
import ServiceLifecycle

/// Keeps the bus bounded (CONTRACT section 9): every `JANITOR_INTERVAL` seconds, in one process
/// at a time (a lease), it trims each stream to its retention without ever removing an entry a
/// consumer group on it has not read or acknowledged, and removes bookkeeping that outlived its
/// purpose. It runs beside the Dispatcher, off the hot path: nothing waits for it.
public struct Janitor: Service, CustomStringConvertible {
    let config: ConnectorConfig
    let keys: BusKeys
    let logger: Logger
    public var description: String { "Janitor" }

    public init(config: ConnectorConfig, logger: Logger) {
        self.config = config
        self.keys = BusKeys(config: config)
        self.logger = logger
    }

    public func run() async throws {
        let redis = RedisClient(config: config, name: "janitor")
        let lease = LeaseSet(
            redis: RedisClient(url: config.busURL, user: config.connectorAgentName, password: config.busToken, timeout: .milliseconds(500), name: "janitor-lease"),
            keyPrefix: keys.janitorLeasePrefix, membersKey: keys.janitorMembers, count: 1,
            ttl: .milliseconds(max(config.gatewayLeaseMilliseconds, 2 * config.janitorInterval * 1000)),
            owner: LeaseSet.makeOwnerID(prefix: "janitor"), logger: logger
        )
        try await lease.run { _ in
            while !Task.isCancelled, !Task.isShuttingDownGracefully {
                do {
                    let report = try await sweep(redis: redis)
                    if report.trimmedEntries > 0 || report.removed > 0 {
                        logger.info("retention: trimmed \(report.trimmedEntries) entries from \(report.trimmedStreams) stream(s), removed \(report.removed) stale bookkeeping entries")
                    }
                } catch {
                    logger.warning("retention sweep failed (tried again in \(config.janitorInterval) s): \(error)")
                }
                try? await Task.sleep(for: .seconds(config.janitorInterval))
            }
        }
    }

    public struct Report: Sendable, Equatable {
        public var trimmedEntries = 0
        public var trimmedStreams = 0
        public var removed = 0
    }

    /// One pass over the bus.
    public func sweep(redis: RedisClient, now: Date = Date()) async throws(RedisError) -> Report {
        let nowMilliseconds = UInt64(now.timeIntervalSince1970 * 1000)
        var report = Report()
        for (stream, kind) in try await streams(redis: redis) {
            let trimmed = try await trim(stream, kind: kind, redis: redis, nowMilliseconds: nowMilliseconds)
            if trimmed > 0 {
                report.trimmedEntries += trimmed
                report.trimmedStreams += 1
            }
        }
        // Heartbeats of processes gone for longer than the acked retention (at least a minute:
        // live ones beat every 5 seconds).
        let staleBefore = Int(nowMilliseconds) - max(config.ackedRetention, 60) * 1000
        let beats = try await redis.run(HGETALL(keys.heartbeats))
        let stale = beats.pairs.filter { (Int($0.value.string) ?? 0) < staleBefore }.map(\.name)
        if !stale.isEmpty { report.removed += try await redis.run(HDEL(keys.heartbeats, fields: stale)) }
        // Requests whose pending context expired can no longer be typed for or noticed.
        let expiredBefore = Int(nowMilliseconds) - config.pendingTTL * 1000
        report.removed += try await redis.run(ZREMRANGEBYSCORE(keys.typing, max: expiredBefore))
        report.removed += try await redis.run(ZREMRANGEBYSCORE(keys.unanswered, max: expiredBefore))
        return report
    }

    /// Every stream the connector keeps or writes, with its kind.
    func streams(redis: RedisClient) async throws(RedisError) -> [(String, RetentionPlan.Kind)] {
        var result: [(String, RetentionPlan.Kind)] = keys.inboundStreams(count: config.inboundPartitions).map { ($0, .connector) }
        result += [(keys.replyInbox, .connector), (keys.deadLetters, .deadLetters)]
        result += (0..<config.replyPartitions).map { (keys.replyPartition($0), .connector) }
        for outbox in try await scanKeys(BusKeys.outboxPrefix + "*", type: "stream", redis: redis).sorted() {
            result.append((outbox, .connector))
        }
        for inbox in try await scanKeys(BusKeys.inbox("*"), type: "stream", redis: redis).sorted() where inbox != keys.replyInbox {
            result.append((inbox, .agentInbox))
        }
        return result
    }

    /// Trims one stream to its retention, below every group's floor; answers how many went.
    func trim(_ stream: String, kind: RetentionPlan.Kind, redis: RedisClient, nowMilliseconds: UInt64) async throws(RedisError) -> Int {
        let groups: [XINFOGROUPS.Group]
        do {
            groups = try await redis.run(XINFOGROUPS(stream))
        } catch where error.message.hasPrefix("ERR no such key") {
            return 0
        }
        var states: [RetentionPlan.Group] = []
        for group in groups {
            guard let last = StreamID(group.lastDeliveredID) else { return 0 }  // unreadable: trim nothing
            var oldest: StreamID?
            if group.pending > 0 {
                guard let first = try await redis.run(XPENDING(stream, group: group.name, count: 1)).first, let id = StreamID(first.id) else { return 0 }
                oldest = id
            }
            states.append(.init(name: group.name, lastDelivered: last, oldestPending: oldest))
        }
        let keep = RetentionPlan.keepSeconds(
            kind, hasGroups: !states.isEmpty, streamRetention: config.streamRetention,
            ackedRetention: config.ackedRetention, deadLetterRetention: config.deadLetterRetention
        )
        guard let minID = RetentionPlan.minID(groups: states, nowMilliseconds: nowMilliseconds, keepMilliseconds: UInt64(keep) * 1000) else { return 0 }
        return try await redis.run(XTRIMMINID(stream, minID: minID.description))
    }
}
