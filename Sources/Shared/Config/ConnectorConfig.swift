import Foundation

/// Everything a service reads from its environment (CONTRACT section 1), resolved once at start.
///
/// The process environment wins over `.env`, and `.env` wins over the defaults below. Every
/// connector setting is read in `init(environment:)`, which is the single place to look up what
/// a variable means; the README's configuration table mirrors it. (The test and demo programs,
/// the simulator and the echo agent, read a few variables of their own: `SIM_*`, `ECHO_AGENTS`.)
public struct ConnectorConfig: Sendable {
    /// `DISCORD_BOT_TOKEN`: the bot token. Required by Ingest and Replier unless `DRY_RUN=1`.
    public var discordToken: String?
    /// `MUMEGA_BUS_URL`: the Redis bus.
    public var busURL: RedisURL
    /// `MUMEGA_BUS_TOKEN`: password of the connector's Redis ACL user (`CONNECTOR_AGENT_NAME`).
    public var busToken: String?
    /// `MUMEGA_AGENT_MAP` and `MUMEGA_DEFAULT_AGENT`: who gets which message.
    public var router: AgentRouter
    /// `CONNECTOR_AGENT_NAME`: the connector's bus identity and reply inbox.
    public var connectorAgentName: String
    /// `POLL_INTERVAL`: seconds; only the REST polling mode uses it.
    public var pollInterval: Int
    /// `ENABLE_REPLY_LOOP`: `false` turns the reply path off.
    public var enableReplyLoop: Bool
    /// `DRY_RUN`: log what would be sent to Discord instead of sending it.
    public var dryRun: Bool
    /// `PENDING_TTL`: seconds a pending reply context lives.
    public var pendingTTL: Int
    /// `COMPONENT_TTL`: seconds the buttons and selects an agent posted stay clickable.
    public var componentTTL: Int
    /// `MAX_UPLOAD_BYTES`: the most bytes of files one reply record may upload.
    public var maxUploadBytes: Int
    /// `DISCORD_API_BASE`: Discord's REST base URL, without a trailing slash.
    public var apiBase: String
    /// `DISCORD_GATEWAY_URL`: overrides the gateway URL from `GET /gateway/bot`.
    public var gatewayURL: String?
    /// `CTX_SIGNING_KEY`: the key that signs ctx blocks; when unset, one is generated and kept in Redis.
    public var ctxSigningKey: String?
    /// `LOG_LEVEL`: trace, debug, info, notice, warning, error or critical.
    public var logLevel: String
    /// `LOG_FORMAT`, `METRICS_PORT`, `METRICS_HOST` (docs/OBSERVABILITY.md): logs as text lines
    /// or one JSON object per line; the port of `/metrics`, `/healthz` and `/readyz` (nil: no
    /// HTTP endpoint; 0: any free port, logged at start) and the address it binds.
    public var logFormat: LogFormat
    public enum LogFormat: String, Sendable { case text, json }
    public var metricsPort: Int?
    public var metricsHost: String
    /// `CLAIM_IDLE_MS`: a pending bus entry idle this long is taken over from its (dead) consumer.
    public var claimIdleMilliseconds: Int
    /// `MAX_DELIVERIES`: an entry delivered more often than this goes to the dead-letter stream.
    public var maxDeliveries: Int
    /// `UNANSWERED_NOTICE_AFTER`: seconds after which a request with no reply posted gets a short
    /// visible notice in its channel; 0 turns notices off.
    public var unansweredNoticeAfter: Int
    /// `GATEWAY_LEASE_MS`: how long the gateway lease lasts unrenewed; a standby Ingest takes
    /// over within about this long after the holder dies.
    public var gatewayLeaseMilliseconds: Int
    /// `CATCHUP_MAX_AGE` and `CATCHUP_MAX_MESSAGES`: the bounds of the catch-up after a session
    /// is lost, per channel.
    public var catchUpMaxAge: Int
    public var catchUpMaxMessages: Int
    /// `ALLOWED_GUILDS`, `ALLOWED_CHANNELS`, `ALLOWED_USERS`: optional allowlists of ids.
    public var allowlist: Allowlist
    /// `PING_ASKER`: whether a reply pings the person who asked (through the reply itself).
    public var pingAsker: Bool
    /// `AGENT_IDENTITY`: `bot` (replies are the bot's) or `webhook` (each agent posts under its
    /// own name through a webhook of the channel).
    public var agentIdentity: AgentIdentity
    /// `AGENT_AVATARS`: agent name -> avatar URL, for webhook identity.
    public var agentAvatars: [String: String]
    /// `ALLOWED_BOT_AUTHORS`: other bots (agents with Discord bots of their own) whose messages
    /// count like a person's; `BOT_LOOP_BUDGET`: at most this many of theirs per minute per
    /// channel reach an agent, so two agents cannot ping-pong forever.
    public var allowedBotAuthors: Set<String>
    public var botLoopBudget: Int
    /// `AUTO_THREAD`: channels where every request gets a thread of its own for its answers.
    public var autoThread: AutoThread
    /// `OUTBOUND_POLICY`: where each agent may post without a request.
    public var outboundPolicy: OutboundPolicy
    /// `STREAM_RETENTION`, `ACKED_RETENTION`, `DEAD_LETTER_RETENTION` (seconds; CONTRACT section
    /// 9) and `JANITOR_INTERVAL` (seconds between the janitor's sweeps).
    public var streamRetention: Int
    public var ackedRetention: Int
    public var deadLetterRetention: Int
    public var janitorInterval: Int
    /// `BUS_MIN_REPLICAS`: replicas that must have a write before the step that depends on it
    /// goes ahead (`WAIT`), so a Sentinel failover loses no accepted message.
    public var busMinReplicas: Int

