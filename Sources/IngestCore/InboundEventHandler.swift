import Foundation
import Logging
import Shared

/// Handles gateway dispatches: keeps the channel directory current and writes each accepted
/// message to the bus, together with its pending reply context, exactly once.
actor InboundEventHandler {
    private let policy: TriggerPolicy
    private let acceptor: InboundAcceptor
    private let stats: BusStats
    private let directory: ChannelDirectory
    private let logger: Logger
    /// When the gateway last delivered an event (to this process or, at start, to any Ingest):
    /// a READY after that means a session was lost, and what was said since must be caught up.
    private var lastEventAt: Date?
    /// Where a lost session's catch-up is requested (with the time the gateway was last alive);
    /// the shard's worker runs it as a child task, so it ends with the shard.
    private let catchUpRequests: AsyncStream<Date>.Continuation?

    init(botUserID: String, config: ConnectorConfig, acceptor: InboundAcceptor, stats: BusStats, directory: ChannelDirectory, lastAlive: Date?, catchUpRequests: AsyncStream<Date>.Continuation?, logger: Logger) {
        self.policy = TriggerPolicy(botUserID: botUserID, router: config.router, allowlist: config.allowlist)
        self.acceptor = acceptor
        self.stats = stats
        self.directory = directory
        self.lastEventAt = lastAlive
        self.catchUpRequests = catchUpRequests
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
                    catchUpRequests?.yield(since)
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
            await stats.bump(.gatewayEventsUndecodable)
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
            await stats.bump(.inboundRefused)
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
        return await acceptor.accept(inbound, cursorChannel: message.channelID) != .stopped
    }
}
