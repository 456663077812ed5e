import Foundation
import Logging
import MCP
import Shared

/// The four tools, on the connector's bus. Each call makes one attempt: when Redis cannot be
/// reached the agent gets a tool error at once rather than a call that hangs in a retry loop.
struct ConnectorTools: Sendable {
    let config: ConnectorConfig
    let agentName: String
    let keys: BusKeys
    /// `sos:outbox:<agent>`: where this server queues what the agent sends. The connector takes
    /// every record there to be the agent's; under `connector acl apply` only the agent's Redis
    /// user may add to it.
    let outbox: String
    let logger: Logger
    /// Short commands (5 s socket timeout).
    let redis: RedisClient
    /// `XREADGROUP ... BLOCK`: its own connection and thread, with a timeout above the longest
    /// wait, so a waiting `read_inbox` neither times out nor holds up the other tools.
    let blockingRedis: RedisClient

    static let inboxGroup = "mcp"
    static let maxWaitMilliseconds = 30_000
    static let maxBatch = 100
    /// A message longer than this many Discord messages is refused rather than flooding a channel.
    static let maxParts = 10

    init(settings: MCPSettings, logger: Logger) {
        let config = settings.connector
        self.config = config
        self.agentName = settings.agentName
        self.keys = BusKeys(config: config)
        self.outbox = BusKeys.outbox(settings.agentName)
        self.logger = logger
        // The agent's own Redis user (MCP_AGENT_NAME with MCP_BUS_TOKEN), never the connector's:
        // Redis itself keeps this server to the agent's inbox and outbox.
        let user = settings.busToken == nil ? nil : settings.agentName
        redis = RedisClient(url: config.busURL, user: user, password: settings.busToken, timeout: .seconds(5), name: "mcp-redis")
        blockingRedis = RedisClient(
            url: config.busURL, user: user, password: settings.busToken,
            timeout: .milliseconds(Self.maxWaitMilliseconds + 5_000), name: "mcp-redis-blocking"
        )
    }

    /// Tells the Replier to read this agent's outbox (`discord:outboxes`). Best effort: under
    /// `connector acl apply` the agent's user may not write there, and the apply registered it.
    func registerOutbox() async {
        do {
            try await redis.run(SADD(keys.outboxAgents, members: [agentName]))
        } catch where error.message.hasPrefix("NOPERM") {
            logger.debug("not registering \(outbox) (the ACL user may not; connector acl apply registers its agents)")
        } catch {
            logger.notice("could not register \(outbox) with the connector yet: \(error)")
        }
    }

    // MARK: Dispatch

    func call(_ params: CallTool.Parameters) async throws -> CallTool.Result {
        guard let accepted = ToolCatalog.accepted[params.name] else {
            // The MCP specification answers an unknown tool with a protocol error.
            let names = ToolCatalog.all.map(\.name).joined(separator: ", ")
            throw MCPError.invalidParams("Unknown tool '\(params.name)'; this server has \(names)")
        }
        do {
            let arguments = try ToolArguments(params.arguments, tool: params.name, accepted: accepted)
            let text: String
            switch params.name {
            case ToolCatalog.sendDiscordMessage: text = try await sendDiscordMessage(arguments)
            case ToolCatalog.readInbox: text = try await readInbox(arguments)
            case ToolCatalog.reply: text = try await reply(arguments)
            case ToolCatalog.askHuman: text = try await askHuman(arguments)
            case ToolCatalog.react: text = try await react(arguments)
            case ToolCatalog.createThread: text = try await createThread(arguments)
            case ToolCatalog.updateProgress: text = try await updateProgress(arguments)
            case ToolCatalog.sendFile: text = try await sendFile(arguments)
            case ToolCatalog.fetchMessages: text = try await fetchMessages(arguments)
            case ToolCatalog.downloadAttachment: text = try await downloadAttachment(arguments)
            default: text = try await listChannels()
            }
            return CallTool.Result(content: [.text(text: text, annotations: nil, _meta: nil)], isError: false)
        } catch let error as ToolError {
            logger.notice("\(params.name) failed: \(error.description)")
            return CallTool.Result(content: [.text(text: error.description, annotations: nil, _meta: nil)], isError: true)
        } catch {
            logger.error("\(params.name) failed unexpectedly: \(error)")
            return CallTool.Result(content: [.text(text: "\(params.name): internal error: \(error)", annotations: nil, _meta: nil)], isError: true)
        }
    }

    // MARK: send_discord_message