    public enum AgentIdentity: String, Sendable, Equatable {
        case bot, webhook
    }
    /// `MAX_REPLY_CHARS`: a longer reply is not posted but dead-lettered, so that one runaway
    /// agent cannot flood a channel.
    public var maxReplyCharacters: Int
    /// `INBOX_JSONL_PATH`: also append every delivered message to this file, one JSON line each.
    public var inboxJSONLPath: String?
    /// `INBOUND_MODE`: `gateway` (default) or `poll` (REST polling of the mapped channels).
    public var inboundMode: InboundMode
    public enum InboundMode: String, Sendable { case gateway, poll }
    /// `TYPING_INDICATOR`: show "typing" in the channel from dispatch until the reply posts.
    public var typingIndicator: Bool
    /// `TYPING_LIMIT`: seconds after which the typing indicator is given up for a request.
    public var typingLimit: Int
    /// `RECEIPT_REACTION`: an emoji added to the human's message when it is delivered (off when empty).
    public var receiptReaction: String?
    /// `SHARD_COUNT`: gateway shards, shared out among Ingest copies.
    public var shardCount: Int
    /// `REPLY_PARTITIONS`: the reply path's partitions (by channel), shared out among Replier copies.
    public var replyPartitions: Int
    /// `INBOUND_PARTITIONS`: the inbound streams (by channel) Ingest writes and every Dispatcher
    /// reads; on a Redis Cluster each has its own slot, so inbound spreads over the nodes.
    public var inboundPartitions: Int
    /// `DISCORD_GLOBAL_RATE_LIMIT`: requests per second for the whole bot (Discord's default 50).
    public var globalRateLimit: Int
    /// `CHANNELS_FILE`: a JSON file of pinned channel names (`{"project": {"name": "id"}}`).
    public var channelsFile: String?
    /// `CONSUMER_NAME`: this process's name in the consumer groups; nil: `<service>-<host>`.
    public var consumerNameOverride: String?
    /// `INTERACTIONS_PORT`, `INTERACTIONS_HOST`: where the Interactions Endpoint listens (nil:
    /// the Interactions service does not serve; 0: any free port, logged at start).
    public var interactionsPort: Int?
    public var interactionsHost: String
    /// `DISCORD_PUBLIC_KEY`: the application's Ed25519 public key (hex), which verifies the
    /// interactions Discord POSTs to the endpoint. Required by the Interactions service.
    public var discordPublicKey: String?
    /// `SLASH_COMMAND`: the slash command's name (`ask`); empty for none.
    public var slashCommand: String
    /// `COMMANDS_GUILD_ID`: register the command in this guild only (instant updates, for
    /// development) instead of globally.
    public var commandsGuildID: String?

