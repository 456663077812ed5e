import Foundation
import Logging

/// The accept path of everything that reaches the connector from Discord: writes an accepted
/// `InboundMessage` to its channel's inbound partition together with its pending reply context,
/// its seen-marker and its unanswered-notice schedule, exactly once per Discord id. The gateway,
/// the REST poller and the catch-up use it through Ingest; the Interactions Endpoint reuses it.
///
/// On one Redis all of it is one script (`BusScripts.acceptInbound`). In a Redis Cluster those
/// keys live in different slots, so it is a sequence that stays exactly once: the pending context
/// first (under the request id, new for every event, so writing it twice writes the same thing),
/// then in the partition's slot the seen-marker and the entry together (`BusScripts.appendOnce`:
/// a replay finds the marker and writes nothing), then the catch-up cursor and the notice
/// schedule. A crash after the entry loses at most the cursor's advance (a catch-up then reads
/// a little more, and the seen-markers drop it) and the request's "no answer yet" notice.
public struct InboundAcceptor: Sendable {
    public enum Outcome: Sendable, Equatable {
        /// Written now.
        case accepted
        /// Written before (a resume replay, a catch-up overlap, a second Ingest): nothing written.
        case duplicate
        /// The process is stopping and nothing was written; a resume or the next poll replays it.
        case stopped
        /// Redis refused the write for good (logged); the message is not on the bus.
        case failed
        /// A click on components whose set is gone (expired with `COMPONENT_TTL`): nothing written.
        case expired
    }

    let redis: RedisClient
    let keys: BusKeys
    /// Seconds the pending context and the seen-marker live.
    let pendingTTL: Int
    /// Seconds until the unanswered notice is due; 0 for none.
    let noticeAfter: Int
    /// `INBOUND_PARTITIONS`.
    let partitions: Int
    let logger: Logger

    public init(redis: RedisClient, keys: BusKeys, pendingTTL: Int, noticeAfter: Int, partitions: Int = 1, logger: Logger) {
        self.redis = redis
        self.keys = keys
        self.pendingTTL = pendingTTL
        self.noticeAfter = noticeAfter
        self.partitions = partitions
        self.logger = logger
    }

    public init(redis: RedisClient, config: ConnectorConfig, logger: Logger) {
        self.init(
            redis: redis, keys: BusKeys(config: config), pendingTTL: config.pendingTTL, noticeAfter: config.unansweredNoticeAfter,
            partitions: config.inboundPartitions, logger: logger
        )
    }

    /// What a click becomes once its components' set is looked up.
    public enum ClickResolution: Sendable, Equatable {
        case resolved(InboundMessage)
        /// The set is gone (`COMPONENT_TTL`): nobody is waiting for this click.
        case expired
        case stopped
        case failed
    }

    /// Finds the agent a click belongs to (the set's `ComponentContext`). A read only: the
    /// gateway path runs it while its acknowledgement is on the way.
    public func resolve(click: ComponentClick) async -> ClickResolution {
        let key = keys.components(click.target.set)
        let fields: StreamFields
        do {
            guard let loaded = try await RedisClient.retrying(logger: logger, what: "loading components \(click.target.set)", { () throws(RedisError) in
                try await redis.run(HGETALL(key))
            }) else { return .stopped }
            fields = loaded
        } catch {
            logger.error("cannot load \(key) for interaction \(click.message.interactionID): \(error)")
            return .failed
        }
        guard let context = try? ComponentContext(fields: fields), let message = click.resolved(with: context) else {
            logger.info("interaction \(click.message.interactionID) clicked components whose set \(click.target.set) is gone (COMPONENT_TTL)")
            return .expired
        }
        return .resolved(message)
    }

    /// Writes a resolved click, as `accept` does, exactly once per interaction.
    public func accept(click: ComponentClick, _ resolution: ClickResolution) async -> Outcome {
        switch resolution {
        case .resolved(let message): await accept(message, cursorChannel: nil, interaction: click.reply)
        case .expired: .expired
        case .stopped: .stopped
        case .failed: .failed
        }
    }

    /// Resolves and writes a click.
    public func accept(click: ComponentClick) async -> Outcome {
        await accept(click: click, await resolve(click: click))
    }

    /// Writes consecutive messages, in order: on one Redis every accept script goes out in one
    /// pipelined round trip (each still all or nothing, and exactly once by its seen-marker); in
    /// a cluster, or for one message, one at a time. An outcome per message, in order.
    public func accept(batch messages: [(message: InboundMessage, cursorChannel: String?)]) async -> [Outcome] {
        guard messages.count > 1, !keys.cluster else {
            var outcomes: [Outcome] = []
            for item in messages { outcomes.append(await accept(item.message, cursorChannel: item.cursorChannel)) }
            return outcomes
        }
        let requests = messages.map { acceptScript($0.message, cursorChannel: $0.cursorChannel, interaction: nil).request }
        let replies: [RedisValue]?
        do {
            replies = try await RedisClient.retrying(logger: logger, what: "writing \(messages.count) messages to the inbound stream") { () throws(RedisError) -> [RedisValue] in
                try await redis.pipeline(requests)
            }
        } catch {
            replies = []  // each is tried alone below, with its own error
        }
        guard let replies else { return messages.map { _ in .stopped } }
        var outcomes: [Outcome] = []
        for (index, item) in messages.enumerated() {
            switch index < replies.count ? replies[index] : .null {
            case .integer(1):
                logger.debug("accepted message \(item.message.messageID) as \(item.message.kind.rawValue)", metadata: ["request_id": "\(item.message.requestID)", "channel": "\(item.message.replyChannelID)"])
                ConnectorMetrics.ingestAccepted.increment()
                outcomes.append(.accepted)
            case .integer(0):
                logger.info("message \(item.message.dedupeID) was already accepted; not forwarding it twice")
                ConnectorMetrics.ingestDuplicates.increment()
                outcomes.append(.duplicate)
            default:
                // NOSCRIPT after a Redis restart, or an error of this message's own: alone.
                outcomes.append(await accept(item.message, cursorChannel: item.cursorChannel))
            }
        }
        return outcomes
    }

