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
    private let intake: InteractionIntake
    /// Answers interactions. Without the shared limiter: a callback is one request per
    /// interaction, outside the global limit, and must not wait on Redis (3-second deadline).
    private let callbacks: DiscordClient
    private let ledger: InteractionLedger
    /// Which agent posted a message (`discord:posted:<id>`), for replies to it.
    private let redis: RedisClient
    private let keys: BusKeys
    private let botLoopBudget: Int

    init(botUserID: String, config: ConnectorConfig, signingKey: String?, acceptor: InboundAcceptor, stats: BusStats, directory: ChannelDirectory, lastAlive: Date?, catchUpRequests: AsyncStream<Date>.Continuation?, callbacks: DiscordClient, logger: Logger) {
        self.intake = InteractionIntake(config: config, signingKey: signingKey)
        self.ledger = InteractionLedger(stats: stats)
        self.redis = stats.redis
        self.keys = BusKeys(config: config)
        self.callbacks = callbacks
        self.policy = TriggerPolicy(botUserID: botUserID, router: config.router, allowlist: config.allowlist, allowedBotAuthors: config.allowedBotAuthors)
        self.botLoopBudget = config.botLoopBudget
        self.acceptor = acceptor
        self.stats = stats
        self.directory = directory
        self.lastEventAt = lastAlive
        self.catchUpRequests = catchUpRequests
        self.logger = logger
    }

    /// Whether the event is a message the handler drops unread (the bot's own or a webhook's
    /// post), counted as dropped: the gateway client may skip it without handing it over.
    nonisolated func skipsUnread(_ event: GatewayFrame.EventRef) -> Bool {
        guard event.name == "MESSAGE_CREATE", policy.dropsUnread(event.data) else { return false }
        ConnectorMetrics.ingestDropped.increment()
        return true
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
                // The connector's own posts (and webhooks') come back as events: dropped before
                // any decoding.
                if policy.dropsUnread(event.data) {
                    ConnectorMetrics.ingestDropped.increment()
                    return true
                }
                return await accept(try DiscordMessage(gatewayPayload: event.data))
            case "INTERACTION_CREATE":
                return await accept(interaction: try JSONDecoder().decode(Interaction.self, from: event.data))
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

    /// Handles consecutive events in order: the messages among them are decided one by one and
    /// written together (`InboundAcceptor.accept(batch:)`, one round trip on one Redis); any
    /// other event first writes the messages before it, then is handled alone. Returns how many
    /// events (from the first) are done: fewer when the process stopped mid-batch.
    func handle(batch events: [GatewayFrame.EventRef]) async -> Int {
        var waiting: [Waiting] = []
        for (index, event) in events.enumerated() {
            if event.name == "MESSAGE_CREATE" {
                lastEventAt = Date()
                if policy.dropsUnread(event.data) {
                    ConnectorMetrics.ingestDropped.increment()
                    continue
                }
                do {
                    let message = try DiscordMessage(gatewayPayload: event.data)
                    if let inbound = await prepare(message) { waiting.append(Waiting(index: index, message: inbound, cursorChannel: message.channelID)) }
                } catch {
                    logger.error("skipping \(event.name) (seq \(event.sequence)): cannot decode its payload: \(error)")
                    await stats.bump(.gatewayEventsUndecodable)
                }
                continue
            }
            if let stopped = await write(waiting) { return stopped }
            waiting.removeAll()
            guard await handle(event) else { return index }
        }
        if let stopped = await write(waiting) { return stopped }
        return events.count
    }

    /// A decided message of a batch, waiting to be written with the others.
    struct Waiting: Sendable {
        var index: Int
        var message: InboundMessage
        var cursorChannel: String
    }

    /// Writes the waiting messages; the index of the first event not done, if one was stopped.
    private func write(_ waiting: [Waiting]) async -> Int? {
        guard !waiting.isEmpty else { return nil }
        let outcomes = await acceptor.accept(batch: waiting.map { ($0.message, $0.cursorChannel) })
        return zip(waiting, outcomes).first { $0.1 == .stopped }.map { $0.0.index }
    }

    /// Writes an accepted message to the bus; false only when stopped before the write.
    @discardableResult
    func accept(_ message: DiscordMessage) async -> Bool {
        guard let inbound = await prepare(message) else { return true }
        return await acceptor.accept(inbound, cursorChannel: message.channelID) != .stopped
    }

    /// The record of a message that triggers the connector; nil (logged and counted) when the
    /// trigger policy, an allowlist or the bot-loop budget drops it.
    func prepare(_ message: DiscordMessage) async -> InboundMessage? {
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
        // A person's Discord reply to a message an agent posted goes to that agent.
        var repliedAgent: String?
        if let replied = message.repliedMessageID, !TriggerPolicy.isFromABot(message, botUserID: policy.botUserID) || policy.isAllowedBot(message) {
            repliedAgent = try? await redis.run(GET(keys.postedBy(replied)))
        }
        let kind: InboundMessage.Kind
        switch policy.decide(message: message, channelID: channelID, threadID: threadID, repliedAgent: repliedAgent) {
        case .drop(let reason):
            logger.debug("dropped message \(message.id): \(reason)")
            ConnectorMetrics.ingestDropped.increment()
            return nil
        case .refuse(let reason):
            logger.notice("refused message \(message.id): \(reason)")
            await stats.bump(.inboundRefused)
            return nil
        case .accept(let accepted):
            kind = accepted
        }
        if policy.isAllowedBot(message), await overBotLoopBudget(message, channel: threadID.isEmpty ? channelID : threadID) {
            logger.notice("dropped message \(message.id) from bot \(message.author.id): over BOT_LOOP_BUDGET=\(botLoopBudget) a minute in this channel")
            await stats.bump(.botLoopDropped)
            return nil
        }

        var guildName = ""
        if let guildID = message.guildID { guildName = await directory.guildName(guildID) }
        var inbound = InboundMessage(
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
        inbound.attachments = message.attachments
        if kind == .reply, let repliedAgent, let replied = message.repliedMessageID {
            inbound.requestedAgent = repliedAgent
            inbound.repliedMessageID = replied
        }
        return inbound
    }

    /// Answers an interaction first (Discord's deadline is 3 s and does not wait for the bus),
    /// then writes it to the bus exactly once. A crash in between is safe: the gateway replays
    /// the event (its sequence was not committed), the repeated callback is refused as already
    /// acknowledged, and the write happens then.
    func accept(interaction: Interaction) async -> Bool {
        let received = ContinuousClock.now
        let type = InteractionLedger.typeName(interaction)
        let decision = intake.decide(interaction)
        if case .pong = decision { return true }  // PINGs come to HTTP endpoints only
        if case .refuse(let text) = decision { logger.info("refused interaction \(interaction.id): \(text)") }
        // A click's set is looked up while the acknowledgement travels (a read: it cannot hold
        // the answer up); the bus write waits for the answer.
        let acceptor = acceptor
        let lookup: Task<InboundAcceptor.ClickResolution, Never>? = if case .click(let click) = decision {
            Task { await acceptor.resolve(click: click) }
        } else { nil }
        let outcome: InteractionLedger.Outcome
        do {
            _ = try await callbacks.perform(.interactionCallback(id: interaction.id, token: interaction.token, decision.response), retries: .attempts(2))
            outcome = if case .refuse = decision { .refused } else { .deferred }
        } catch {
            switch error {
            case .rejected(let refusal) where refusal.code == 40060:
                logger.info("interaction \(interaction.id) was already acknowledged (a replayed event)")
                outcome = .deferred
            case .rejected(let refusal) where refusal.code == 10062:
                logger.warning("interaction \(interaction.id) was answered after Discord's deadline: \(refusal)")
                outcome = .late
            default:
                logger.warning("cannot answer interaction \(interaction.id): \(error)")
                outcome = .failed
            }
        }
        let answeredIn = ContinuousClock.now - received
        logger.debug("answered interaction \(interaction.id) in \(answeredIn)")
        switch decision {
        case .pong, .refuse:
            await ledger.record(type: type, outcome: outcome, answeredIn: answeredIn)
            return true
        case .accept(let message, let reply):
            await ledger.record(type: type, outcome: outcome, answeredIn: answeredIn)
            return await acceptor.accept(message, cursorChannel: nil, interaction: reply) != .stopped
        case .click(let click):
            let written = await acceptor.accept(click: click, await lookup?.value ?? .failed)
            if written == .expired {
                await ledger.record(type: type, outcome: .expired, answeredIn: answeredIn)
                _ = try? await callbacks.perform(.followUp(applicationID: interaction.applicationID, token: interaction.token, InteractionMessage.ephemeral(InteractionIntake.expiredComponents)), retries: .attempts(2))
            } else {
                await ledger.record(type: type, outcome: outcome, answeredIn: answeredIn)
            }
            return written != .stopped
        }
    }

    /// Counts an allowed bot's message in its channel's current minute; true when over budget.
    /// A Redis failure lets the message through (the budget guards loops, not delivery).
    private func overBotLoopBudget(_ message: DiscordMessage, channel: String) async -> Bool {
        let key = keys.botLoop(channel: channel, bot: message.author.id, minute: Int(Date().timeIntervalSince1970) / 60)
        guard let counted = try? await redis.pipeline([HINCRBY(key, field: "n", by: 1).request, EXPIRE(key, seconds: 120).request]).first?.int else { return false }
        return counted > botLoopBudget
    }

}
