import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Replier: posts agents' records from the connector's inbox to Discord.
///
/// Replies to one channel must post in the order the agents sent them, even with several
/// Replier copies, so the path has two steps, each a service of its own:
/// 1. **Routing** (`ReplyRoutingService`): one copy at a time (the holder of the sequencer lease)
///    reads the connector's inbox in order, finds the request each record answers and its
///    channel, and moves it, resolved, to the partition stream of that channel
///    (`discord:replies:<n>`, n = a hash of the channel id), acknowledging and appending in one
///    Lua script.
/// 2. **Posting** (`ReplyPostingService`): the partitions are shared out among the live copies
///    through leases; each partition is read by its holder alone, in order, and posted with the
///    shared rate limiter.
/// Partitioning by channel (rather than a lease per channel) keeps the number of leases fixed
/// and small however many channels there are, and lets every copy post in parallel.
public enum ReplierServices {
    /// The Replier's services for the configuration.
    public static func make(config: ConnectorConfig, logger: Logger) throws -> [any Service] {
        guard config.enableReplyLoop else {
            return [IdleService(logger: logger, reason: "ENABLE_REPLY_LOOP=0: the reply path is off; replies stay queued in \(BusKeys.inbox(config.connectorAgentName)) until it is turned on")]
        }
        let parts = try ReplierParts(config: config, logger: logger)
        if config.dryRun { logger.notice("DRY_RUN=1: replies are logged, not posted") }
        logger.info("replying from \(parts.keys.replyInbox) through \(config.replyPartitions) partitions")
        var services: [any Service] = [ReplyRoutingService(parts: parts), ReplyPostingService(parts: parts)]
        if config.unansweredNoticeAfter > 0 {
            services.append(UnansweredNotices(
                redis: RedisClient(config: config, name: "replier-notices"), keys: parts.keys,
                poster: ReplyPoster(discord: parts.discord(name: "discord-notices"), dryRun: config.dryRun, logger: logger),
                noticeAfter: config.unansweredNoticeAfter, stats: parts.stats, logger: logger
            ))
        }
        if config.typingIndicator || config.receiptReaction != nil {
            services.append(FeedbackLoop(
                redis: RedisClient(config: config, name: "replier-feedback"), keys: parts.keys,
                discord: parts.discord(name: "discord-feedback"), typing: config.typingIndicator, reaction: config.receiptReaction,
                typingLimit: config.typingLimit, lease: parts.lease(prefix: parts.keys.replyFeedbackLeasePrefix, count: 1), logger: logger
            ))
        }
        return services
    }
}

/// What the Replier's services share: configuration, keys, the rate limiter, leases.
struct ReplierParts: Sendable {
    let config: ConnectorConfig
    let keys: BusKeys
    let token: String
    let limiter: SharedRateLimiter
    let stats: BusStats
    let consumerName: String
    let leaseRedis: RedisClient
    let owner: String
    let logger: Logger

    init(config: ConnectorConfig, logger: Logger) throws {
        self.config = config
        self.logger = logger
        keys = BusKeys(config: config)
        token = try config.requireDiscordToken()
        limiter = SharedRateLimiter(redis: RedisClient(config: config, name: "replier-ratelimit"), settings: .init(globalPerSecond: config.globalRateLimit), logger: logger)
        stats = BusStats(redis: RedisClient(config: config, name: "replier-stats"), keys: keys)
        consumerName = config.consumerName(prefix: "replier")
        // Leases have a connection of their own with a short timeout, so a Redis outage is
        // noticed (and the work fenced off) in time, not behind other commands.
        leaseRedis = RedisClient(url: config.busURL, user: config.connectorAgentName, password: config.busToken, timeout: .milliseconds(500), name: "replier-lease")
        owner = LeaseSet.makeOwnerID(prefix: "replier")
    }

    /// A Discord client with an HTTP connection of its own; on `thread`, with its rate limiter's
    /// connection there too (the posting loop's thread: see `ThreadExecutor`).
    func discord(name: String, thread: ThreadExecutor? = nil) -> DiscordClient {
        let shared = thread.map { limiter.using(RedisClient(config: config, name: "\(name)-ratelimit", thread: $0)) } ?? limiter
        return DiscordClient(apiBase: config.apiBase, token: token, http: HTTPClient(name: name, thread: thread), limiter: shared, logger: logger)
    }

    func lease(prefix: String, count: Int) -> LeaseSet {
        LeaseSet(redis: leaseRedis, keyPrefix: prefix, membersKey: keys.replierMembers, count: count, ttl: .milliseconds(config.gatewayLeaseMilliseconds), owner: owner, logger: logger)
    }

    func consumer(stream: String, name: String, thread: ThreadExecutor? = nil) -> StreamConsumer {
        StreamConsumer(
            redis: RedisClient(config: config, name: name, thread: thread), stream: stream, group: BusKeys.replierGroup, consumer: consumerName,
            deadLetters: keys.deadLetters, claimIdle: .milliseconds(config.claimIdleMilliseconds),
            maxDeliveries: config.maxDeliveries, takeOverOnStart: true, logger: logger
        )
    }
}

/// Step 1: routes the connector's inbox into the partitions, in one copy at a time.
struct ReplyRoutingService: Service, CustomStringConvertible {
    let parts: ReplierParts
    var description: String { "ReplyRouting" }

