/// Every Redis key name of the bus, in one place. Agents' inboxes are public (CONTRACT section
/// 3); the rest are the connector's own and may change with a note in the README.
public struct BusKeys: Sendable {
    public let connectorAgentName: String
    /// What the connector's own keys start with: `discord:`, or in a Redis Cluster
    /// `discord:{bus}:`, a hash tag that puts the bookkeeping in one slot. The keys that carry the
    /// traffic have tags of their own there, so the work spreads over the nodes: each inbound
    /// partition with its seen-markers (`discord:{inbound:<p>}`), each reply partition
    /// (`discord:{replies:<p>}`), each pending context (`discord:pending:{<request id>}`), the
    /// rate limiter (`discord:{ratelimit}:`); the agents' streams keep their names and slots.
    public let base: String
    /// Keys laid out for a Redis Cluster (above).
    public let cluster: Bool

    public init(connectorAgentName: String, cluster: Bool = false) {
        self.connectorAgentName = connectorAgentName
        self.base = cluster ? Self.clusterBase : "discord:"
        self.cluster = cluster
    }

    /// The keys of the configured bus (tagged when it is a Redis Cluster).
    public init(config: ConnectorConfig) {
        self.init(connectorAgentName: config.connectorAgentName, cluster: config.busURL.isCluster)
    }

    public static let clusterBase = "discord:{bus}:"

    /// `sos:inbox:<agent>`: an agent's inbox stream.
    public static func inbox(_ agent: String) -> String { "sos:inbox:\(agent)" }

    /// The connector's own inbox, where agents' replies arrive.
    public var replyInbox: String { Self.inbox(connectorAgentName) }

    /// `sos:outbox:<agent>`: an agent's own stream to the connector. The records are those of the
    /// connector's inbox, but the connector takes `from` to be the stream's agent whatever the
    /// record says; under `connector acl apply` only that agent's Redis user may append to it, so
    /// every post under an agent's name is that agent's.
    public static func outbox(_ agent: String) -> String { outboxPrefix + agent }
    public static let outboxPrefix = "sos:outbox:"

    /// The agent an outbox stream belongs to; nil for any other key.
    public static func outboxAgent(_ stream: String) -> String? {
        guard stream.hasPrefix(outboxPrefix) else { return nil }
        let agent = String(stream.dropFirst(outboxPrefix.count))
        return AgentRouter.isValidAgentName(agent) ? agent : nil
    }

    /// The agents whose outboxes the Replier reads besides those the configuration names (a set,
    /// filled by `connector acl apply` and by the MCP server at start).
    public var outboxAgents: String { base + "outboxes" }

    /// Ingest -> Dispatcher: accepted Discord messages (`InboundMessage`), partition `p` of
    /// `INBOUND_PARTITIONS` (by channel, `partition(of:count:)`): `discord:inbound` (partition 0)
    /// and `discord:inbound:<p>` on one Redis, `discord:{inbound:<p>}` in a cluster.
    public func inbound(_ partition: Int) -> String {
        if cluster { return "discord:{inbound:\(partition)}" }
        return partition == 0 ? base + "inbound" : base + "inbound:\(partition)"
    }

    /// Every inbound partition's stream.
    public func inboundStreams(count: Int) -> [String] { (0..<max(1, count)).map(inbound) }

    /// The partition of a channel (or thread, or DM): FNV-1a of its id, the same in every process
    /// and across restarts, so one channel's messages keep their order in one stream.
    public static func partition(of channelID: String, count: Int) -> Int {
        Int(fnv1a(channelID) % UInt64(max(1, count)))
    }