    /// The consumer name: `CONSUMER_NAME` when set, else `<prefix>-<host>`. Stable across
    /// restarts, so a restarted process finds its own pending entries first (a container keeps
    /// its hostname across restarts). Copies on one host need distinct `CONSUMER_NAME`s.
    public func consumerName(prefix: String) -> String {
        consumerNameOverride ?? "\(prefix)-\(ProcessInfo.processInfo.hostName)"
    }

    public static let defaultBusURL = "redis://127.0.0.1:6379"
    public static let defaultAPIBase = "https://discord.com/api/v10"

    /// Resolves the configuration from the process environment and `.env` in the working directory.
    public static func load(
        processEnvironment: [String: String] = ProcessInfo.processInfo.environment,
        dotEnvPath: String = ".env"
    ) throws(ConfigError) -> ConnectorConfig {
        var merged: [String: String] = [:]
        if let text = try? String(contentsOfFile: dotEnvPath, encoding: .utf8) {
            merged = try DotEnv.parse(text, source: dotEnvPath)
        }
        merged.merge(processEnvironment) { _, process in process }
        return try ConnectorConfig(environment: merged)
    }

    public init(environment env: [String: String]) throws(ConfigError) {
        func value(_ name: String) -> String? {
            guard let raw = env[name]?.trimmingWhitespace(), !raw.isEmpty else { return nil }
            return raw
        }
        func flag(_ name: String, default defaultValue: Bool) throws(ConfigError) -> Bool {
            guard let raw = value(name) else { return defaultValue }
            switch raw.lowercased() {
            case "1", "true", "yes", "on": return true
            case "0", "false", "no", "off": return false
            default: throw ConfigError(variable: name, problem: "expected 1 or 0 (or true/false), got '\(raw)'")
            }
        }
        /// A whole number within `range`, or nil when unset; `expected` says what is wanted.
        func number(_ name: String, in range: ClosedRange<Int>, expected: String) throws(ConfigError) -> Int? {
            guard let raw = value(name) else { return nil }
            guard let number = Int(raw), range.contains(number) else {
                throw ConfigError(variable: name, problem: "expected \(expected), got '\(raw.prefix(40))'")
            }
            return number
        }
        func positive(_ name: String, default defaultValue: Int, unit: String) throws(ConfigError) -> Int {
            guard let raw = value(name) else { return defaultValue }
            guard let number = Int(raw), number > 0 else {
                throw ConfigError(variable: name, problem: "expected a positive whole number of \(unit), got '\(raw)'")
            }
            return number
        }

        discordToken = value("DISCORD_BOT_TOKEN")
        if let token = discordToken, token.contains(where: \.isWhitespace) {
            throw ConfigError(variable: "DISCORD_BOT_TOKEN", problem: "contains whitespace; paste the token alone, without 'Bot '")
        }
        do {
            busURL = try RedisURL(parsing: value("MUMEGA_BUS_URL") ?? Self.defaultBusURL)
        } catch {
            throw ConfigError(variable: "MUMEGA_BUS_URL", problem: error.description)
        }
        busToken = value("MUMEGA_BUS_TOKEN")
        let map = try AgentRouter.parseMap(value("MUMEGA_AGENT_MAP") ?? "{}")
        let defaultAgent = value("MUMEGA_DEFAULT_AGENT") ?? "kasra"
        guard AgentRouter.isValidAgentName(defaultAgent) else {
            throw ConfigError(variable: "MUMEGA_DEFAULT_AGENT", problem: "'\(defaultAgent)' is not a valid agent name (letters, digits, '-', '_', '.')")
        }
        router = AgentRouter(channelAgents: map, defaultAgent: defaultAgent)
        connectorAgentName = value("CONNECTOR_AGENT_NAME") ?? "discord-connector"
        guard AgentRouter.isValidAgentName(connectorAgentName) else {
            throw ConfigError(variable: "CONNECTOR_AGENT_NAME", problem: "'\(connectorAgentName)' is not a valid agent name (letters, digits, '-', '_', '.')")
        }
        pollInterval = try positive("POLL_INTERVAL", default: 15, unit: "seconds")
        enableReplyLoop = try flag("ENABLE_REPLY_LOOP", default: true)
        dryRun = try flag("DRY_RUN", default: false)
        pendingTTL = try positive("PENDING_TTL", default: 86_400, unit: "seconds")
        componentTTL = try positive("COMPONENT_TTL", default: 604_800, unit: "seconds")
        maxUploadBytes = try positive("MAX_UPLOAD_BYTES", default: 10 * 1024 * 1024, unit: "bytes")
        let base = value("DISCORD_API_BASE") ?? Self.defaultAPIBase
        guard base.hasPrefix("http://") || base.hasPrefix("https://") else {
            throw ConfigError(variable: "DISCORD_API_BASE", problem: "expected an http:// or https:// URL, got '\(base)'")
        }
        apiBase = base.hasSuffix("/") ? String(base.dropLast()) : base
        gatewayURL = value("DISCORD_GATEWAY_URL")
        if let gateway = gatewayURL, !(gateway.hasPrefix("ws://") || gateway.hasPrefix("wss://")) {
            throw ConfigError(variable: "DISCORD_GATEWAY_URL", problem: "expected a ws:// or wss:// URL, got '\(gateway)'")
        }
        ctxSigningKey = value("CTX_SIGNING_KEY")
        logLevel = value("LOG_LEVEL")?.lowercased() ?? "info"
        let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        guard levels.contains(logLevel) else {
            throw ConfigError(variable: "LOG_LEVEL", problem: "expected one of \(levels.joined(separator: ", ")), got '\(logLevel)'")
        }
        let format = value("LOG_FORMAT")?.lowercased() ?? "text"
        guard let logFormat = LogFormat(rawValue: format) else {
            throw ConfigError(variable: "LOG_FORMAT", problem: "expected text or json, got '\(format)'")
        }
        self.logFormat = logFormat
        metricsPort = try number("METRICS_PORT", in: 0...65_535, expected: "a TCP port number 0-65535 (0 picks a free port; leave it unset for no HTTP endpoint)")
        metricsHost = value("METRICS_HOST") ?? "0.0.0.0"
        guard !metricsHost.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw ConfigError(variable: "METRICS_HOST", problem: "expected an IP address or host name to bind, got '\(metricsHost)'")
        }
        claimIdleMilliseconds = try positive("CLAIM_IDLE_MS", default: 30_000, unit: "milliseconds")
        maxDeliveries = try positive("MAX_DELIVERIES", default: 10, unit: "deliveries")
        if let raw = value("UNANSWERED_NOTICE_AFTER") {
            guard let number = Int(raw), number >= 0 else {
                throw ConfigError(variable: "UNANSWERED_NOTICE_AFTER", problem: "expected a whole number of seconds (0 turns notices off), got '\(raw)'")
            }
            unansweredNoticeAfter = number
        } else {
            unansweredNoticeAfter = min(900, pendingTTL / 2)
        }
        if unansweredNoticeAfter >= pendingTTL {
            throw ConfigError(variable: "UNANSWERED_NOTICE_AFTER", problem: "must be shorter than PENDING_TTL (\(pendingTTL) s): the notice needs the request's context")
        }
        gatewayLeaseMilliseconds = try positive("GATEWAY_LEASE_MS", default: 4_000, unit: "milliseconds")
        guard gatewayLeaseMilliseconds >= 1_500 else {
            throw ConfigError(variable: "GATEWAY_LEASE_MS", problem: "must be at least 1500 ms (the lease is renewed every 500 ms)")
        }
        catchUpMaxAge = try positive("CATCHUP_MAX_AGE", default: 3_600, unit: "seconds")
        catchUpMaxMessages = try positive("CATCHUP_MAX_MESSAGES", default: 200, unit: "messages")
        shardCount = try positive("SHARD_COUNT", default: 1, unit: "shards")
        allowlist = Allowlist(
            guilds: try Allowlist.parseIDs(value("ALLOWED_GUILDS"), variable: "ALLOWED_GUILDS"),
            channels: try Allowlist.parseIDs(value("ALLOWED_CHANNELS"), variable: "ALLOWED_CHANNELS"),
            users: try Allowlist.parseIDs(value("ALLOWED_USERS"), variable: "ALLOWED_USERS")
        )
        pingAsker = try flag("PING_ASKER", default: true)
        allowedBotAuthors = try Allowlist.parseIDs(value("ALLOWED_BOT_AUTHORS"), variable: "ALLOWED_BOT_AUTHORS") ?? []
        botLoopBudget = try positive("BOT_LOOP_BUDGET", default: 20, unit: "messages per minute")
        autoThread = try AutoThread.parse(value("AUTO_THREAD"))
        outboundPolicy = try OutboundPolicy.parse(value("OUTBOUND_POLICY"))
        streamRetention = try positive("STREAM_RETENTION", default: 604_800, unit: "seconds")
        ackedRetention = try positive("ACKED_RETENTION", default: 3_600, unit: "seconds")
        deadLetterRetention = try positive("DEAD_LETTER_RETENTION", default: 2_592_000, unit: "seconds")
        janitorInterval = try positive("JANITOR_INTERVAL", default: 60, unit: "seconds")
        busMinReplicas = try number("BUS_MIN_REPLICAS", in: 0...16, expected: "a whole number of replicas from 0 to 16") ?? 0
        let identity = value("AGENT_IDENTITY")?.lowercased() ?? "bot"
        guard let parsedIdentity = AgentIdentity(rawValue: identity) else {
            throw ConfigError(variable: "AGENT_IDENTITY", problem: "must be 'bot' or 'webhook', got '\(identity.prefix(40))'")
        }
        agentIdentity = parsedIdentity
        if let avatars = value("AGENT_AVATARS") {
            guard let parsed = try? JSON.decode([String: String].self, from: avatars) else {
                throw ConfigError(variable: "AGENT_AVATARS", problem: "must be a JSON object of agent name -> avatar URL, like {\"kasra\": \"https://example.com/kasra.png\"}")
            }
            if let bad = parsed.first(where: { !$0.value.hasPrefix("https://") && !$0.value.hasPrefix("http://") }) {
                throw ConfigError(variable: "AGENT_AVATARS", problem: "the avatar of '\(bad.key.prefix(64))' is not an http(s) URL")
            }
            agentAvatars = parsed
        } else {
            agentAvatars = [:]
        }
        typingIndicator = try flag("TYPING_INDICATOR", default: true)
        typingLimit = try positive("TYPING_LIMIT", default: 120, unit: "seconds")
        receiptReaction = value("RECEIPT_REACTION")
        maxReplyCharacters = try positive("MAX_REPLY_CHARS", default: 20_000, unit: "characters")
        inboxJSONLPath = value("INBOX_JSONL_PATH")
        let mode = value("INBOUND_MODE")?.lowercased() ?? "gateway"
        guard let inboundMode = InboundMode(rawValue: mode) else {
            throw ConfigError(variable: "INBOUND_MODE", problem: "expected gateway or poll, got '\(mode)'")
        }
        self.inboundMode = inboundMode
        replyPartitions = try positive("REPLY_PARTITIONS", default: 8, unit: "partitions")
        inboundPartitions = try number("INBOUND_PARTITIONS", in: 1...256, expected: "a whole number of partitions from 1 to 256") ?? (busURL.isCluster ? 4 : 1)
        globalRateLimit = try positive("DISCORD_GLOBAL_RATE_LIMIT", default: 50, unit: "requests per second")
        interactionsPort = try number("INTERACTIONS_PORT", in: 0...65_535, expected: "a TCP port number 0-65535 (0 picks a free one)")
        interactionsHost = value("INTERACTIONS_HOST") ?? "0.0.0.0"
        discordPublicKey = value("DISCORD_PUBLIC_KEY")
        if let key = discordPublicKey { _ = try InteractionSignature(publicKeyHex: key) }
        // Discord's rule for command names: 1-32 lower-case letters, digits, '-' or '_'.
        slashCommand = env["SLASH_COMMAND"].map { $0.trimmingWhitespace() } ?? "ask"
        guard slashCommand.isEmpty || (slashCommand.count <= 32 && slashCommand.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" })) else {
            throw ConfigError(variable: "SLASH_COMMAND", problem: "expected 1-32 lower-case letters, digits, '-' or '_' (or empty for no command), got '\(slashCommand)'")
        }
        commandsGuildID = value("COMMANDS_GUILD_ID")
        if let guild = commandsGuildID, !guild.allSatisfy(\.isASCIIDigit) {
            throw ConfigError(variable: "COMMANDS_GUILD_ID", problem: "expected a guild id (digits), got '\(guild)'")
        }
        consumerNameOverride = value("CONSUMER_NAME")
        if let name = consumerNameOverride, name.contains(where: \.isWhitespace) {
            throw ConfigError(variable: "CONSUMER_NAME", problem: "must not contain whitespace, got '\(name)'")
        }
        channelsFile = value("CHANNELS_FILE")
        if let path = channelsFile {
            do {
                _ = try ChannelCatalog.pinnedNames(fromFile: path)
            } catch {
                throw ConfigError(variable: "CHANNELS_FILE", problem: "cannot read '\(path)' as {\"project\": {\"channel-name\": \"CHANNEL_ID\"}} JSON")
            }
        }
    }

    /// Fails unless a bot token is present, for the services that talk to Discord.
    public func requireDiscordToken() throws(ConfigError) -> String {
        if let discordToken { return discordToken }
        if dryRun { return "" }
        throw ConfigError(variable: "DISCORD_BOT_TOKEN", problem: "required to talk to Discord (set it in the environment or .env; DRY_RUN=1 runs without it)")
    }

    /// The resolved configuration as `KEY=value` lines, secrets redacted, for `--check`.
    public var redactedDescription: String {
        let map = router.channelAgents.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\"\($0.value)\"" }.joined(separator: ",")
        let lines: [(String, String)] = [
            ("DISCORD_BOT_TOKEN", redacted(discordToken)),
            ("MUMEGA_BUS_URL", busURL.redactedDescription),
            ("MUMEGA_BUS_TOKEN", redacted(busToken)),
            ("MUMEGA_AGENT_MAP", "{\(map)}"),
            ("MUMEGA_DEFAULT_AGENT", router.defaultAgent),
            ("CONNECTOR_AGENT_NAME", connectorAgentName),
            ("POLL_INTERVAL", String(pollInterval)),
            ("ENABLE_REPLY_LOOP", enableReplyLoop ? "1" : "0"),
            ("DRY_RUN", dryRun ? "1" : "0"),
            ("PENDING_TTL", String(pendingTTL)),
            ("COMPONENT_TTL", String(componentTTL)),
            ("MAX_UPLOAD_BYTES", String(maxUploadBytes)),
            ("DISCORD_API_BASE", apiBase),
            ("DISCORD_GATEWAY_URL", gatewayURL ?? "(from GET /gateway/bot)"),
            ("CTX_SIGNING_KEY", ctxSigningKey == nil ? "(generated, kept in Redis)" : redacted(ctxSigningKey)),
            ("LOG_LEVEL", logLevel),
            ("LOG_FORMAT", logFormat.rawValue),
            ("METRICS_PORT", metricsPort.map(String.init) ?? "(off)"),
            ("METRICS_HOST", metricsHost),
            ("CLAIM_IDLE_MS", String(claimIdleMilliseconds)),
            ("MAX_DELIVERIES", String(maxDeliveries)),
            ("UNANSWERED_NOTICE_AFTER", String(unansweredNoticeAfter)),
            ("GATEWAY_LEASE_MS", String(gatewayLeaseMilliseconds)),
            ("CATCHUP_MAX_AGE", String(catchUpMaxAge)),
            ("CATCHUP_MAX_MESSAGES", String(catchUpMaxMessages)),
            ("ALLOWED_GUILDS", allowlist.guilds.map { $0.sorted().joined(separator: ",") } ?? "(any)"),
            ("ALLOWED_CHANNELS", allowlist.channels.map { $0.sorted().joined(separator: ",") } ?? "(any)"),
            ("ALLOWED_USERS", allowlist.users.map { $0.sorted().joined(separator: ",") } ?? "(any)"),
            ("PING_ASKER", pingAsker ? "1" : "0"),
            ("AGENT_IDENTITY", agentIdentity.rawValue),
            ("ALLOWED_BOT_AUTHORS", allowedBotAuthors.isEmpty ? "(none)" : allowedBotAuthors.sorted().joined(separator: ",")),
            ("BOT_LOOP_BUDGET", String(botLoopBudget)),
            ("AUTO_THREAD", autoThread.description),
            ("OUTBOUND_POLICY", outboundPolicy.description),
            ("STREAM_RETENTION", String(streamRetention)),
            ("ACKED_RETENTION", String(ackedRetention)),
            ("DEAD_LETTER_RETENTION", String(deadLetterRetention)),
            ("JANITOR_INTERVAL", String(janitorInterval)),
            ("BUS_MIN_REPLICAS", String(busMinReplicas)),
            ("AGENT_AVATARS", agentAvatars.isEmpty ? "(none)" : agentAvatars.keys.sorted().joined(separator: ",")),
            ("TYPING_INDICATOR", typingIndicator ? "1" : "0"),
            ("TYPING_LIMIT", String(typingLimit)),
            ("RECEIPT_REACTION", receiptReaction ?? "(off)"),
            ("MAX_REPLY_CHARS", String(maxReplyCharacters)),
            ("INBOX_JSONL_PATH", inboxJSONLPath ?? "(off)"),
            ("INBOUND_MODE", inboundMode.rawValue),
            ("SHARD_COUNT", String(shardCount)),
            ("REPLY_PARTITIONS", String(replyPartitions)),
            ("INBOUND_PARTITIONS", String(inboundPartitions)),
            ("DISCORD_GLOBAL_RATE_LIMIT", String(globalRateLimit)),
            ("CHANNELS_FILE", channelsFile ?? "(none)"),
            ("CONSUMER_NAME", consumerNameOverride ?? "(<service>-<host>)"),
            ("INTERACTIONS_PORT", interactionsPort.map(String.init) ?? "(off)"),
            ("INTERACTIONS_HOST", interactionsHost),
            ("DISCORD_PUBLIC_KEY", discordPublicKey ?? "(none)"),
            ("SLASH_COMMAND", slashCommand.isEmpty ? "(none)" : slashCommand),
            ("COMMANDS_GUILD_ID", commandsGuildID ?? "(global)"),
        ]
        return lines.map { "\($0.0)=\($0.1)" }.joined(separator: "\n")
    }
}

// Printing a configuration (in a log line, an error, a crash message) shows it redacted, never
// the token: `description`, `debugDescription` and reflection all go through `redactedDescription`.
extension ConnectorConfig: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "ConnectorConfig(" + redactedDescription.replacingOccurrences(of: "\n", with: ", ") + ")"
    }

    public var debugDescription: String { description }

    public var customMirror: Mirror { Mirror(self, children: ["redacted": description]) }
}
