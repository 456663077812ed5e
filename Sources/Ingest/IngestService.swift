import Foundation
import Logging
import Shared

/// Ingest: holds the gateway connection and turns accepted Discord messages into
/// `InboundMessage` records (with their pending reply context) on the bus.
struct IngestService {
    let config: ConnectorConfig
    let logger: Logger

    func run() async throws {
        if config.dryRun {
            logger.notice("DRY_RUN=1: not connecting to the Discord gateway; Ingest idles until stopped")
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            return
        }
        let token = try config.requireDiscordToken()
        let keys = BusKeys(connectorAgentName: config.connectorAgentName)
        let redis = RedisClient(config: config, name: "ingest-redis")
        let rest = DiscordREST(apiBase: config.apiBase, token: token)

        guard let botUser = try await discordCall("identifying the bot user", { try await rest.currentUser() }) else { return }
        logger.info("bot user is \(botUser.username) (\(botUser.id)), token \(redacted(token))")
        guard let gatewayBot = try await discordCall("asking for the gateway URL", { try await rest.gatewayBot() }) else { return }
        let gatewayURL = config.gatewayURL ?? gatewayBot.url
        let maxConcurrency = max(1, gatewayBot.sessionStartLimit?.maxConcurrency ?? 1)
        if let recommended = gatewayBot.shards, recommended > config.shardCount {
            logger.warning("Discord recommends \(recommended) shards for this bot; SHARD_COUNT is \(config.shardCount)")
        }

        let directory = ChannelDirectory(rest: rest, redis: redis, keys: keys, logger: logger)
        let catchUp = CatchUp(
            rest: rest, redis: redis, keys: keys, router: config.router, directory: directory,
            maxAge: TimeInterval(config.catchUpMaxAge), maxMessages: config.catchUpMaxMessages, logger: logger
        )
        // Leases have a connection of their own with a short timeout, so a Redis outage is
        // noticed (and the gateway fenced off) in time, not behind other commands.
        let leaseRedis = RedisClient(url: config.busURL, user: config.connectorAgentName, password: config.busToken, timeout: .milliseconds(500), name: "ingest-lease")
        let owner = LeaseSet.makeOwnerID(prefix: "ingest")
        let shards = LeaseSet(
            redis: leaseRedis, keyPrefix: keys.gatewayLeasePrefix, membersKey: keys.gatewayMembers,
            count: config.shardCount, ttl: .milliseconds(config.gatewayLeaseMilliseconds), owner: owner, logger: logger
        )
        let shardCount = config.shardCount

        if config.inboundMode == .poll {
            // One poller at a time, like one gateway session: a lease with one slot.
            let poller = LeaseSet(
                redis: leaseRedis, keyPrefix: keys.pollLeasePrefix, membersKey: keys.pollMembers,
                count: 1, ttl: .milliseconds(config.gatewayLeaseMilliseconds), owner: owner, logger: logger
            )
            let limiter = SharedRateLimiter(redis: RedisClient(config: config, name: "ingest-ratelimit"), settings: .init(globalPerSecond: config.globalRateLimit), logger: logger)
            try await poller.run { _ in
                let handler = InboundEventHandler(
                    botUserID: botUser.id, config: config, keys: keys, redis: redis, directory: directory,
                    catchUp: catchUp, lastAlive: nil, logger: logger
                )
                let polling = PollingInbound(
                    rest: rest, redis: redis, keys: keys, channels: config.router.channelAgents.keys.sorted(),
                    interval: .seconds(config.pollInterval), directory: directory, limiter: limiter, logger: logger
                )
                await polling.run { message in await handler.accept(message) }
            }
            return
        }

        // Each shard this copy holds runs its own gateway session; the others stand by.
        try await shards.run { shard in
            let store = RedisSessionStore(redis: redis, key: keys.gatewaySession(shard: shard), logger: logger)
            let handler = InboundEventHandler(
                botUserID: botUser.id, config: config, keys: keys, redis: redis, directory: directory,
                catchUp: catchUp, lastAlive: await store.lastAlive(), logger: logger
            )
            let gateway = GatewayClient(
                token: token,
                gatewayURL: gatewayURL,
                shard: (shard, shardCount),
                store: store,
                resumable: await store.load(),
                identifyGate: { await Self.waitForIdentifySlot(redis: leaseRedis, key: keys.identifySlot(shard % maxConcurrency), owner: owner) },
                onMalformedFrame: { _ in _ = try? await redis.send("HINCRBY", keys.stats, "gateway_frames_malformed", "1") },
                logger: logger
            ) { event in
                await handler.handle(event)
            }
            try await gateway.run()
        }
    }

    /// Discord allows `max_concurrency` IDENTIFYs per 5 seconds, keyed by `shard % max_concurrency`,
    /// across every process of the bot: a key in Redis with a 5-second life is that permit.
    static func waitForIdentifySlot(redis: RedisClient, key: String, owner: String) async {
        while !Task.isCancelled {
            // 5.5 s: a margin over Discord's 5 s for the time between this permit and the IDENTIFY.
            if (try? await redis.send("SET", key, owner, "NX", "PX", "5500"))?.string == "OK" { return }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// Retries a start-up call to Discord while it fails for transient reasons; a 401 ends the
    /// process with a message about the token. Returns nil when cancelled.
    private func discordCall<T: Sendable>(_ what: String, _ call: () async throws -> T) async throws -> T? {
        var backoff = Backoff(base: .seconds(1), cap: .seconds(30))
        while !Task.isCancelled {
            do {
                return try await call()
            } catch let failure as DiscordREST.Failure where failure.status == 401 {
                throw GatewayFatalError(description: "Discord rejected DISCORD_BOT_TOKEN (401) while \(what): check the token in the Developer Portal")
            } catch {
                let delay = backoff.next()
                logger.error("failed \(what): \(error); retrying in \(delay)")
                try? await Task.sleep(for: delay)
            }
        }
        return nil
    }
}
