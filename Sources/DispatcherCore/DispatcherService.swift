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
                group.addTask { await consumer.run { entry in await delivery.deliver(entry) } }
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

    func deliver(_ entry: StreamEntry) async -> ConsumeOutcome {
        let message: InboundMessage
        do {
            message = try InboundMessage(fields: entry.fields)
        } catch {
            return .deadLetter(reason: "unreadable inbound record: \(error)")
        }
        let agent = router.agent(for: message)
        let record = AgentInboxRecord(message: message, agent: agent, connectorAgentName: connectorAgentName, ctxBlock: signer.block(for: message.requestID))
        let inbox = BusKeys.inbox(agent)
        do {
            let delivered = try await RedisClient.retrying(logger: logger, what: "delivering to \(inbox)") { () throws(RedisError) -> Bool in
                try await BusMove.forward(
                    redis: redis, source: source, group: BusKeys.dispatcherGroup, entryID: entry.id, target: inbox,
                    fields: record.streamFields, pending: (keys.pending(message.requestID), agent)
                )
            }
            switch delivered {
            case true?:
                ConnectorMetrics.dispatcherDelivered.increment()
                if feedback {
                    // The Replier shows "typing" (and the receipt reaction) while it waits.
                    _ = try? await redis.run(ZADD(keys.typing, score: Int(Date().timeIntervalSince1970 * 1000), member: message.requestID))
                }
                do {
                    try journal?.append(record)
                } catch {
                    logger.error("cannot append request \(message.requestID) to the JSONL sink: \(error)")
                }
                logger.debug("delivered request \(message.requestID) to \(inbox)", metadata: ["kind": "\(message.kind.rawValue)", "message_id": "\(message.messageID)"])
            case false?:
                logger.notice("inbound entry \(entry.id) was already delivered by another consumer")
            case nil:
                return .leavePending  // stopping during a Redis outage
            }
            return .alreadyAcknowledged
        } catch {
            return .deadLetter(reason: "cannot write to \(inbox): \(error)")
        }
    }
}