    func sendDiscordMessage(_ arguments: ToolArguments) async throws -> String {
        let tool = arguments.tool
        let channelName = try arguments.requiredString("channel_name")
        guard let message = try arguments.string("message") else {
            throw ToolError("\(tool): missing required argument 'message'")
        }
        guard !message.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ToolError("\(tool): message is empty; there is nothing to post")
        }
        var rigName = try arguments.string("rig_name")?.trimmingCharacters(in: .whitespacesAndNewlines)
        if rigName?.isEmpty == true { rigName = nil }
        if let rigName, rigName.contains(where: \.isNewline) || rigName.count > 64 {
            throw ToolError("\(tool): rig_name must be one line of at most 64 characters")
        }
        // A routing token would make the Replier treat the message as the answer to a request
        // and post it somewhere else.
        if !ReplyTokens.ackIDs(in: message).isEmpty || !ReplyTokens.ctxTokens(in: message).isEmpty {
            throw ToolError("\(tool): message contains a reply routing token ({ack_for:…} or [ctx:…]); to answer a request use reply(request_id, text), otherwise remove the token")
        }
        let parts = try partCount(ReplyTokens.strip(message), prefix: rigName.map { "[\($0)] " } ?? "", tool: tool)
        let buttons = try buttonsField(arguments)

