import Foundation
import Logging
import Shared

/// Replier: reads agents' records from the connector's inbox as a consumer group, finds the
/// request each answers, and posts the text to Discord as a reply, acknowledging only after
/// Discord accepted every chunk.
struct ReplierService {
    let config: ConnectorConfig
    let logger: Logger

    func run() async throws {
        guard config.enableReplyLoop else {
            logger.notice("ENABLE_REPLY_LOOP=0: the reply path is off; replies stay queued in \(BusKeys.inbox(config.connectorAgentName)) until it is turned on")
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            return
        }
        let keys = BusKeys(connectorAgentName: config.connectorAgentName)
        let redis = RedisClient(config: config, name: "replier-redis")
        guard let signer = try await CtxSigner.resolve(config: config, redis: redis, keys: keys, logger: logger) else { return }
        let poster = ReplyPoster(
            rest: DiscordREST(apiBase: config.apiBase, token: try config.requireDiscordToken()),
            dryRun: config.dryRun,
            logger: logger
        )
        let consumer = StreamConsumer(
            redis: redis,
            stream: keys.replyInbox,
            group: BusKeys.replierGroup,
            consumer: StreamConsumer.consumerName(prefix: "replier"),
            deadLetters: keys.deadLetters,
            claimIdle: .milliseconds(config.claimIdleMilliseconds),
            maxDeliveries: config.maxDeliveries,
            logger: logger
        )
        if config.dryRun { logger.notice("DRY_RUN=1: replies are logged, not posted") }
        logger.info("posting replies from \(keys.replyInbox)")
        let handler = ReplyHandler(keys: keys, redis: redis, signer: signer, poster: poster, logger: logger)
        await withTaskGroup(of: Void.self) { group in
            if config.unansweredNoticeAfter > 0 {
                let notices = UnansweredNotices(
                    redis: RedisClient(config: config, name: "replier-notices"), keys: keys,
                    poster: poster, noticeAfter: config.unansweredNoticeAfter, logger: logger
                )
                group.addTask { await notices.run() }
            }
            group.addTask { await consumer.run { entry in await handler.handle(entry) } }
        }
    }
}

/// Turns one reply record into Discord posts.
struct ReplyHandler: Sendable {
    let keys: BusKeys
    let redis: RedisClient
    let signer: CtxSigner
    let poster: ReplyPoster
    let logger: Logger
    let splitter = ReplySplitter()

    func handle(_ entry: StreamEntry) async -> ConsumeOutcome {
        let record: ReplyRecord
        do {
            record = try ReplyRecord(fields: entry.fields)
        } catch {
            await count("replies_unreadable")
            return .deadLetter(reason: "unreadable reply record: \(error)")
        }

        let target: (channelID: String, reference: MessageCreate.MessageReference?)
        var answered: String?
        switch ReplyResolution.resolve(record, signer: signer) {
        case .unroutable(let reason):
            logger.warning("not posting reply \(entry.id) from '\(record.from)': \(reason)")
            await count("replies_unroutable")
            return .deadLetter(reason: "unroutable reply: \(reason)")
        case .outbound:
            guard let channelID = record.channelID else {
                return .deadLetter(reason: "outbound by channel_name is not supported yet; give channel_id")
            }
            target = (channelID, nil)
        case .request(let requestID):
            let fields: [String: String]
            do {
                guard let loaded = try await RedisClient.retrying(logger: logger, what: "loading context \(requestID)", { () throws(RedisError) in
                    try await redis.send("HGETALL", keys.pending(requestID)).fieldMap
                }) else { return .leavePending }  // stopping during a Redis outage
                fields = loaded
            } catch {
                return .deadLetter(reason: "cannot load the pending context of \(requestID): \(error)")
            }
            guard let context = try? PendingContext(fields: fields) else {
                logger.warning("not posting reply \(entry.id): request \(requestID) is unknown or its context expired")
                await count("replies_expired")
                return .deadLetter(reason: "pending context for request \(requestID) is unknown or expired")
            }
            target = (context.replyChannelID, .init(messageID: context.messageID, channelID: context.replyChannelID))
            answered = requestID
        }

        var text = ReplyTokens.strip(record.text)
        if let rig = record.rigName { text = "[\(rig)] " + text }
        let chunks = splitter.split(text)
        guard !chunks.isEmpty else {
            logger.notice("reply \(entry.id) is empty once its tokens are removed; nothing to post")
            return .ack
        }
        for (index, chunk) in chunks.enumerated() {
            let message = MessageCreate(
                content: chunk,
                nonce: ReplyNonce.make(stream: keys.replyInbox, entryID: entry.id, chunk: index),
                // Only the first chunk is a reply, so the asker is pinged once.
                messageReference: index == 0 ? target.reference : nil,
                allowedMentions: .init(repliedUser: index == 0 && target.reference != nil)
            )
            switch await poster.post(message, to: target.channelID) {
            case .posted:
                continue
            case .cancelled:
                return .leavePending  // stopping: the nonce stops a double post when it is retried
            case .rejected(let status, let body):
                await count("replies_rejected")
                return .deadLetter(reason: "Discord refused chunk \(index + 1)/\(chunks.count) to channel \(target.channelID) with \(status): \(body)")
            }
        }
        logger.info("posted reply \(entry.id) to channel \(target.channelID)", metadata: ["chunks": "\(chunks.count)", "from": "\(record.from)"])
        if let answered { _ = try? await redis.send("ZREM", keys.unanswered, answered) }
        await count("replies_posted")
        return .ack
    }

    private func count(_ counter: String) async {
        _ = try? await redis.send("HINCRBY", keys.stats, counter, "1")
    }
}
