import Foundation
import Logging
import Shared

/// Replier: posts agents' records from the connector's inbox to Discord.
///
/// Replies to one channel must post in the order the agents sent them, even with several
/// Replier copies, so the path has two steps:
/// 1. **Routing**: one copy at a time (the holder of the sequencer lease) reads the connector's
///    inbox in order, finds the request each record answers and its channel, and moves it,
///    resolved, to the partition stream of that channel (`discord:replies:<n>`, n = a hash of the
///    channel id), acknowledging and appending in one Lua script.
/// 2. **Posting**: the partitions are shared out among the live copies through leases; each
///    partition is read by its holder alone, in order, and posted with the shared rate limiter.
/// Partitioning by channel (rather than a lease per channel) keeps the number of leases fixed
/// and small however many channels there are, and lets every copy post in parallel.
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
        let token = try config.requireDiscordToken()
        let limiter = SharedRateLimiter(
            redis: RedisClient(config: config, name: "replier-ratelimit"),
            settings: .init(globalPerSecond: config.globalRateLimit),
            logger: logger
        )
        let consumerName = StreamConsumer.consumerName(prefix: "replier")
        if config.dryRun { logger.notice("DRY_RUN=1: replies are logged, not posted") }
        logger.info("replying from \(keys.replyInbox) through \(config.replyPartitions) partitions")

        let leaseRedis = RedisClient(url: config.busURL, user: config.connectorAgentName, password: config.busToken, timeout: .milliseconds(500), name: "replier-lease")
        let owner = LeaseSet.makeOwnerID(prefix: "replier")
        let leaseTTL = Duration.milliseconds(config.gatewayLeaseMilliseconds)
        let sequencerLease = LeaseSet(redis: leaseRedis, keyPrefix: keys.replySequencerLeasePrefix, membersKey: keys.replierMembers, count: 1, ttl: leaseTTL, owner: owner, logger: logger)
        let partitionLeases = LeaseSet(redis: leaseRedis, keyPrefix: keys.replyPartitionLeasePrefix, membersKey: keys.replierMembers, count: config.replyPartitions, ttl: leaseTTL, owner: owner, logger: logger)
        let partitions = config.replyPartitions
        let config = config
        let logger = logger

        try await withThrowingTaskGroup(of: Void.self) { group in
            if config.unansweredNoticeAfter > 0 {
                let notices = UnansweredNotices(
                    redis: RedisClient(config: config, name: "replier-notices"), keys: keys,
                    poster: ReplyPoster(rest: DiscordREST(apiBase: config.apiBase, token: token), limiter: limiter, dryRun: config.dryRun, logger: logger),
                    noticeAfter: config.unansweredNoticeAfter, logger: logger
                )
                group.addTask { await notices.run() }
            }
            group.addTask {
                try await sequencerLease.run { _ in
                    let router = ReplyRouter(keys: keys, redis: redis, channelsFile: config.channelsFile, signer: signer, partitions: partitions, maxCharacters: config.maxReplyCharacters, logger: logger)
                    let consumer = StreamConsumer(
                        redis: RedisClient(config: config, name: "replier-sequencer"),
                        stream: keys.replyInbox, group: BusKeys.replierGroup, consumer: consumerName,
                        deadLetters: keys.deadLetters, claimIdle: .milliseconds(config.claimIdleMilliseconds),
                        maxDeliveries: config.maxDeliveries, takeOverOnStart: true, logger: logger
                    )
                    await withTaskGroup(of: Void.self) { work in
                        if config.typingIndicator || config.receiptReaction != nil {
                            let feedback = FeedbackLoop(
                                redis: RedisClient(config: config, name: "replier-feedback"), keys: keys,
                                rest: DiscordREST(apiBase: config.apiBase, token: token, http: HTTPClient(name: "discord-feedback")),
                                limiter: limiter, typing: config.typingIndicator, reaction: config.receiptReaction,
                                typingLimit: config.typingLimit, logger: logger
                            )
                            work.addTask { await feedback.run() }
                        }
                        work.addTask { await consumer.run { entry in await router.route(entry) } }
                    }
                }
            }
            group.addTask {
                try await partitionLeases.run { partition in
                    let poster = PartitionPoster(
                        keys: keys,
                        redis: RedisClient(config: config, name: "replier-p\(partition)"),
                        poster: ReplyPoster(rest: DiscordREST(apiBase: config.apiBase, token: token, http: HTTPClient(name: "discord-p\(partition)")), limiter: limiter, dryRun: config.dryRun, logger: logger),
                        pingAsker: config.pingAsker,
                        logger: logger
                    )
                    let consumer = StreamConsumer(
                        redis: RedisClient(config: config, name: "replier-read-p\(partition)"),
                        stream: keys.replyPartition(partition), group: BusKeys.replierGroup, consumer: consumerName,
                        deadLetters: keys.deadLetters, claimIdle: .milliseconds(config.claimIdleMilliseconds),
                        maxDeliveries: config.maxDeliveries, takeOverOnStart: true, logger: logger
                    )
                    await consumer.run { entry in await poster.post(entry) }
                }
            }
            try await group.waitForAll()
        }
    }
}
