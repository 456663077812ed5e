import Foundation
import Logging
import Shared

/// Handles gateway dispatches: keeps the channel directory current and writes each accepted
/// message to the bus, together with its pending reply context, exactly once.
actor InboundEventHandler {
    private let policy: TriggerPolicy
    private let pendingTTL: Int
    private let keys: BusKeys
    private let redis: RedisClient
    private let directory: ChannelDirectory
    private let catchUp: CatchUp
    private let noticeAfter: Int
    private let logger: Logger
    /// When the gateway last delivered an event (to this process or, at start, to any Ingest):
    /// a READY after that means a session was lost, and what was said since must be caught up.
    private var lastEventAt: Date?

    init(botUserID: String, config: ConnectorConfig, keys: BusKeys, redis: RedisClient, directory: ChannelDirectory, catchUp: CatchUp, lastAlive: Date?, logger: Logger) {
        self.policy = TriggerPolicy(botUserID: botUserID, router: config.router, allowlist: config.allowlist)
        self.pendingTTL = config.pendingTTL
        self.noticeAfter = config.unansweredNoticeAfter
        self.keys = keys
        self.redis = redis
        self.directory = directory
        self.catchUp = catchUp
        self.lastEventAt = lastAlive
        self.logger = logger
    }

    /// Returns false when the event could not be handled because the process is stopping.
    func handle(_ event: GatewayFrame.EventRef) async -> Bool {
        let previousEventAt = lastEventAt
        lastEventAt = Date()
        do {
            switch event.name {
            case "READY":
                let ready = try JSONDecoder().decode(GatewaySession.Ready.self, from: event.data)
                logger.info("gateway ready as \(ready.user.username)", metadata: ["session": "\(ready.sessionID.suffix(6))"])
                if let since = previousEventAt {
                    // A new session, not a resumed one: Discord will not replay what it missed.
                    Task { await catchUp.run(since: since) { await self.accept($0) } }
                }
            case "RESUMED":
                logger.info("gateway session resumed")
            case "GUILD_CREATE":
                let guild = try JSONDecoder().decode(DiscordGuild.self, from: event.data)
                await directory.add(guild: guild)
                logger.info("guild available: \(guild.name ?? guild.id)", metadata: ["channels": "\(guild.channels?.count ?? 0)"])
            case "CHANNEL_CREATE", "CHANNEL_UPDATE", "THREAD_CREATE", "THREAD_UPDATE":
                await directory.add(channel: try JSONDecoder().decode(DiscordChannel.self, from: event.data))
            case "CHANNEL_DELETE", "THREAD_DELETE":
                await directory.remove(channelID: try JSONDecoder().decode(DiscordChannel.self, from: event.data).id)
            case "MESSAGE_CREATE":
                return await accept(try JSONDecoder().decode(DiscordMessage.self, from: event.data))
            default:
                break
            }
        } catch {
            // A payload we cannot read is skipped, loudly; the session carries on.
            logger.error("skipping \(event.name) (seq \(event.sequence)): cannot decode its payload: \(error)")
            _ = try? await redis.send("HINCRBY", keys.stats, "gateway_events_undecodable", "1")
        }
        return true
    }

    /// Writes an accepted message to the bus; false only when stopped before the write.
    @discardableResult
    func accept(_ message: DiscordMessage) async -> Bool {
        var channelID = message.channelID
        var threadID = ""
        var channelName = ""
        if message.guildID != nil, let channel = await directory.channel(message.channelID) {
            if channel.isThread, let parent = channel.parentID {
                channelID = parent
                threadID = channel.id
                channelName = await directory.channel(parent)?.name ?? ""
            } else {
                channelName = channel.name ?? ""
            }
        }
        let kind: InboundMessage.Kind
        switch policy.decide(message: message, channelID: channelID, threadID: threadID) {
        case .drop(let reason):
            logger.debug("dropped message \(message.id): \(reason)")
            ConnectorMetrics.ingestDropped.increment()
            return true
        case .refuse(let reason):
            logger.notice("refused message \(message.id): \(reason)")
            _ = try? await redis.send("HINCRBY", keys.stats, "inbound_refused", "1")
            ConnectorMetrics.ingestRefused.increment()
            return true
        case .accept(let accepted):
            kind = accepted
        }

        var guildName = ""
        if let guildID = message.guildID { guildName = await directory.guildName(guildID) }
        let inbound = InboundMessage(
            requestID: UUID().uuidString.lowercased(),
            kind: kind,
            guildID: message.guildID ?? "",
            channelID: channelID,
            threadID: threadID,
            messageID: message.id,
            authorID: message.author.id,
            authorName: message.authorName,
            content: message.content,
            timestamp: message.timestamp,
            channelName: channelName,
            guildName: guildName
        )
        let pending = PendingContext(inbound).fields
        let noticeDue = noticeAfter > 0 ? Int(Date().timeIntervalSince1970 * 1000) + noticeAfter * 1000 : 0
        let arguments = [String(pendingTTL), message.channelID, message.id, String(noticeDue), inbound.requestID, String(pending.count)]
            + flattenFields(pending) + flattenFields(inbound.fields)
        do {
            let written = try await RedisClient.retrying(logger: logger, what: "writing message \(message.id) to \(keys.inbound)") { () throws(RedisError) -> Bool in
                try await redis.evaluate(BusScripts.acceptInbound, keys: [keys.seen(message.id), keys.pending(inbound.requestID), keys.inbound, keys.cursors, keys.unanswered], arguments: arguments).int == 1
            }
            switch written {
            case true?:
                logger.debug("accepted message \(message.id) as \(kind.rawValue)", metadata: ["request_id": "\(inbound.requestID)", "channel": "\(inbound.replyChannelID)"])
                ConnectorMetrics.ingestAccepted.increment()
            case false?:
                logger.info("message \(message.id) was already accepted; not forwarding it twice")
                ConnectorMetrics.ingestDuplicates.increment()
            case nil:
                logger.warning("stopped before message \(message.id) was written; a resume will replay it")
                return false
            }
        } catch {
            logger.error("cannot write message \(message.id) to the bus: \(error)")
        }
        return true
    }
}
