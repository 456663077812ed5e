import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Dispatcher: reads every inbound partition (`discord:inbound`, `INBOUND_PARTITIONS`) as a
/// consumer group and delivers each message to its agent's inbox (`sos:inbox:<agent>`),
/// acknowledging the inbound entry in the same step (`BusMove`).
///
/// On graceful shutdown it finishes the deliveries in hand and stops reading.
public struct DispatcherService: Service, CustomStringConvertible {
    let config: ConnectorConfig
    let logger: Logger
    public var description: String { "Dispatcher" }

    public init(config: ConnectorConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    public func run() async throws {
        let keys = BusKeys(config: config)
        let redis = RedisClient(config: config, name: "dispatcher-redis")
        guard let signer = try await CtxSigner.resolve(config: config, redis: redis, keys: keys, logger: logger) else { return }
        let streams = keys.inboundStreams(count: config.inboundPartitions)
        logger.info("dispatching \(streams.count == 1 ? streams[0] : "\(streams.count) inbound partitions") -> sos:inbox:<agent>", metadata: ["default_agent": "\(config.router.defaultAgent)", "mapped_channels": "\(config.router.channelAgents.count)"])
        let journal = try config.inboxJSONLPath.map { try InboxJournal(path: $0) }
        if let journal { logger.info("also appending delivered messages to \(journal.path)") }
        await withTaskGroup(of: Void.self) { group in
            for (partition, stream) in streams.enumerated() {
                // One client per partition: each blocks on its own stream.
                let partitionRedis = partition == 0 ? redis : RedisClient(config: config, name: "dispatcher-redis-\(partition)")
                let consumer = StreamConsumer(
                    redis: partitionRedis,
                    stream: stream,
                    group: BusKeys.dispatcherGroup,
                    consumer: config.consumerName(prefix: "dispatcher"),
                    deadLetters: keys.deadLetters,
                    claimIdle: .milliseconds(config.claimIdleMilliseconds),
                    maxDeliveries: config.maxDeliveries,
                    logger: logger
                )
                let delivery = InboxDelivery(
                    redis: partitionRedis, keys: keys, source: stream, router: config.router, connectorAgentName: config.connectorAgentName,
                    signer: signer, feedback: config.typingIndicator || config.receiptReaction != nil, journal: journal, logger: logger
                )
                group.addTask { await consumer.run(batch: { entries in await delivery.deliver(batch: entries) }) }
            }
        }
    }
}

/// Delivers one inbound entry to its agent's inbox.
struct InboxDelivery: Sendable {
    let redis: RedisClient
    let keys: BusKeys
    /// The inbound partition this delivery consumes.
    let source: String
    let router: AgentRouter
    let connectorAgentName: String
    let signer: CtxSigner
    /// Typing indicator or receipt reaction on: the Replier learns of each delivery.
    let feedback: Bool
    let journal: InboxJournal?
    let logger: Logger

    /// One inbound entry, decoded and addressed.
    struct Addressed {
        var entry: StreamEntry
        var message: InboundMessage
        var record: AgentInboxRecord
        var inbox: String
    }

    enum Addressing {
        case addressed(Addressed)
        /// Unreadable: what to do with it instead.
        case refused(ConsumeOutcome)
    }

    func address(_ entry: StreamEntry) -> Addressing {
        do {
            let message = try InboundMessage(fields: entry.fields)
            let agent = router.agent(for: message)
            let record = AgentInboxRecord(message: message, agent: agent, connectorAgentName: connectorAgentName, ctxBlock: signer.block(for: message.requestID))
            return .addressed(Addressed(entry: entry, message: message, record: record, inbox: BusKeys.inbox(agent)))
        } catch {
            return .refused(.deadLetter(reason: "unreadable inbound record: \(error)"))
        }
    }