    /// When the "no answer yet" notice of a message is due (ms), or 0 for none: a click answers
    /// the agent rather than asking it, so it gets none.
    func noticeDue(_ inbound: InboundMessage) -> Int {
        noticeAfter > 0 && inbound.kind != .component ? Int(Date().timeIntervalSince1970 * 1000) + noticeAfter * 1000 : 0
    }

    /// The one-Redis accept script of a message (`BusScripts.acceptInbound`).
    func acceptScript(_ inbound: InboundMessage, cursorChannel: String?, interaction: PendingContext.InteractionReply?) -> ScriptCall {
        var context = PendingContext(inbound)
        context.interaction = interaction
        let pending = context.streamFields
        let noticeDue = noticeDue(inbound)
        let partition = BusKeys.partition(of: inbound.replyChannelID, count: partitions)
        return BusScripts.acceptInbound.call(
            keys: [keys.seen(inbound.dedupeID, inboundPartition: partition), keys.pending(inbound.requestID), keys.inbound(partition), keys.cursors, keys.unanswered],
            arguments: [RedisBytes(pendingTTL), RedisBytes(cursorChannel ?? ""), RedisBytes(inbound.messageID), RedisBytes(noticeDue), RedisBytes(inbound.requestID), RedisBytes(pending.count)]
                + pending.flattened + inbound.streamFields.flattened
        )
    }

    /// Writes `inbound`. `cursorChannel` is the channel whose catch-up cursor the message moves
    /// (the channel or thread it was posted in).
    /// - Parameters:
    ///   - cursorChannel: the channel whose catch-up cursor the message moves; nil for an
    ///     interaction, which is not a message and is not caught up.
    ///   - interaction: how to answer an interaction, kept in the pending context.
    public func accept(_ inbound: InboundMessage, cursorChannel: String?, interaction: PendingContext.InteractionReply? = nil) async -> Outcome {
        let partition = BusKeys.partition(of: inbound.replyChannelID, count: partitions)
        let stream = keys.inbound(partition)
        let cluster = keys.cluster
        /// The cluster's sequence (see the type's documentation).
        @Sendable func acceptInSlots() async throws(RedisError) -> Bool {
            var context = PendingContext(inbound)
            context.interaction = interaction
            let pending = context.streamFields
            let noticeDue = noticeDue(inbound)
            let seen = keys.seen(inbound.dedupeID, inboundPartition: partition)
            if try await redis.run(EXISTS(seen)) { return false }
            try await redis.run(BusScripts.storeHash.call(keys: [keys.pending(inbound.requestID)], arguments: [RedisBytes(pendingTTL)] + pending.flattened))
            guard try await redis.run(BusScripts.appendOnce.call(keys: [stream, seen], arguments: [RedisBytes(pendingTTL)] + inbound.streamFields.flattened)).string != nil else { return false }
            if let cursorChannel {
                try await redis.run(BusScripts.advanceCursor.call(keys: [keys.cursors], arguments: [RedisBytes(cursorChannel), RedisBytes(inbound.messageID)]))
            }
            if noticeDue > 0 { try await redis.run(ZADD(keys.unanswered, score: noticeDue, member: inbound.requestID)) }
            return true
        }
        do {
            let written = try await RedisClient.retrying(logger: logger, what: "writing message \(inbound.messageID) to \(stream)") { () throws(RedisError) -> Bool in
                cluster ? try await acceptInSlots() : try await redis.run(acceptScript(inbound, cursorChannel: cursorChannel, interaction: interaction)).int == 1
            }
            switch written {
            case true?:
                logger.debug("accepted message \(inbound.messageID) as \(inbound.kind.rawValue)", metadata: ["request_id": "\(inbound.requestID)", "channel": "\(inbound.replyChannelID)"])
                ConnectorMetrics.ingestAccepted.increment()
                return .accepted
            case false?:
                logger.info("\(inbound.interactionID.isEmpty ? "message" : "interaction") \(inbound.dedupeID) was already accepted; not forwarding it twice")
                ConnectorMetrics.ingestDuplicates.increment()
                return .duplicate
            case nil:
                logger.warning("stopped before message \(inbound.messageID) was written; a resume will replay it")
                return .stopped
            }
        } catch {
            logger.error("cannot write message \(inbound.messageID) to the bus: \(error)")
            return .failed
        }
    }
}