        try await ready(redis)
        let (channelID, normalised) = try await resolveChannel(channelName, tool: tool)
        var record = ReplyRecord(from: agentName, to: config.connectorAgentName, text: message, channelID: channelID, channelName: normalised, rigName: rigName)
        record.buttons = buttons
        let entryID = try await redisCall("queueing the message", mayHaveRun: true) { () throws(RedisError) in
            try await redis.run(XADD(outbox, fields: record.streamFields))
        }
        logger.info("queued a message for #\(normalised) (\(channelID)) as \(entryID)", metadata: ["parts": "\(parts)", "from": "\(agentName)"])
        return try encode(SendResult(
            status: "queued", entryID: entryID, channelID: channelID, channelName: normalised, parts: parts,
            note: parts > 1
                ? "longer than Discord's 2000-character limit: it will be posted as \(parts) messages, in order"
                : "the connector's Replier posts it to Discord, usually within a second"
        ))
    }

    /// A channel by name, in the connector's guilds or its CHANNELS_FILE: its id and normalised name.
    private func resolveChannel(_ channelName: String, tool: String) async throws(ToolError) -> (String, String) {
        let catalog = try await redisCall("loading channel names") { () throws(RedisError) in
            try await ChannelCatalog.load(redis: redis, keys: keys, pinnedFile: config.channelsFile)
        }
        let channelID: String
        switch catalog.resolve(channelName) {
        case .found(let id):
            channelID = id
        case .unknown(let normalised):
            throw ToolError(unknownChannelMessage(normalised, catalog: catalog, tool: tool))
        case .ambiguous(let normalised, let ids):
            throw ToolError("\(tool): channel name '\(normalised)' is ambiguous: channels \(ids.joined(separator: ", ")) share it; pin the one you mean in the connector's CHANNELS_FILE")
        }
        return (channelID, ChannelCatalog.normalise(channelName))
    }

    private func unknownChannelMessage(_ name: String, catalog: ChannelCatalog, tool: String) -> String {
        // Names that resolve are the ones worth suggesting (text channels, threads, pinned names).
        var known = Set(catalog.pinned.keys)
        for entry in catalog.entries where catalog.resolve(entry.name) != .unknown(ChannelCatalog.normalise(entry.name)) {
            known.insert(ChannelCatalog.normalise(entry.name))
        }
        if known.isEmpty {
            return "\(tool): no channel named '\(name)': the connector knows no channel names yet (Ingest learns them when it connects to Discord; names can also be pinned in CHANNELS_FILE)"
        }
        let sorted = known.sorted()
        let shown = sorted.prefix(10).joined(separator: ", ") + (sorted.count > 10 ? ", … (\(sorted.count) in all; see list_channels)" : "")
        return "\(tool): no channel named '\(name)' in the connector's guilds; known names: \(shown)"
    }

    // MARK: read_inbox

    func readInbox(_ arguments: ToolArguments) async throws -> String {
        let tool = arguments.tool
        let agent = try arguments.requiredString("agent").trimmingCharacters(in: .whitespaces)
        guard AgentRouter.isValidAgentName(agent) else {
            throw ToolError("\(tool): '\(agent.prefix(80))' is not a valid agent name (1 to 64 letters, digits, '-', '_' or '.')")
        }
        guard agent != config.connectorAgentName else {
            throw ToolError("\(tool): sos:inbox:\(agent) is the connector's own inbox (agents' replies, read by the Replier); read an agent's inbox instead")
        }
        let count = try arguments.integer("max", default: 10, range: 1...Self.maxBatch)
        let wait = try arguments.integer("wait_ms", default: 0, range: 0...Self.maxWaitMilliseconds)
        let stream = BusKeys.inbox(agent)
        let group = Self.inboxGroup
        let client = blockingRedis

        try await ready(client)
        try await redisCall("creating the consumer group") { () throws(RedisError) in
            do throws(RedisError) {
                try await client.run(XGROUPCREATE(stream, group: group, start: "0"))
            } catch where XGROUPCREATE.isBusyGroup(error) {
                // Already there.
            }
        }
        // Entries this consumer read but did not acknowledge (a call cut short) come first.
        var entries = try await redisCall("reading the inbox") { () throws(RedisError) in
            try await client.run(XREADGROUP(group: group, consumer: agentName, count: count, stream: stream, id: "0"))
        }
        if entries.isEmpty {
            entries = try await redisCall("reading the inbox") { () throws(RedisError) in
                try await client.run(XREADGROUP(group: group, consumer: agentName, count: count, block: wait > 0 ? wait : nil, stream: stream, id: ">"))
            }
        }
        if !entries.isEmpty {
            try await redisCall("acknowledging the messages read") { () throws(RedisError) in
                try await client.run(XACK(stream, group: group, ids: entries.map(\.id)))
            }
            logger.info("read \(entries.count) message(s) from \(stream)", metadata: ["reader": "\(agentName)"])
        }
        // An entry trimmed from the stream while pending comes back without fields: nothing to show.
        let messages = entries.filter { !$0.fields.isEmpty }.map { InboxMessage(id: $0.id, fields: $0.fields.dictionary) }
        return try encode(InboxResult(agent: agent, stream: stream, count: messages.count, messages: messages))
    }

    // MARK: reply

    func reply(_ arguments: ToolArguments) async throws -> String {
        let tool = arguments.tool
        let requestID = try openRequest(try arguments.requiredString("request_id"), tool: tool)
        guard let text = try arguments.string("text") else {
            throw ToolError("\(tool): missing required argument 'text'")
        }
        let buttons = try buttonsField(arguments)
        let update = try arguments.bool("update") ?? false
        let posted = ReplyTokens.strip(text)
        // An update may only remove the buttons; anything else needs text.
        guard update || !posted.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ToolError("\(tool): text is empty\(text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty ? "" : " once its routing tokens are removed"); there is nothing to post")
        }
        let parts = try partCount(posted, prefix: "", tool: tool)

        try await ready(redis)
        let open = try await redisCall("looking up the request") { () throws(RedisError) in
            try await redis.run(EXISTS(keys.pending(requestID)))
        }
        guard open else {
            throw ToolError("\(tool): no open request \(requestID): it is unknown, or older than the connector's PENDING_TTL (\(config.pendingTTL) s) and expired")
        }
        var record = ReplyRecord(from: agentName, to: config.connectorAgentName, text: text, ackFor: requestID)
        record.buttons = buttons
        record.update = update
        let entryID = try await redisCall("queueing the reply", mayHaveRun: true) { () throws(RedisError) in
            try await redis.run(XADD(outbox, fields: record.streamFields))
        }
        logger.info("queued a reply to \(requestID) as \(entryID)", metadata: ["parts": "\(parts)", "from": "\(agentName)"])
        return try encode(ReplyResult(
            status: "queued", entryID: entryID, requestID: requestID, parts: parts,
            note: "posted in the request's channel as a reply to the original message" + (parts > 1 ? ", as \(parts) messages in order" : "")
        ))
    }

    // MARK: ask_human

    /// The longest an `ask_human` call waits for a click.
    static let maxAskSeconds = 900

    func askHuman(_ arguments: ToolArguments) async throws -> String {
        let tool = arguments.tool
        let question = try arguments.requiredString("question")
        guard let options = try arguments.strings("options") else { throw ToolError("\(tool): missing required argument 'options'") }
        let labels = options.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        guard (1...AgentComponents.maxButtonsPerRow).contains(labels.count) else {
            throw ToolError("\(tool): options must hold 1 to \(AgentComponents.maxButtonsPerRow) choices, got \(labels.count)")
        }
        if let bad = labels.first(where: { $0.isEmpty || $0.count > AgentComponents.maxLabelCharacters }) {
            throw ToolError("\(tool): each option must be 1 to \(AgentComponents.maxLabelCharacters) characters, got '\(bad.prefix(90))'")
        }
        guard Set(labels).count == labels.count else { throw ToolError("\(tool): options must differ from each other") }
        let timeout = try arguments.integer("timeout_s", default: 300, range: 1...Self.maxAskSeconds)
        if !ReplyTokens.ackIDs(in: question).isEmpty || !ReplyTokens.ctxTokens(in: question).isEmpty {
            throw ToolError("\(tool): question contains a reply routing token ({ack_for:…} or [ctx:…]); give request_id instead")
        }
        // The ids the click comes back with: this call's own, so no other click is mistaken for it.
        let token = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        let buttons = labels.enumerated().map { index, label -> JSONValue in
            .object(["type": .number(2), "style": .number(index == 0 ? 1 : 2), "label": .string(label), "custom_id": .string("ask:\(token):\(index)")])
        }
        var record = ReplyRecord(from: agentName, to: config.connectorAgentName, text: question)
        record.components = try JSON.encodeString([JSONValue.object(["type": .number(1), "components": .array(buttons)])])

        try await ready(redis)
        let place: String
        switch (try arguments.string("channel_name"), try arguments.string("request_id")) {
        case (let name?, nil):
            let (channelID, normalised) = try await resolveChannel(name, tool: tool)
            record.channelID = channelID
            record.channelName = normalised
            place = "#\(normalised)"
        case (nil, let raw?):
            let requestID = try openRequest(raw, tool: tool)
            guard try await redisCall("looking up the request", { () throws(RedisError) in try await redis.run(EXISTS(keys.pending(requestID))) }) else {
                throw ToolError("\(tool): no open request \(requestID): it is unknown, or older than the connector's PENDING_TTL (\(config.pendingTTL) s) and expired")
            }
            record.ackFor = requestID
            place = "request \(requestID)"
        default:
            throw ToolError("\(tool): give exactly one of channel_name (where to ask) or request_id (the request to ask in answer to)")
        }
        let posted = try await redisCall("queueing the question", mayHaveRun: true) { () throws(RedisError) in
            try await redis.run(XADD(outbox, fields: record.streamFields))
        }
        logger.info("asked \(place) with \(labels.count) option(s) as \(posted); waiting up to \(timeout) s", metadata: ["from": "\(agentName)"])

        guard let click = try await awaitClick(prefix: "ask:\(token):", after: posted, seconds: timeout) else {
            return try encode(AskResult(status: "timeout", note: "nobody chose within \(timeout) s; the buttons stay under the question, and a later click arrives in read_inbox(\(agentName)) as kind=component"))
        }
        let index = Int(click["custom_id"]?.split(separator: ":").last ?? "") ?? 0
        let choice = labels.indices.contains(index) ? labels[index] : (click["component_label"] ?? "")
        let who = click["author_name"] ?? "someone"
        // The question now says who chose what, and its buttons are gone: nobody clicks twice.
        var shown = ReplyRecord(from: agentName, to: config.connectorAgentName, text: "\(question)\n**\(choice)**, chosen by \(who)", ackFor: click["request_id"])
        shown.update = true
        let edited = (try? await redis.run(XADD(outbox, fields: shown.streamFields))) != nil
        return try encode(AskResult(
            status: "answered", choice: choice, index: index, userID: click["author_id"], userName: who,
            messageID: click["message_id"], requestID: click["request_id"],
            note: edited ? "the question now shows the choice; its buttons are removed" : "could not queue the edit that removes the buttons"
        ))
    }

    /// The first click whose custom_id starts with `prefix` in this agent's inbox after entry
    /// `after`, waiting at most `seconds`; nil when none came.
    private func awaitClick(prefix: String, after: String, seconds: Int) async throws(ToolError) -> [String: String]? {
        let inbox = BusKeys.inbox(agentName)
        let deadline = ContinuousClock.now + .seconds(seconds)
        var cursor = after
        let client = blockingRedis
        while true {
            let left = Int((deadline - ContinuousClock.now).wholeMilliseconds)
            guard left > 0 else { return nil }
            let entries = try await redisCall("waiting for a click") { () throws(RedisError) in
                try await client.run(XREAD(inbox, after: cursor, count: 100, block: min(left, Self.maxWaitMilliseconds)))
            }
            for entry in entries {
                cursor = entry.id
                if entry.fields["kind"] == InboundMessage.Kind.component.rawValue, entry.fields["custom_id"]?.hasPrefix(prefix) == true {
                    return entry.fields.dictionary
                }
            }
        }
    }

    // MARK: react, create_thread, update_progress, send_file

    /// One record answering an open request, queued on the connector's inbox.
    private func queueAnswer(_ record: ReplyRecord, tool: String, what: String) async throws -> String {
        let entryID = try await redisCall("queueing the \(what)", mayHaveRun: true) { () throws(RedisError) in
            try await redis.run(XADD(outbox, fields: record.streamFields))
        }
        logger.info("queued a \(what) for \(record.ackFor ?? record.channelName ?? "?") as \(entryID)", metadata: ["from": "\(agentName)"])
        return try encode(QueuedResult(status: "queued", entryID: entryID, note: "the connector's Replier carries it out, usually within a second"))
    }

    /// A request id argument that names an open request.
    private func openPendingRequest(_ arguments: ToolArguments) async throws -> String {
        let requestID = try openRequest(try arguments.requiredString("request_id"), tool: arguments.tool)
        try await ready(redis)
        guard try await redisCall("looking up the request", { () throws(RedisError) in try await redis.run(EXISTS(keys.pending(requestID))) }) else {
            throw ToolError("\(arguments.tool): no open request \(requestID): it is unknown, or older than the connector's PENDING_TTL (\(config.pendingTTL) s) and expired")
        }
        return requestID
    }

    func react(_ arguments: ToolArguments) async throws -> String {
        let emoji = try arguments.requiredString("emoji").trimmingCharacters(in: .whitespacesAndNewlines)
        guard emoji.count <= 64, !emoji.contains(where: \.isWhitespace) else {
            throw ToolError("\(arguments.tool): emoji must be one emoji (👍) or name:id, got '\(emoji.prefix(70))'")
        }
        var record = ReplyRecord(from: agentName, to: config.connectorAgentName, text: "", ackFor: try await openPendingRequest(arguments))
        record.react = emoji
        return try await queueAnswer(record, tool: arguments.tool, what: "reaction")
    }

    func createThread(_ arguments: ToolArguments) async throws -> String {
        let name = try arguments.requiredString("name").trimmingCharacters(in: .whitespacesAndNewlines)
        guard name.count <= 100, !name.contains(where: \.isNewline) else {
            throw ToolError("\(arguments.tool): name must be one line of at most 100 characters")
        }
        let text = try arguments.string("text") ?? ""
        _ = try partCount(ReplyTokens.strip(text), prefix: "", tool: arguments.tool)
        var record = ReplyRecord(from: agentName, to: config.connectorAgentName, text: text, ackFor: try await openPendingRequest(arguments))
        record.thread = name
        return try await queueAnswer(record, tool: arguments.tool, what: "thread")
    }

    func updateProgress(_ arguments: ToolArguments) async throws -> String {
        let text = try arguments.requiredString("text")
        guard ReplySplitter().split(ReplyTokens.strip(text)).count == 1 else {
            throw ToolError("\(arguments.tool): a status is one message: at most \(ReplySplitter.discordLimit) characters")
        }
        var record = ReplyRecord(from: agentName, to: config.connectorAgentName, text: text, ackFor: try await openPendingRequest(arguments))
        record.progress = true
        return try await queueAnswer(record, tool: arguments.tool, what: "status")
    }

    func sendFile(_ arguments: ToolArguments) async throws -> String {
        let tool = arguments.tool
        let data: Data
        var filename = try arguments.string("filename")?.trimmingCharacters(in: .whitespacesAndNewlines)
        switch (try arguments.string("path"), try arguments.string("base64")) {
        case (let path?, nil):
            let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? nil
            guard let size else { throw ToolError("\(tool): cannot read \(path): no such file, or not readable") }
            guard size <= config.maxUploadBytes else { throw ToolError("\(tool): \(path) is \(size) bytes; the connector uploads at most MAX_UPLOAD_BYTES=\(config.maxUploadBytes)") }
            guard let read = FileManager.default.contents(atPath: path) else { throw ToolError("\(tool): cannot read \(path)") }
            data = read
            if filename?.isEmpty ?? true { filename = URL(fileURLWithPath: path).lastPathComponent }
        case (nil, let encoded?):
            guard encoded.count <= (config.maxUploadBytes / 3 + 1) * 4 + 4, let decoded = Data(base64Encoded: encoded, options: .ignoreUnknownCharacters) else {
                throw ToolError("\(tool): base64 is not valid base64, or decodes to more than MAX_UPLOAD_BYTES=\(config.maxUploadBytes)")
            }
            data = decoded
        default:
            throw ToolError("\(tool): give exactly one of path (a file to read) or base64 (its bytes)")
        }
        guard data.count <= config.maxUploadBytes else { throw ToolError("\(tool): the file is \(data.count) bytes; the connector uploads at most MAX_UPLOAD_BYTES=\(config.maxUploadBytes)") }
        guard let name = filename, !name.isEmpty, name.count <= 255, !name.contains("/") else {
            throw ToolError("\(tool): filename must be a file name (no '/', at most 255 characters)")
        }
        let text = try arguments.string("text") ?? ""
        if !ReplyTokens.ackIDs(in: text).isEmpty || !ReplyTokens.ctxTokens(in: text).isEmpty {
            throw ToolError("\(tool): text contains a reply routing token ({ack_for:…} or [ctx:…]); give request_id instead")
        }
        _ = try partCount(text, prefix: "", tool: tool)
        var record = ReplyRecord(from: agentName, to: config.connectorAgentName, text: text)
        record.files = [DiscordFile(filename: name, contentType: ReplyRecord.contentType(of: name), data: data)]
        switch (try arguments.string("channel_name"), try arguments.string("request_id")) {
        case (let channel?, nil):
            try await ready(redis)
            let (channelID, normalised) = try await resolveChannel(channel, tool: tool)
            record.channelID = channelID
            record.channelName = normalised
        case (nil, _?):
            record.ackFor = try await openPendingRequest(arguments)
        default:
            throw ToolError("\(tool): give exactly one of channel_name or request_id")
        }
        return try await queueAnswer(record, tool: tool, what: "file")
    }

    // MARK: fetch_messages, download_attachment

    /// Discord, for the tools that read from it: through the bot's shared rate limiter, with the
    /// bot token the server's environment gives (none: a tool error saying so).
    private func discordClient(_ tool: String) throws(ToolError) -> DiscordClient {
        guard let token = config.discordToken else {
            throw ToolError("\(tool): this MCP server has no DISCORD_BOT_TOKEN in its environment, so it cannot ask Discord; give it the connector's token")
        }
        let limiter = SharedRateLimiter(redis: redis, settings: .init(globalPerSecond: config.globalRateLimit), logger: logger)
        return DiscordClient(apiBase: config.apiBase, token: token, http: HTTPClient(name: "mcp-discord"), limiter: limiter, logger: logger)
    }

    static let maxHistory = 100

    func fetchMessages(_ arguments: ToolArguments) async throws -> String {
        let tool = arguments.tool
        let channelName = try arguments.requiredString("channel_name")
        let limit = try arguments.integer("limit", default: 20, range: 1...Self.maxHistory)
        let before = try arguments.string("before")?.trimmingCharacters(in: .whitespaces)
        if let before, before.isEmpty || !before.allSatisfy({ $0.isASCII && $0.isNumber }) {
            throw ToolError("\(tool): before must be a message id (digits), got '\(before.prefix(40))'")
        }
        let discord = try discordClient(tool)
        try await ready(redis)
        let (channelID, _) = try await resolveChannel(channelName, tool: tool)
        let messages: [DiscordMessage]
        do {
            messages = try await discord.perform(.history(channel: channelID, limit: limit, before: before), retries: .attempts(3), as: [DiscordMessage].self)
        } catch {
            throw ToolError("\(tool): Discord did not give the history of \(channelID): \(error)")
        }
        let shown = messages.map {
            HistoryMessage(id: $0.id, authorID: $0.author.id, authorName: $0.authorName, bot: $0.author.bot ?? false, content: $0.content,
                           timestamp: $0.timestamp, attachments: $0.attachments, repliedMessageID: $0.repliedMessageID)
        }
        return try encode(HistoryResult(channelID: channelID, messages: shown, nextBefore: messages.count == limit ? messages.last?.id : nil))
    }

    func downloadAttachment(_ arguments: ToolArguments) async throws -> String {
        let tool = arguments.tool
        let messageID = try arguments.requiredString("message_id").trimmingCharacters(in: .whitespaces)
        guard !messageID.isEmpty, messageID.allSatisfy({ $0.isASCII && $0.isNumber }) else {
            throw ToolError("\(tool): message_id must be a Discord message id (digits), got '\(messageID.prefix(40))'")
        }
        let index = try arguments.integer("index", default: 1, range: 1...10)
        let path = try arguments.string("path")
        try await ready(redis)
        // Only a message delivered to this agent: its record in the agent's own inbox says where
        // the message is and what it carried.
        let inbox = BusKeys.inbox(agentName)
        guard let delivery = try await redisCall("looking for the message in \(inbox)", { () throws(RedisError) in
            try await AttachmentDownload.findDelivery(of: messageID, in: inbox, redis: redis)
        }) else {
            throw ToolError("\(tool): no message \(messageID) in \(inbox): give the message_id of a message delivered to you")
        }
        let discord = config.discordToken == nil ? nil : try discordClient(tool)
        let (attachment, data): (DiscordMessage.Attachment, Data)
        do throws(AttachmentDownload.Failure) {
            (attachment, data) = try await AttachmentDownload(discord: discord, maxBytes: config.maxUploadBytes)
                .fetch(channelID: delivery.channelID, messageID: messageID, index: index, recorded: delivery.attachments)
        } catch {
            throw ToolError("\(tool): \(error.description)")
        }
        if let path {
            guard FileManager.default.createFile(atPath: path, contents: data) else { throw ToolError("\(tool): cannot write \(path)") }
        }
        logger.info("downloaded \(attachment.filename) (\(data.count) bytes) of message \(messageID)", metadata: ["reader": "\(agentName)"])
        return try encode(DownloadResult(
            filename: attachment.filename, contentType: attachment.contentType, size: data.count, sha256: sha256Hex(data),
            path: path, base64: path == nil ? data.base64EncodedString() : nil
        ))
    }

    // MARK: list_channels

    func listChannels() async throws -> String {
        try await ready(redis)
        let catalog = try await redisCall("loading channel names") { () throws(RedisError) in
            try await ChannelCatalog.load(redis: redis, keys: keys, pinnedFile: config.channelsFile)
        }
        let channels = catalog.entries
            .map { ChannelInfo(id: $0.id, name: $0.name, type: $0.type, guildID: $0.guildID, parentID: $0.parentID) }
            .sorted { ($0.guildID ?? "", $0.name, $0.id) < ($1.guildID ?? "", $1.name, $1.id) }
        return try encode(ChannelList(channels: channels, pinned: catalog.pinned))
    }

    // MARK: Helpers

    /// A request id as the agent received it, checked to be one.
    private func openRequest(_ raw: String, tool: String) throws(ToolError) -> String {
        let requestID = raw.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        guard requestID.wholeMatch(of: #/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/#) != nil else {
            throw ToolError("\(tool): request_id must be the UUID in a message's request_id field (like 1b4e28ba-2fa1-41d2-883f-0016d3cca427), got '\(raw.prefix(80))'")
        }
        return requestID
    }

    /// The `buttons` argument as a reply record's field, checked as the Replier will check it.
    private func buttonsField(_ arguments: ToolArguments) throws(ToolError) -> String? {
        guard let labels = try arguments.strings("buttons") else { return nil }
        guard let field = try? JSON.encodeString(labels) else { throw ToolError("\(arguments.tool): buttons cannot be encoded") }
        do {
            _ = try AgentComponents.parse(buttons: field, components: nil)
        } catch {
            throw ToolError("\(arguments.tool): \(error)")
        }
        return field
    }

    /// How many Discord messages the Replier will post for `text`, refusing absurd lengths.
    private func partCount(_ text: String, prefix: String, tool: String) throws(ToolError) -> Int {
        let parts = ReplySplitter().split(prefix + text).count
        guard parts <= Self.maxParts else {
            throw ToolError("\(tool): message too long: \(text.count) characters would be \(parts) Discord messages; the limit is \(Self.maxParts) (about \(Self.maxParts * ReplySplitter.discordLimit) characters). Shorten it or send it in several calls")
        }
        return parts
    }

    /// Checks the connection before a call's real work: a connection that went stale (Redis
    /// restarted since the last call) is replaced once; a Redis that cannot be reached is a
    /// tool error.
    private func ready(_ client: RedisClient) async throws(ToolError) {
        do {
            try await client.run(PING())
        } catch where error.kind == .connection && !error.message.hasPrefix("cannot connect") {
            do { try await client.run(PING()) } catch { throw failure(error, doing: "connecting") }
        } catch {
            throw failure(error, doing: "connecting")
        }
        // Once more, in case Redis was down at start (one cheap SADD; a no-op when registered).
        if client === redis { await registerOutbox() }
    }

    @discardableResult
    private func redisCall<T>(_ doing: String, mayHaveRun: Bool = false, _ body: () async throws(RedisError) -> T) async throws(ToolError) -> T {
        do {
            return try await body()
        } catch {
            var failure = failure(error, doing: doing)
            if mayHaveRun && error.kind == .connection {
                failure.description += " (it may or may not have been queued: check before sending again)"
            }
            throw failure
        }
    }

    private func failure(_ error: RedisError, doing: String) -> ToolError {
        switch error.kind {
        case .connection:
            // RedisConnection already names the address; say it once.
            var reason = error.message
            if let range = reason.range(of: "cannot connect to \(config.busURL.description): ") { reason.removeSubrange(range) }
            return ToolError("Redis unreachable at \(config.busURL.description): \(reason)")
        case .configuration:
            return ToolError("Redis refused the connector at \(config.busURL.description) while \(doing): \(error.message)")
        case .server where error.message.hasPrefix("NOPERM"):
            return ToolError("Redis refused \(doing) at \(config.busURL.description): \(error.message) (this MCP server runs as agent '\(agentName)', whose Redis user may read only \(BusKeys.inbox(agentName)) and add only to \(outbox))")
        case .server:
            return ToolError("Redis refused \(doing) at \(config.busURL.description): \(error.message)")
        case .protocolViolation:
            return ToolError("unexpected answer from Redis while \(doing): \(error.message)")
        }
    }

    private func encode<T: Encodable>(_ value: T) throws -> String {
        try JSON.encodeString(value)
    }
}