    /// A batch as read: on one Redis every entry's forwarding script (and its typing mark) goes
    /// out in one pipelined round trip, in stream order; each script acknowledges its own entry,
    /// so the guarantees are those of one entry at a time. In a cluster (each move a sequence
    /// across slots), or for a batch of one, entry by entry.
    func deliver(batch entries: [StreamEntry]) async -> [ConsumeOutcome] {
        let cluster = keys.cluster
        guard entries.count > 1, !cluster else {
            var outcomes: [ConsumeOutcome] = []
            for entry in entries { outcomes.append(await deliver(entry)) }
            return outcomes
        }
        var outcomes = [ConsumeOutcome?](repeating: nil, count: entries.count)
        var addressed: [(index: Int, item: Addressed)] = []
        for (index, entry) in entries.enumerated() {
            switch address(entry) {
            case .addressed(let item): addressed.append((index, item))
            case .refused(let outcome): outcomes[index] = outcome
            }
        }
        var requests: [RedisRequest] = []
        let now = Int(Date().timeIntervalSince1970 * 1000)
        for (_, item) in addressed {
            requests.append(forwardScript(item).request)
            // The Replier shows "typing" (and the receipt reaction) while it waits.
            if feedback { requests.append(ZADD(keys.typing, score: now, member: item.message.requestID).request) }
        }
        let replies: [RedisValue]?
        do {
            replies = try await RedisClient.retrying(logger: logger, what: "delivering \(addressed.count) messages") { () throws(RedisError) -> [RedisValue] in
                try await redis.pipeline(requests)
            }
        } catch {
            replies = nil  // answered as one at a time below, each with its own error
        }
        guard let replies else {
            if Task.isCancelled || Task.isShuttingDownGracefully { return entries.map { _ in .leavePending } }
            for (index, item) in addressed { outcomes[index] = await deliver(item.entry) }
            return outcomes.map { $0 ?? .leavePending }
        }
        let stride = feedback ? 2 : 1
        for (position, (index, item)) in addressed.enumerated() {
            switch replies[position * stride] {
            case .integer(1):
                delivered(item)
                outcomes[index] = .alreadyAcknowledged
            case .integer:
                logger.notice("inbound entry \(item.entry.id) was already delivered by another consumer")
                outcomes[index] = .alreadyAcknowledged
            default:
                // NOSCRIPT after a Redis restart, or an error of this entry's own: once more alone
                // (the script is idempotent: an entry acknowledged meanwhile appends nothing).
                outcomes[index] = await deliver(item.entry)
            }
        }
        return outcomes.map { $0 ?? .leavePending }
    }

    /// One entry, as its own step (`BusMove`: one script on one Redis, a sequence in a cluster).
    func deliver(_ entry: StreamEntry) async -> ConsumeOutcome {
        let item: Addressed
        switch address(entry) {
        case .addressed(let addressed): item = addressed
        case .refused(let outcome): return outcome
        }
        do {
            let delivered = try await RedisClient.retrying(logger: logger, what: "delivering to \(item.inbox)") { () throws(RedisError) -> Bool in
                try await BusMove.forward(
                    redis: redis, source: source, group: BusKeys.dispatcherGroup, entryID: entry.id, target: item.inbox,
                    fields: item.record.streamFields, pending: (keys.pending(item.message.requestID), item.record.to)
                )
            }
            switch delivered {
            case true?:
                if feedback {
                    _ = try? await redis.run(ZADD(keys.typing, score: Int(Date().timeIntervalSince1970 * 1000), member: item.message.requestID))
                }
                self.delivered(item)
            case false?:
                logger.notice("inbound entry \(entry.id) was already delivered by another consumer")
            case nil:
                return .leavePending  // stopping during a Redis outage
            }
            return .alreadyAcknowledged
        } catch {
            return .deadLetter(reason: "cannot write to \(item.inbox): \(error)")
        }
    }

    /// The one-Redis forwarding script of an entry (`BusScripts.forwardToInbox`).
    func forwardScript(_ item: Addressed) -> ScriptCall {
        BusScripts.forwardToInbox.call(
            keys: [source, item.inbox, keys.pending(item.message.requestID)],
            arguments: [RedisBytes(BusKeys.dispatcherGroup), RedisBytes(item.entry.id), RedisBytes(item.record.to)] + item.record.streamFields.flattened
        )
    }

    /// What follows a delivery: the count, the JSONL sink, the log.
    func delivered(_ item: Addressed) {
        ConnectorMetrics.dispatcherDelivered.increment()
        do {
            try journal?.append(item.record)
        } catch {
            logger.error("cannot append request \(item.message.requestID) to the JSONL sink: \(error)")
        }
        logger.debug("delivered request \(item.message.requestID) to \(item.inbox)", metadata: ["kind": "\(item.message.kind.rawValue)", "message_id": "\(item.message.messageID)"])
    }
}