    func run() async throws {
        let parts = parts
        let redis = RedisClient(config: parts.config, name: "replier-redis")
        guard let key = try await CtxSigner.resolveKey(config: parts.config, redis: redis, keys: parts.keys, logger: parts.logger) else { return }
        try await parts.lease(prefix: parts.keys.replySequencerLeasePrefix, count: 1).run { _ in
            // The connector's inbox, and every agent's outbox as soon as the agent is known: each
            // stream read in order by a consumer of its own, on a thread of its own that its
            // router's Redis and Discord calls share (see `ThreadExecutor`).
            await withTaskGroup(of: Void.self) { group in
                var reading: Set<String> = []
                while !Task.isCancelled, !Task.isShuttingDownGracefully {
                    let streams = [parts.keys.replyInbox] + (await outboxes(redis: redis)).map(BusKeys.outbox)
                    for stream in streams where !reading.contains(stream) {
                        reading.insert(stream)
                        if stream != parts.keys.replyInbox { parts.logger.info("reading \(stream)") }
                        let thread = ThreadExecutor(name: "replier-route-\(reading.count)")
                        let router = ReplyRouter(
                            keys: parts.keys, redis: RedisClient(config: parts.config, name: "replier-route-\(reading.count)", thread: thread),
                            channelsFile: parts.config.channelsFile, signer: CtxSigner(key: key),
                            componentSigner: ComponentIDSigner(key: key), componentTTL: parts.config.componentTTL,
                            discord: parts.discord(name: "discord-router", thread: thread), partitions: parts.config.replyPartitions,
                            maxCharacters: parts.config.maxReplyCharacters, autoThread: parts.config.autoThread,
                            outboundPolicy: parts.config.outboundPolicy, stats: parts.stats, logger: parts.logger
                        )
                        let consumer = parts.consumer(stream: stream, name: "replier-sequencer", thread: thread)
                        group.addTask {
                            await withTaskExecutorPreference(thread) {
                                await consumer.run(batch: { entries in await router.route(batch: entries, on: stream) })
                            }
                            thread.stop()
                        }
                    }
                    try? await Task.sleep(for: Self.outboxRefresh)
                }
                await group.waitForAll()
            }
        }
    }

    /// How often the set of outboxes is looked at again (an agent's MCP server registers its own).
    static let outboxRefresh = Duration.seconds(2)

    /// The agents whose outboxes are read: those the configuration names and those registered in
    /// `discord:outboxes`.
    func outboxes(redis: RedisClient) async -> [String] {
        let config = parts.config
        var agents = Set(config.router.knownAgents).union(config.agentAvatars.keys).union((config.outboundPolicy.rules ?? [:]).keys)
        if let registered = try? await redis.run(SMEMBERS(parts.keys.outboxAgents)) {
            agents.formUnion(registered)
        }
        return agents.filter { AgentRouter.isValidAgentName($0) && $0 != config.connectorAgentName }.sorted()
    }
}

/// Step 2: posts the partitions this copy holds. On graceful shutdown each partition finishes
/// the reply in hand (posted and acknowledged) before its lease is released.
struct ReplyPostingService: Service, CustomStringConvertible {
    let parts: ReplierParts
    var description: String { "ReplyPosting" }

    func run() async throws {
        let parts = parts
        try await parts.lease(prefix: parts.keys.replyPartitionLeasePrefix, count: parts.config.replyPartitions).run { partition in
            // A partition posts one reply at a time: its stream, its Redis calls, the rate
            // limiter's and Discord's share one thread, and the loop runs there too.
            let thread = ThreadExecutor(name: "replier-p\(partition)")
            defer { thread.stop() }
            let poster = PartitionPoster(
                keys: parts.keys,
                redis: RedisClient(config: parts.config, name: "replier-p\(partition)", thread: thread),
                poster: ReplyPoster(discord: parts.discord(name: "discord-p\(partition)", thread: thread), dryRun: parts.config.dryRun, logger: parts.logger),
                pingAsker: parts.config.pingAsker,
                maxUploadBytes: parts.config.maxUploadBytes,
                postedTTL: parts.config.pendingTTL,
                webhooks: parts.config.agentIdentity == .webhook
                    ? AgentWebhooks(discord: parts.discord(name: "discord-webhooks-p\(partition)", thread: thread), redis: RedisClient(config: parts.config, name: "replier-webhooks-p\(partition)", thread: thread), keys: parts.keys, avatars: parts.config.agentAvatars, logger: parts.logger)
                    : nil,
                stats: parts.stats,
                logger: parts.logger
            )
            // Posted in order, one at a time; the posted ones acknowledged together once the
            // batch is done (one XACK instead of one per reply). A crash before that posts them
            // again with the same nonces, which Discord (enforce_nonce) answers with the
            // messages it already created.
            let consumer = parts.consumer(stream: parts.keys.replyPartition(partition), name: "replier-read-p\(partition)", thread: thread)
            await withTaskExecutorPreference(thread) {
                await consumer.run(batch: { entries in
                    var outcomes: [ConsumeOutcome] = []
                    for (index, entry) in entries.enumerated() {
                        if Task.isCancelled || Task.isShuttingDownGracefully {
                            outcomes.append(.leavePending)
                            continue
                        }
                        outcomes.append(await poster.post(entry, next: entries.indices.contains(index + 1) ? entries[index + 1] : nil))
                    }
                    return outcomes
                })
            }
        }
    }
}

/// A service that only waits for the shutdown, for a stage that is switched off.
struct IdleService: Service, CustomStringConvertible {
    let logger: Logger
    let reason: String
    var description: String { "Idle" }

    func run() async throws {
        logger.notice("\(reason)")
        try? await gracefulShutdown()
    }
}
