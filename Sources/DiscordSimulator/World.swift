import Foundation
import HTTPTypes
import Logging

/// A bot post as the control API reports it: the message's own fields plus `pinged`.
struct BotPost: Encodable, Sendable {
    let message: Message
    let pinged: Pinged

    private enum CodingKeys: String, CodingKey {
        case pinged
    }

    func encode(to encoder: any Encoder) throws {
        try message.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(pinged, forKey: .pinged)
    }
}

struct SimulatorStats: Encodable, Sendable {
    var connections = 0
    var identifies = 0
    var resumes = 0
    /// Every message-create request that passed authentication, including rejected ones.
    var messageCreates = 0
    /// 429 responses, both real and injected through the faults queue.
    var rateLimited = 0
    var sessions = 0
    /// Connections that carry a session (identified or resumed) right now, and the most there
    /// ever were at once: a connector must never hold two sessions for one shard.
    var activeSessions = 0
    var maxActiveSessions = 0
}

struct MessageCreateOutcome: Sendable {
    var result: Result<Message, DiscordAPIError>
    /// `X-RateLimit-*` headers, filled whenever the request reached the rate limiter.
    var rateLimitHeaders = HTTPFields()
}

enum IdentifyOutcome: Sendable {
    case ready
    case alreadyAuthenticated
}

enum ResumeOutcome: Sendable {
    case resumed(replayed: Int)
    case unknownSession
    case alreadyAuthenticated
}