// MARK: Results

struct HistoryMessage: Encodable {
    var id: String
    var authorID: String
    var authorName: String
    var bot: Bool
    var content: String
    var timestamp: String
    var attachments: [DiscordMessage.Attachment]
    var repliedMessageID: String?

    enum CodingKeys: String, CodingKey {
        case id, bot, content, timestamp, attachments
        case authorID = "author_id"
        case authorName = "author_name"
        case repliedMessageID = "replied_message_id"
    }
}

struct HistoryResult: Encodable {
    var channelID: String
    var messages: [HistoryMessage]
    var nextBefore: String?

    enum CodingKeys: String, CodingKey {
        case messages
        case channelID = "channel_id"
        case nextBefore = "next_before"
    }
}

struct DownloadResult: Encodable {
    var filename: String
    var contentType: String?
    var size: Int
    var sha256: String
    var path: String?
    var base64: String?

    enum CodingKeys: String, CodingKey {
        case filename, size, sha256, path, base64
        case contentType = "content_type"
    }
}

struct SendResult: Encodable {
    var status: String
    var entryID: String
    var channelID: String
    var channelName: String
    var parts: Int
    var note: String

    enum CodingKeys: String, CodingKey {
        case status, parts, note
        case entryID = "entry_id"
        case channelID = "channel_id"
        case channelName = "channel_name"
    }
}

