import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Ingest: holds the gateway connection and turns accepted Discord messages into
/// `InboundMessage` records (with their pending reply context) on the bus.
///
/// Graceful shutdown stops it at once: the gateway closes with a resumable code and a message
/// not yet written is replayed by the next session's RESUME (or its catch-up).
public struct IngestService: Service, CustomStringConvertible {
    let config: ConnectorConfig
    let logger: Logger
    public var description: String { "Ingest" }

    public init(config: ConnectorConfig, logger: Logger) {
        self.config = config
        self.logger = logger
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown { try await runUntilCancelled() }
    }

    private func runUntilCancelled() async throws {
        if config.dryRun {
            logger.notice("DRY_RUN=1: not connecting to the Discord gateway; Ingest idles until stopped")
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            return
        }
        let token = try config.requireDiscordToken()
        let keys = BusKeys(config: config)
        let redis = RedisClient(config: config, name: "ingest-redis")
        let limiter = SharedRateLimiter(redis: RedisClient(config: config, name: "ingest-ratelimit"), settings: .init(globalPerSecond: config.globalRateLimit), logger: logger)
        let discord = DiscordClient(apiBase: config.apiBase, token: token, limiter: limiter, logger: logger)
        let callbacks = DiscordClient(apiBase: config.apiBase, token: token, http: HTTPClient(timeout: .seconds(2), name: "interaction-callbacks"), limiter: nil, logger: logger)
        let stats = BusStats(redis: redis, keys: keys)
        let acceptor = InboundAcceptor(redis: redis, config: config, logger: logger)

        guard let botUser = try await startupCall("identifying the bot user", { () throws(DiscordFailure) in try await discord.perform(.currentUser, as: DiscordUser.self) }) else { return }
        logger.info("bot user is \(botUser.username) (\(botUser.id)), token \(redacted(token))")
        await registerCommands(discord, applicationID: botUser.id)
        // The key that signs ctx blocks also signs component ids: clicks are verified with it.
        guard let signingKey = try await CtxSigner.resolveKey(config: config, redis: redis, keys: keys, logger: logger) else { return }
        guard let gatewayBot = try await startupCall("asking for the gateway URL", { () throws(DiscordFailure) in try await discord.perform(.gatewayBot, as: GatewayBot.self) }) else { return }
        let gatewayURL = config.gatewayURL ?? gatewayBot.url
        let maxConcurrency = max(1, gatewayBot.sessionStartLimit?.maxConcurrency ?? 1)
        if let recommended = gatewayBot.shards, recommended > config.shardCount {
            logger.warning("Discord recommends \(recommended) shards for this bot; SHARD_COUNT is \(config.shardCount)")
        }

        let directory = ChannelDirectory(discord: discord, redis: redis, keys: keys, logger: logger)
        let catchUp = CatchUp(
            discord: discord, redis: redis, keys: keys, router: config.router, directory: directory,
            maxAge: TimeInterval(config.catchUpMaxAge), maxMessages: config.catchUpMaxMessages, logger: logger
        )
        // Leases have a connection of their own with a short timeout, so a Redis outage is
        // noticed (and the gateway fenced off) in time, not behind other commands.
        let leaseRedis = RedisClient(url: config.busURL, user: config.connectorAgentName, password: config.busToken, timeout: .milliseconds(500), name: "ingest-lease")
        let owner = LeaseSet.makeOwnerID(prefix: "ingest")
        let config = config
        let logger = logger

        if config.inboundMode == .poll {
            // One poller at a time, like one gateway session: a lease with one slot.
            let poller = LeaseSet(
                redis: leaseRedis, keyPrefix: keys.pollLeasePrefix, membersKey: keys.pollMembers,
                count: 1, ttl: .milliseconds(config.gatewayLeaseMilliseconds), owner: owner, logger: logger
            )
            try await poller.run { _ in
                let handler = InboundEventHandler(
                    botUserID: botUser.id, config: config, signingKey: signingKey, acceptor: acceptor, stats: stats, directory: directory,
                    lastAlive: nil, catchUpRequests: nil, callbacks: callbacks, logger: logger
                )
                let polling = PollingInbound(
                    discord: discord, redis: redis, keys: keys, channels: config.router.channelAgents.keys.sorted(),
                    interval: .seconds(config.pollInterval), directory: directory, logger: logger
                )
                await polling.run { message in await handler.accept(message) }
            }
            return
        }

        // Each shard this copy holds runs its own gateway session; the others stand by.
        let shards = LeaseSet(
            redis: leaseRedis, keyPrefix: keys.gatewayLeasePrefix, membersKey: keys.gatewayMembers,
            count: config.shardCount, ttl: .milliseconds(config.gatewayLeaseMilliseconds), owner: owner, logger: logger
        )
        let shardCount = config.shardCount
        try await shards.run { shard in
            let store = RedisSessionStore(redis: redis, key: keys.gatewaySession(shard: shard), logger: logger)
            let (catchUpRequests, requestCatchUp) = AsyncStream.makeStream(of: Date.self, bufferingPolicy: .bufferingNewest(1))
            let handler = InboundEventHandler(
                botUserID: botUser.id, config: config, signingKey: signingKey, acceptor: acceptor, stats: stats, directory: directory,
                lastAlive: await store.lastAlive(), catchUpRequests: requestCatchUp, callbacks: callbacks, logger: logger
            )
            let gateway = GatewayClient(
                token: token,
                gatewayURL: gatewayURL,
                shard: (shard, shardCount),
                store: store,
                resumable: await store.load(),
                identifyGate: { await Self.waitForIdentifySlot(redis: leaseRedis, key: keys.identifySlot(shard % maxConcurrency), owner: owner) },
                onMalformedFrame: { _ in await stats.bump(.gatewayFramesMalformed) },
                skipsUnread: { event in handler.skipsUnread(event) },
                logger: logger,
                onBatch: { events in await handler.handle(batch: events) }
            )
            // The catch-up after a lost session is a child of the shard's work: it stops when the
            // shard is given up or the service stops, and never outlives them.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await since in catchUpRequests {
                        await catchUp.run(since: since) { await handler.accept($0) }
                    }
                }
                group.addTask {
                    defer { requestCatchUp.finish() }
                    try await gateway.run()
                }
                try await group.waitForAll()
            }
        }
    }

    /// Registers the slash command unless Discord already has it as configured. Best effort: a
    /// failure is logged and the gateway starts anyway (`connector commands sync` retries it).
    /// The application id is taken to be the bot user's id, as it is for every bot application.
    private func registerCommands(_ discord: DiscordClient, applicationID: String) async {
        let wanted = CommandRegistrar.commands(for: config)
        guard !wanted.isEmpty else { return }
        let scope = config.commandsGuildID.map { "guild \($0)" } ?? "globally"
        do {
            switch try await CommandRegistrar(discord: discord, applicationID: applicationID, guildID: config.commandsGuildID).sync(wanted) {
            case .unchanged: logger.info("slash command /\(config.slashCommand) is registered \(scope) as configured")
            case .registered(let count): logger.notice("registered \(count) slash command(s) \(scope): /\(config.slashCommand)")
            }
        } catch {
            logger.error("cannot register the slash command /\(config.slashCommand) \(scope): \(error); run `connector commands sync` once Discord answers")
        }
    }

    /// Discord allows `max_concurrency` IDENTIFYs per 5 seconds, keyed by `shard % max_concurrency`,
    /// across every process of the bot: a key in Redis with a 5-second life is that permit.
    static func waitForIdentifySlot(redis: RedisClient, key: String, owner: String) async {
        while !Task.isCancelled {
            // 5.5 s: a margin over Discord's 5 s for the time between this permit and the IDENTIFY.
            if (try? await redis.run(SET(key, RedisBytes(owner), onlyIfAbsent: true, expireMilliseconds: 5_500))) == true { return }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Retries a start-up call to Discord while it fails for transient reasons; a 401 ends the
    /// process with a message about the token. Returns nil when cancelled.
    private func startupCall<T: Sendable>(_ what: String, _ call: () async throws(DiscordFailure) -> T) async throws -> T? {
        var backoff = Backoff(base: .seconds(1), cap: .seconds(30))
        while !Task.isCancelled {
            do {
                return try await call()
            } catch {
                if case .cancelled = error { return nil }
                if error.status == 401 {
                    throw GatewayFatalError(description: "Discord rejected DISCORD_BOT_TOKEN (401) while \(what): check the token in the Developer Portal")
                }
                let delay = backoff.next()
                logger.error("failed \(what): \(error); retrying in \(delay)")
                try? await Task.sleep(for: delay)
            }
        }
        return nil
    }
}

/// `GET /gateway/bot`: where to connect, the recommended shard count, and how many IDENTIFYs
/// may start together.
struct GatewayBot: Decodable, Sendable {
    var url: String
    var shards: Int?
    var sessionStartLimit: SessionStartLimit?

    struct SessionStartLimit: Decodable, Sendable {
        var maxConcurrency: Int?
        enum CodingKeys: String, CodingKey { case maxConcurrency = "max_concurrency" }
    }

    enum CodingKeys: String, CodingKey {
        case url, shards
        case sessionStartLimit = "session_start_limit"
    }
}