    /// FNV-1a, 64 bits.
    public static func fnv1a(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    /// Records that failed for good, each with its reason.
    public var deadLetters: String { base + "dead" }

    /// The pending reply context of one request, an expiring hash (in a cluster, in a slot of its
    /// own: every stage finds it by the request id alone).
    public func pending(_ requestID: String) -> String { cluster ? "discord:pending:{\(requestID)}" : base + "pending:\(requestID)" }

    /// The buttons and selects one record posted (`ComponentContext`), an expiring hash keyed by
    /// the component set (the record's entry id on the connector's inbox).
    public func components(_ set: String) -> String { base + "components:\(set)" }

    /// `BOT_LOOP_BUDGET`: messages from an allowed bot in a channel during one minute.
    public func botLoop(channel: String, bot: String, minute: Int) -> String { base + "botloop:\(channel):\(bot):\(minute)" }

    /// `AGENT_IDENTITY=webhook`: channel id -> the connector's webhook there (JSON id, token).
    public var webhooks: String { base + "webhooks" }

    /// Which agent posted a message the connector sent (`PENDING_TTL`): a person's Discord
    /// reply to it reaches that agent.
    public func postedBy(_ messageID: String) -> String { base + "posted:\(messageID)" }

    /// Marks a Discord message (or interaction) as accepted, so a replayed event is not forwarded
    /// twice; in a cluster beside the inbound partition it guards, `inboundPartition`.
    public func seen(_ messageID: String, inboundPartition: Int) -> String {
        cluster ? inbound(inboundPartition) + ":seen:\(messageID)" : base + "seen:\(messageID)"
    }

    /// Per Discord channel (or thread, or DM), the newest accepted message id: where a catch-up
    /// after a lost session starts.
    public var cursors: String { base + "cursors" }

    /// `INBOUND_MODE=poll`: per mapped channel, the newest message already looked at.
    public var pollCursors: String { base + "poll:cursors" }
    public var pollLeasePrefix: String { base + "poll:lease:" }
    public var pollMembers: String { base + "poll:members" }

    /// Requests delivered and not yet answered, scored by delivery time (ms): the channels where
    /// the bot shows "typing".
    public var typing: String { base + "typing" }

    /// Requests not yet answered, scored by when their "no answer yet" notice is due (ms).
    public var unanswered: String { base + "unanswered" }

    /// Channels by id (JSON: id, name, type, guild_id, parent_id), kept by Ingest from guild and
    /// channel events, for resolving channel names.
    public var channels: String { base + "channels" }

    /// Liveness: field `<service>@<instance>` -> milliseconds since 1970 of its last beat.
    public var heartbeats: String { base + "heartbeats" }

    /// Which Ingest holds a shard's gateway (`<prefix><shard>`); the others stand by.
    public var gatewayLeasePrefix: String { base + "gateway:lease:" }
    /// Live Ingest copies, for sharing out shards.
    public var gatewayMembers: String { base + "gateway:members" }
    /// IDENTIFY rate-limit keys, one per `shard % max_concurrency`.
    public func identifySlot(_ bucket: Int) -> String { base + "gateway:identify:\(bucket)" }

    /// The one process at a time that trims the bus (`Janitor`), and the copies that could.
    public var janitorLeasePrefix: String { base + "janitor:lease:" }
    public var janitorMembers: String { base + "janitor:members" }

    /// Counters an operator reads with `HGETALL discord:stats`.
    public var stats: String { base + "stats" }

    /// The gateway session of a shard, which Ingest resumes after a restart or takeover.
    public func gatewaySession(shard: Int) -> String { base + "gateway:session:\(shard)" }

    /// The generated ctx signing key, when `CTX_SIGNING_KEY` is not set.
    public var ctxSigningKey: String { base + "ctx-signing-key" }

    /// Routed replies: partition `n` of the reply path, keyed by channel, consumed by the one
    /// Replier copy that holds the partition, so each channel's replies post in order.
    public func replyPartition(_ partition: Int) -> String { cluster ? "discord:{replies:\(partition)}" : base + "replies:\(partition)" }
    public var replyPartitionLeasePrefix: String { base + "replier:partition:" }
    /// The one Replier copy that routes the connector's inbox into partitions.
    public var replySequencerLeasePrefix: String { base + "replier:sequencer:" }
    /// The one Replier copy that shows typing indicators and receipt reactions.
    public var replyFeedbackLeasePrefix: String { base + "replier:feedback:" }
    /// Live Replier copies, for sharing out partitions.
    public var replierMembers: String { base + "replier:members" }

    /// The shared rate limiter's keys (`SharedRateLimiter`).
    public var rateLimit: RateLimitKeys { RateLimitKeys(prefix: cluster ? "discord:{ratelimit}:" : base + "ratelimit:") }

    /// The Echo agent's consumer group (`make run`'s stand-in agent).
    public static let echoGroup = "echo-agent"

    public static let dispatcherGroup = "dispatcher"
    public static let replierGroup = "replier"
}

/// The keys of the shared rate limiter: Discord counts per bot token, so every process that
/// posts with the token shares them.
public struct RateLimitKeys: Sendable {
    public let prefix: String

    public init(prefix: String = "discord:ratelimit:") {
        self.prefix = prefix
    }

    /// Set for the length of a global 429's `retry_after`: every request waits.
    public var globalPause: String { prefix + "global:pause" }
    /// The send times of the last second's requests (a sorted set), for the global limit.
    public var globalSent: String { prefix + "global:sent" }
    /// Invalid requests (401, 403, 429) counted per 10-minute window `window` (ms / 600,000).
    public func invalid(window: Int) -> String { prefix + "invalid:\(window)" }
    /// Spaces requests one per second once invalid requests pass the guard.
    public var invalidSpacing: String { prefix + "invalid:spacing" }
    /// Which Discord bucket (`X-RateLimit-Bucket`) a route belongs to, once learned.
    public func route(_ route: String) -> String { prefix + "route:" + route }
    /// A bucket's learned limit, window and pause, per major parameter (the channel id).
    public func bucketState(_ bucket: String, major: String) -> String { prefix + "bucket:\(bucket):\(major)" }
    /// The send times of a bucket's requests (a sorted set).
    public func bucketSent(_ bucket: String, major: String) -> String { bucketState(bucket, major: major) + ":sent" }
    /// The bucket name of a route not yet learned from Discord's headers.
    public static func coldBucket(_ route: String) -> String { "cold:" + route }
}