struct ReplyResult: Encodable {
    var status: String
    var entryID: String
    var requestID: String
    var parts: Int
    var note: String

    enum CodingKeys: String, CodingKey {
        case status, parts, note
        case entryID = "entry_id"
        case requestID = "request_id"
    }
}

struct QueuedResult: Encodable {
    var status: String
    var entryID: String
    var note: String

    enum CodingKeys: String, CodingKey {
        case status, note
        case entryID = "entry_id"
    }
}

struct AskResult: Encodable {
    var status: String
    var choice: String?
    var index: Int?
    var userID: String?
    var userName: String?
    var messageID: String?
    var requestID: String?
    var note: String

    enum CodingKeys: String, CodingKey {
        case status, choice, index, note
        case userID = "user_id"
        case userName = "user_name"
        case messageID = "message_id"
        case requestID = "request_id"
    }
}

struct InboxMessage: Encodable {
    var id: String
    var fields: [String: String]
}

struct InboxResult: Encodable {
    var agent: String
    var stream: String
    var count: Int
    var messages: [InboxMessage]
}

struct ChannelInfo: Encodable {
    var id: String
    var name: String
    var type: Int
    var guildID: String?
    var parentID: String?

    /// Discord's channel types, in words.
    var kind: String {
        switch type {
        case 0: return "text"
        case 1: return "dm"
        case 2: return "voice"
        case 4: return "category"
        case 5: return "announcement"
        case 10: return "announcement thread"
        case 11: return "public thread"
        case 12: return "private thread"
        case 13: return "stage"
        case 15: return "forum"
        case 16: return "media"
        default: return "other"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, name, type, kind
        case guildID = "guild_id"
        case parentID = "parent_id"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(type, forKey: .type)
        try container.encode(kind, forKey: .kind)
        // Always present, null when absent, so every entry has the same keys.
        try container.encode(guildID, forKey: .guildID)
        try container.encode(parentID, forKey: .parentID)
    }
}

struct ChannelList: Encodable {
    var channels: [ChannelInfo]
    var pinned: [String: String]
}