/// All simulator state: the fixed guild, channel histories, bot posts, counters, injected
/// faults and gateway sessions.
///
/// Gateway sessions live here rather than in the gateway code so that storing a message and
/// dispatching its MESSAGE_CREATE happen in one actor turn: every session sees events in the
/// same order the REST and control APIs produced them.
actor World {
    /// How long `enforce_nonce` remembers a nonce; Discord documents "a few minutes".
    private static let nonceWindow: TimeInterval = 5 * 60

    private let logger: Logger
    private var port: Int
    private var channels: [Snowflake: Channel]
    /// Per channel, oldest first.
    private var history: [Snowflake: [Message]] = [:]
    private var posts: [BotPost] = []
    private var stats = SimulatorStats()
    /// Statuses to answer the next message creates with, before any real work.
    private var messageCreateFaults: [Int] = []
    private var rateLimiter: RateLimiter?
    private var snowflakes = SnowflakeGenerator()
    private var gateway = GatewaySessions()

    init(configuration: SimulatorConfiguration, logger: Logger) {
        self.logger = logger
        self.port = configuration.port
        self.channels = Dictionary(uniqueKeysWithValues: Fixtures.channels.map { ($0.id, $0) })
        self.rateLimiter = configuration.rateLimit.map { RateLimiter(limit: $0.limit, window: $0.window) }
    }

    // MARK: - Server

    /// Called once the listener is bound, which is when the real port is known (for `--port 0`).
    func setPort(_ port: Int) {
        self.port = port
    }

    var gatewayUrl: String { "ws://127.0.0.1:\(port)" }

    // MARK: - Lookups

    func user(_ id: Snowflake) -> User? {
        Fixtures.users.first { $0.id == id }
    }

    func channel(_ id: Snowflake) -> Channel? {
        channels[id]
    }

    func guild(_ id: Snowflake) -> Guild? {
        id == Fixtures.guildId ? Fixtures.guild : nil
    }

    /// The guild's channels without threads, in display order, as `GET /guilds/{id}/channels` returns them.
    func guildChannels(_ guildId: Snowflake) -> [Channel]? {
        guard guildId == Fixtures.guildId else { return nil }
        return channels.values
            .filter { $0.guildId == guildId && !$0.isThread }
            .sorted { ($0.position ?? 0, SnowflakeGenerator.numeric($0.id)) < ($1.position ?? 0, SnowflakeGenerator.numeric($1.id)) }
    }

    func message(_ id: Snowflake, in channelId: Snowflake) -> Message? {
        history[channelId]?.first { $0.id == id }
    }

    /// Discord's paging: newest first; `after` returns the messages right after the anchor.
    /// Returns `nil` for an unknown channel.
    func messages(in channelId: Snowflake, after: Snowflake?, before: Snowflake?, limit: Int) -> [Message]? {
        guard channels[channelId] != nil else { return nil }
        var page = history[channelId] ?? []
        if let before = before.map(SnowflakeGenerator.numeric) {
            page.removeAll { SnowflakeGenerator.numeric($0.id) >= before }
        }
        if let after = after.map(SnowflakeGenerator.numeric) {
            page.removeAll { SnowflakeGenerator.numeric($0.id) <= after }
            page = Array(page.prefix(limit))
        } else {
            page = Array(page.suffix(limit))
        }
        return page.reversed()
    }

    // MARK: - Bot actions (REST)

    /// `POST /channels/{id}/messages`. Checks run in this order: queued fault, unknown channel,
    /// rate limit, body validation, so that invalid bodies still spend a rate-limit slot.
    /// - Parameter parsed: the decoded body, or the error decoding it produced.
    func createMessage(
        in channelId: Snowflake,
        request parsed: Result<CreateMessageRequest, DiscordAPIError>,
        now: Date = Date()
    ) -> MessageCreateOutcome {
        stats.messageCreates += 1
        if !messageCreateFaults.isEmpty {
            return injectedFault(messageCreateFaults.removeFirst(), channelId: channelId, now: now)
        }
        guard let channel = channels[channelId] else {
            return MessageCreateOutcome(result: .failure(.unknownChannel))
        }
        var headers = HTTPFields()
        switch rateLimiter?.acquire(channelId: channelId, now: now) {
        case .allowed(let snapshot):
            headers = snapshot.headers
        case .limited(let snapshot, let retryAfter):
            stats.rateLimited += 1
            return MessageCreateOutcome(result: .failure(.rateLimited(retryAfter: retryAfter)), rateLimitHeaders: snapshot.headers)
        case nil:
            break
        }
        do throws(DiscordAPIError) {
            let message = try postAsBot(try parsed.get(), in: channel, now: now)
            return MessageCreateOutcome(result: .success(message), rateLimitHeaders: headers)
        } catch {
            return MessageCreateOutcome(result: .failure(error), rateLimitHeaders: headers)
        }
    }

    private func injectedFault(_ status: Int, channelId: Snowflake, now: Date) -> MessageCreateOutcome {
        let headers = rateLimiter?.peek(channelId: channelId, now: now).headers ?? HTTPFields()
        guard status == 429 else {
            return MessageCreateOutcome(result: .failure(.plain(code: status)), rateLimitHeaders: headers)
        }
        stats.rateLimited += 1
        return MessageCreateOutcome(result: .failure(.rateLimited(retryAfter: 0.2)), rateLimitHeaders: headers)
    }

    private func postAsBot(_ request: CreateMessageRequest, in channel: Channel, now: Date) throws(DiscordAPIError) -> Message {
        let content = request.content ?? ""
        let embeds = request.embeds ?? []
        guard !content.isEmpty || !embeds.isEmpty else {
            throw .emptyMessage
        }
        // Discord counts code points, not grapheme clusters.
        guard content.unicodeScalars.count <= 2000 else {
            throw .invalidFormBody(.object(["content": .formError(code: "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")]))
        }
        if let errors = request.allowedMentions?.validationErrors() {
            throw .invalidFormBody(.object(["allowed_mentions": errors]))
        }
        if request.enforceNonce == true, let nonce = request.nonce,
            let earlier = recentBotPost(nonce: nonce, in: channel.id, now: now)
        {
            return earlier
        }
        let referenced = try resolveReference(request.messageReference, in: channel)

        let pinged = Pinged(content: content, allowedMentions: request.allowedMentions, repliedAuthorId: referenced?.author.id)
        let id = snowflakes.next(at: now)
        var message = Message(id: id, channelId: channel.id, author: Fixtures.botUser, content: content, timestamp: SnowflakeGenerator.timestamp(of: id))
        message.tts = request.tts ?? false
        message.embeds = embeds
        message.nonce = request.nonce
        message.flags = request.flags ?? 0
        message.mentionEveryone = pinged.everyone
        message.mentionRoles = pinged.roles
        // `pinged` keeps every id so tests see any notification attempt; `mentions` only lists
        // users that exist, since Discord resolves mentions to user objects.
        message.mentions = pinged.users.compactMap(user)
        if let referenced {
            makeReply(&message, to: referenced, in: channel)
        }
        store(message)
        posts.append(BotPost(message: message, pinged: pinged))
        // Real Discord echoes the bot's own messages over the gateway; clients must drop them.
        broadcast("MESSAGE_CREATE", gatewayForm(of: message))
        return message
    }

    private func recentBotPost(nonce: Nonce, in channelId: Snowflake, now: Date) -> Message? {
        posts.last { post in
            post.message.channelId == channelId && post.message.nonce == nonce
                && now.timeIntervalSince(SnowflakeGenerator.date(of: post.message.id)) < Self.nonceWindow
        }?.message
    }

    /// The message a reply points at. A missing target is an error unless the client set
    /// `fail_if_not_exists: false`, in which case Discord sends a plain message.
    private func resolveReference(_ reference: MessageReference?, in channel: Channel) throws(DiscordAPIError) -> Message? {
        guard let reference else { return nil }
        guard let messageId = reference.messageId else {
            throw .invalidFormBody(.object(["message_reference": .object([
                "message_id": .formError(code: "BASE_TYPE_REQUIRED", "This field is required"),
            ])]))
        }
        if let target = message(messageId, in: reference.channelId ?? channel.id) {
            return target
        }
        if reference.failIfNotExists == false {
            return nil
        }
        throw .invalidFormBody(.object(["message_reference": .formError(code: "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message")]))
    }

    /// `POST /guilds/{id}/channels`: a text channel or a category. Text channel names are
    /// lowercased and dashed, as Discord does.
    func createChannel(in guildId: Snowflake, _ request: CreateChannelRequest, now: Date = Date()) throws(DiscordAPIError) -> Channel {
        guard guildId == Fixtures.guildId else { throw .unknownGuild }
        let kind = Channel.Kind(rawValue: request.type ?? Channel.Kind.guildText.rawValue)
        guard let kind, kind == .guildText || kind == .guildCategory else {
            throw .invalidFormBody(.object(["type": .formError(code: "BASE_TYPE_CHOICES", "Value must be one of {0, 4}.")]))
        }
        guard let rawName = request.name, (1...100).contains(rawName.count) else {
            throw .invalidFormBody(.object(["name": .formError(code: "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")]))
        }
        if let parentId = request.parentId {
            guard kind == .guildText, channels[parentId]?.type == .guildCategory else {
                throw .invalidFormBody(.object(["parent_id": .formError(code: "CHANNEL_PARENT_INVALID", "Not a category")]))
            }
        }
        let id = snowflakes.next(at: now)
        let position = (guildChannels(guildId)?.compactMap(\.position).max() ?? -1) + 1
        let channel: Channel
        if kind == .guildText {
            var text = Channel.guildText(id: id, name: rawName.lowercased().replacingOccurrences(of: " ", with: "-"), position: position, parentId: request.parentId)
            text.topic = request.topic
            channel = text
        } else {
            channel = Channel(id: id, type: .guildCategory, guildId: guildId, name: rawName, position: position)
        }
        channels[channel.id] = channel
        broadcast("CHANNEL_CREATE", channel)
        return channel
    }

    // MARK: - Control API

    /// A message from someone other than the bot, as if typed in the Discord client.
    /// Returns the gateway form (with `guild_id` and `member`) that was dispatched.
    func injectMessage(_ request: InjectMessageRequest, now: Date = Date()) throws(DiscordAPIError) -> Message {
        guard let channelId = request.channelId, let channel = channels[channelId] else {
            throw .unknownChannel
        }
        let author: User
        if request.authorBot == true {
            author = Fixtures.otherBot
        } else if let authorId = request.authorId {
            guard let known = user(authorId) else {
                throw DiscordAPIError(status: .badRequest, body: .init(message: "Unknown author_id \(authorId)", code: 10013))
            }
            author = known
        } else {
            author = Fixtures.human
        }
        let content = (request.mentionBot == true ? "<@\(Fixtures.botUser.id)> " : "") + (request.content ?? "")
        guard !content.isEmpty else { throw .emptyMessage }
        var referenced: Message?
        if let replyTo = request.replyTo {
            guard let target = message(replyTo, in: channelId) else { throw .unknownMessage }
            referenced = target
        }

        let mentioned = ContentMentions(parsing: content)
        var mentionedUserIds = mentioned.users
        // Humans' replies ping the replied-to author by default.
        if let repliedAuthor = referenced?.author.id, !mentionedUserIds.contains(repliedAuthor) {
            mentionedUserIds.append(repliedAuthor)
        }
        let id = snowflakes.next(at: now)
        var message = Message(id: id, channelId: channelId, author: author, content: content, timestamp: SnowflakeGenerator.timestamp(of: id))
        message.mentions = mentionedUserIds.compactMap(user)
        message.mentionRoles = mentioned.roles
        message.mentionEveryone = mentioned.everyone
        if let referenced {
            makeReply(&message, to: referenced, in: channel)
        }
        store(message)
        let dispatched = gatewayForm(of: message)
        broadcast("MESSAGE_CREATE", dispatched)
        return dispatched
    }

    /// Bot posts, oldest first, optionally only one channel's and only those after an id.
    func botPosts(in channelId: Snowflake?, after: Snowflake?) -> [BotPost] {
        let after = after.map(SnowflakeGenerator.numeric) ?? 0
        return posts.filter { post in
            (channelId == nil || post.message.channelId == channelId) && SnowflakeGenerator.numeric(post.message.id) > after
        }
    }

    /// Appends to the message-create fault queue; returns the whole pending queue.
    func queueMessageCreateFaults(_ statuses: [Int]) -> [Int] {
        messageCreateFaults.append(contentsOf: statuses)
        return messageCreateFaults
    }

    /// Removes a channel so that later calls on it get 404 Unknown Channel.
    func deleteChannel(_ id: Snowflake) -> Channel? {
        guard let channel = channels.removeValue(forKey: id) else { return nil }
        history[id] = nil
        broadcast("CHANNEL_DELETE", channel)
        return channel
    }

    func statistics() -> SimulatorStats {
        var snapshot = stats
        snapshot.connections = gateway.connectionCount
        snapshot.sessions = gateway.sessionCount
        snapshot.activeSessions = gateway.activeSessionCount
        return snapshot
    }

    /// Clears what tests accumulate (posts, counters, faults, rate-limit windows) but keeps
    /// channels, message history and gateway sessions.
    func reset() {
        posts.removeAll()
        stats = SimulatorStats()
        messageCreateFaults.removeAll()
        rateLimiter?.reset()
    }

    func sendReconnect() -> Int {
        gateway.sendToAll(.text(GatewayPayload.reconnect))
    }

    func invalidateSessions(resumable: Bool) -> Int {
        gateway.invalidateAll(resumable: resumable)
    }

    func closeConnections(code: UInt16) -> Int {
        gateway.sendToAll(.close(code: code, reason: "Closed by the simulator control API"))
    }

    func expireSessions() -> Int {
        gateway.expireAll()
    }

    // MARK: - Gateway

    func openConnection(outbox: GatewaySessions.Outbox) -> GatewaySessions.ConnectionId {
        gateway.open(outbox: outbox)
    }

    func closeConnection(_ id: GatewaySessions.ConnectionId) {
        gateway.close(id)
    }

    func isIdentified(_ connection: GatewaySessions.ConnectionId) -> Bool {
        gateway.sessionId(of: connection) != nil
    }

    /// Starts a session and sends READY followed by the guild's GUILD_CREATE.
    func identify(connection: GatewaySessions.ConnectionId, shard: [Int]?) -> IdentifyOutcome {
        guard gateway.sessionId(of: connection) == nil else { return .alreadyAuthenticated }
        stats.identifies += 1
        let sessionId = gateway.startSession(on: connection)
        stats.maxActiveSessions = max(stats.maxActiveSessions, gateway.activeSessionCount)
        let ready = ReadyEvent(
            user: Fixtures.botUser,
            guilds: [.init(id: Fixtures.guildId)],
            sessionId: sessionId,
            resumeGatewayUrl: gatewayUrl,
            shard: shard,
            application: .init(id: Fixtures.botUser.id)
        )
        // READY is never replayed: a resumed session already has it.
        dispatch("READY", ready, to: sessionId, replayable: false)
        dispatch("GUILD_CREATE", guildCreate(), to: sessionId)
        return .ready
    }

    func resume(connection: GatewaySessions.ConnectionId, sessionId: String, after sequence: Int) -> ResumeOutcome {
        guard gateway.sessionId(of: connection) == nil else { return .alreadyAuthenticated }
        guard let replayed = gateway.resume(sessionId, on: connection, after: sequence) else {
            return .unknownSession
        }
        stats.resumes += 1
        stats.maxActiveSessions = max(stats.maxActiveSessions, gateway.activeSessionCount)
        gateway.dispatch("RESUMED", data: "null", to: sessionId, replayable: false)
        return .resumed(replayed: replayed)
    }

    // MARK: - Helpers

    private func store(_ message: Message) {
        history[message.channelId, default: []].append(message)
        channels[message.channelId]?.lastMessageId = message.id
    }

    private func makeReply(_ message: inout Message, to referenced: Message, in channel: Channel) {
        message.type = .reply
        message.messageReference = MessageReference(messageId: referenced.id, channelId: referenced.channelId, guildId: channel.guildId)
        message.referencedMessage = Indirect(referenced.asReferenced)
    }

    /// Gateway dispatches of guild messages carry `guild_id` and the author's `member`.
    private func gatewayForm(of message: Message) -> Message {
        var form = message
        if let guildId = channels[message.channelId]?.guildId {
            form.guildId = guildId
            form.member = Fixtures.member(for: message.author)
        }
        return form
    }

    private func guildCreate() -> Guild {
        var guild = Fixtures.guild
        let all = channels.values.filter { $0.guildId == Fixtures.guildId }
        guild.joinedAt = Fixtures.epochTimestamp
        guild.large = false
        guild.unavailable = false
        guild.memberCount = Fixtures.users.count
        guild.members = []
        guild.channels = guildChannels(Fixtures.guildId)
        guild.threads = all.filter(\.isThread).sorted { $0.id < $1.id }
        guild.voiceStates = []
        guild.presences = []
        guild.stageInstances = []
        guild.guildScheduledEvents = []
        return guild
    }

    private func broadcast(_ event: String, _ payload: some Encodable) {
        do {
            gateway.broadcast(event, data: try JSONCoding.string(payload))
        } catch {
            logger.error("Could not encode \(event) dispatch: \(error)")
        }
    }

    private func dispatch(_ event: String, _ payload: some Encodable, to sessionId: String, replayable: Bool = true) {
        do {
            gateway.dispatch(event, data: try JSONCoding.string(payload), to: sessionId, replayable: replayable)
        } catch {
            logger.error("Could not encode \(event) dispatch: \(error)")
        }
    }
}

/// READY's `d`; the client learns its user, session and where to resume from it.
private struct ReadyEvent: Encodable {
    struct UnavailableGuild: Encodable {
        let id: Snowflake
        var unavailable = true
    }

    struct PartialApplication: Encodable {
        let id: Snowflake
        var flags = 0
    }

    var v = 10
    let user: User
    let guilds: [UnavailableGuild]
    let sessionId: String
    let resumeGatewayUrl: String
    var sessionType = "normal"
    let shard: [Int]?
    let application: PartialApplication
    var privateChannels: [JSONValue] = []
    var relationships: [JSONValue] = []
    var presences: [JSONValue] = []
    var guildJoinRequests: [JSONValue] = []
    var geoOrderedRtcRegions: [String] = []
}
