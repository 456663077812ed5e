import Foundation
import Logging
import Shared

/// Dispatcher: reads `discord:inbound` as a consumer group and delivers each message to its
/// agent's inbox (`sos:inbox:<agent>`), acknowledging the inbound entry in the same atomic step.
struct DispatcherService {
    let config: ConnectorConfig
    let logger: Logger

    func run() async throws {
        let keys = BusKeys(connectorAgentName: config.connectorAgentName)
        let redis = RedisClient(config: config, name: "dispatcher-redis")
        guard let signer = try await CtxSigner.resolve(config: config, redis: redis, keys: keys, logger: logger) else { return }
        let consumer = StreamConsumer(
            redis: redis,
            stream: keys.inbound,
            group: BusKeys.dispatcherGroup,
            consumer: StreamConsumer.consumerName(prefix: "dispatcher"),
            deadLetters: keys.deadLetters,
            claimIdle: .milliseconds(config.claimIdleMilliseconds),
            maxDeliveries: config.maxDeliveries,
            logger: logger
        )
        logger.info("dispatching \(keys.inbound) -> sos:inbox:<agent>", metadata: ["default_agent": "\(config.router.defaultAgent)", "mapped_channels": "\(config.router.channelAgents.count)"])
        let journal = try config.inboxJSONLPath.map { try InboxJournal(path: $0) }
        if let journal { logger.info("also appending delivered messages to \(journal.path)") }
        let feedback = config.typingIndicator || config.receiptReaction != nil
        let router = config.router
        let connectorName = config.connectorAgentName
        await consumer.run { entry in
            let message: InboundMessage
            do {
                message = try InboundMessage(fields: entry.fields)
            } catch {
                return .deadLetter(reason: "unreadable inbound record: \(error)")
            }
            let agent = router.agent(for: message)
            let record = AgentInboxRecord(message: message, agent: agent, connectorAgentName: connectorName, ctxBlock: signer.block(for: message.requestID))
            let inbox = BusKeys.inbox(agent)
            do {
                let delivered = try await RedisClient.retrying(logger: logger, what: "delivering to \(inbox)") { () throws(RedisError) -> Bool in
                    try await redis.evaluate(
                        BusScripts.forwardToInbox,
                        keys: [keys.inbound, inbox, keys.pending(message.requestID)],
                        arguments: [BusKeys.dispatcherGroup, entry.id, agent] + flattenFields(record.fields)
                    ).int == 1
                }
                switch delivered {
                case true?:
                    ConnectorMetrics.dispatcherDelivered.increment()
                    if feedback {
                        // The Replier shows "typing" (and the receipt reaction) while it waits.
                        _ = try? await redis.send("ZADD", keys.typing, String(Int(Date().timeIntervalSince1970 * 1000)), message.requestID)
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
}
