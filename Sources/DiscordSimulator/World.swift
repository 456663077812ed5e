import Foundation
import HTTPTypes
import Logging

/// A bot post as the control API reports it: the message's own fields plus `pinged` and
/// `received_at_us`, when its create request arrived, and what interactions added: `kind`
/// (`message` for channel posts, `original` for an interaction's original response,
/// `followup` for follow-ups), `interaction_id`, and the edits made since (`edited`, `edits`).
struct BotPost: Encodable, Sendable {
    enum Kind: String, Encodable, Sendable {
        case message, original, followup
        /// Executed through a channel webhook (`POST /webhooks/{id}/{token}`).
        case webhook
    }

    struct Edit: Encodable, Sendable {
        let content: String
        let flags: Int
        let atUs: Int64
    }

    var message: Message
    var pinged: Pinged
    let receivedAtUs: Int64
    var kind: Kind = .message
    var interactionId: Snowflake?
    var edits: [Edit] = []
    /// Set by `DELETE /channels/{id}/messages/{id}`: the post stays listed, marked deleted.
    var deletedAtUs: Int64?

    private enum CodingKeys: String, CodingKey {
        case pinged
        case receivedAtUs
        case kind
        case interactionId
        case edited
        case edits
        case deleted
        case deletedAtUs
        case authorName
    }

    func encode(to encoder: any Encoder) throws {
        try message.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(pinged, forKey: .pinged)
        try container.encode(receivedAtUs, forKey: .receivedAtUs)
        try container.encode(kind, forKey: .kind)
        try container.encodeIfPresent(interactionId, forKey: .interactionId)
        try container.encode(edits.count, forKey: .edited)
        try container.encode(edits, forKey: .edits)
        try container.encode(deletedAtUs != nil, forKey: .deleted)
        try container.encodeIfPresent(deletedAtUs, forKey: .deletedAtUs)
        try container.encode(message.author.username, forKey: .authorName)
    }
}

/// An injected message as `POST /_sim/messages` answers it: the dispatched gateway form plus
/// `dispatched_at_us`, when its MESSAGE_CREATE was handed to the gateway connections.
struct InjectedMessage: Encodable, Sendable {
    let message: Message
    let dispatchedAtUs: Int64

    private enum CodingKeys: String, CodingKey {
        case dispatchedAtUs
    }

    func encode(to encoder: any Encoder) throws {
        try message.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(dispatchedAtUs, forKey: .dispatchedAtUs)
    }
}

extension Date {
    /// Wall-clock microseconds since 1970: the unit of the timing fields benchmarks compare
    /// across processes.
    var microsecondsSince1970: Int64 {
        Int64((timeIntervalSince1970 * 1_000_000).rounded())
    }
}

/// Which bot posts `GET /_sim/posts` lists.
struct PostQuery: Sendable {
    var channelId: Snowflake?
    /// Only posts with a larger id.
    var after: Snowflake?
    /// Only posts at this position or later, counting every post in creation order from 0.
    var fromIndex = 0
}

struct SimulatorStats: Encodable, Sendable {
    var connections = 0
    var identifies = 0
    var resumes = 0
    /// Every message-create request that reached the route, including rejected ones (but not
    /// those the global limit stopped first).
    var messageCreates = 0
    /// 429 responses: per-route, global and injected through the faults queue.
    var rateLimited = 0
    /// The 429s of `--global-limit`.
    var globalRateLimited = 0
    var sessions = 0
    /// Connections that carry a session (identified or resumed) right now, and the most there
    /// ever were at once.
    var activeSessions = 0
    var maxActiveSessions = 0
    /// Active sessions per shard id (keys are strings, as JSON needs), and the most any one
    /// shard ever had at once: a connector must never hold two sessions for one shard.
    var sessionsByShard: [String: Int] = [:]
    var maxActiveSessionsPerShard = 0
    /// IDENTIFYs Discord would have refused under `max_concurrency`; the simulator lets them
    /// through so that a test can assert this stays 0.
    var identifyViolations = 0
    /// Interactions created through `POST /_sim/interactions`.
    var interactionsCreated = 0
    /// Callback requests that named a known interaction, accepted or not, and the accepted ones.
    var interactionCallbacks = 0
    var interactionCallbacksAccepted = 0
    /// Requests to the interaction webhook routes (follow-ups, `@original`), any outcome.
    var interactionWebhookRequests = 0
    /// `PUT` bulk overwrites of application commands, global and guild, that were accepted,
    /// and all that reached the route.
    var commandPuts = 0
    var commandPutRequests = 0
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

    private struct NonceKey: Hashable {
        let channelId: Snowflake
        let nonce: Nonce
    }

    let logger: Logger
    var port: Int
    /// In id order, which is the order READY lists them in.
    let guilds: [Guild]
    var channels: [Snowflake: Channel]
    /// Per channel, oldest first; since snowflakes only grow, that is also id order.
    var history: [Snowflake: [Message]] = [:]
    var posts: [BotPost] = []
    /// The latest post per channel and nonce, as an index into `posts`, so `enforce_nonce`
    /// needs no scan of every post.
    private var postIndexByNonce: [NonceKey: Int] = [:]
    var stats = SimulatorStats()
    /// Statuses to answer the next message creates with, before any real work.
    private var messageCreateFaults: [InjectedFault] = []
    /// Typing calls and reactions the bot made, for tests of the connector's feedback.
    var feedback = Feedback()
    var rateLimiter: RateLimiter?
    private var globalLimiter: RateLimiter?
    private var identifyLimiter: IdentifyLimiter
    /// Listed in stats even while they have no session.
    private let shardCount: Int
    var snowflakes = SnowflakeGenerator()
    private var gateway = GatewaySessions()
    /// Uploaded files by attachment id, served at their `url` like Discord's CDN. Kept as long
    /// as the message history is: `reset()` keeps them, deleting the channel drops them.
    var uploads: [Snowflake: StoredUpload] = [:]
    /// Message deletes per channel, a bucket of their own with `--rate-limit`'s numbers.
    var deleteLimiter: RateLimiter?
    /// Channel webhook executes per webhook id, outside the bot's global limit.
    var webhookLimiter: RateLimiter?
    /// Channel webhooks by id (World+Webhooks.swift).
    var webhooks: [Snowflake: ChannelWebhook] = [:]
    /// Threads started from messages, in creation order, for `GET /_sim/threads`.
    var threadRecords: [ThreadRecord] = []
    /// Interactions created through `/_sim/interactions`, their callbacks and webhook messages,
    /// and the registered application commands (World+Interactions.swift).
    var interactions: InteractionState
    let maxUploadBytes: Int

    init(configuration: SimulatorConfiguration, signer: InteractionSigner, logger: Logger) {
        self.logger = logger
        self.port = configuration.port
        let extras = configuration.guildCount > 1 ? Array(1..<configuration.guildCount) : []
        self.guilds = [Fixtures.guild] + extras.map(Fixtures.extraGuild)
        let allChannels = Fixtures.channels + extras.map(Fixtures.extraGeneralChannel)
        self.channels = Dictionary(uniqueKeysWithValues: allChannels.map { ($0.id, $0) })
        self.rateLimiter = configuration.rateLimit.map { RateLimiter(limit: $0.limit, window: $0.window) }
        self.deleteLimiter = configuration.rateLimit.map { RateLimiter(limit: $0.limit, window: $0.window, bucket: RateLimiter.messageDeleteBucket) }
        self.webhookLimiter = configuration.rateLimit.map { RateLimiter(limit: $0.limit, window: $0.window, bucket: RateLimiter.webhookExecuteBucket) }
        self.globalLimiter = configuration.globalLimit.map { RateLimiter(limit: $0, window: 1) }
        self.identifyLimiter = IdentifyLimiter(maxConcurrency: configuration.maxConcurrency)
        self.shardCount = configuration.shardCount
        self.interactions = InteractionState(
            tokenLifetime: configuration.interactionTokenTTL, signer: signer, endpointURL: configuration.interactionsURL
        )
        self.maxUploadBytes = configuration.maxUploadBytes
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
        guilds.first { $0.id == id }
    }

    /// The guild's channels without threads, in display order, as `GET /guilds/{id}/channels` returns them.
    func guildChannels(_ guildId: Snowflake) -> [Channel]? {
        guard guild(guildId) != nil else { return nil }
        return Self.inDisplayOrder(channels.values.filter { $0.guildId == guildId && !$0.isThread })
    }

    private static func inDisplayOrder(_ channels: [Channel]) -> [Channel] {
        channels.sorted { ($0.position ?? 0, SnowflakeGenerator.numeric($0.id)) < ($1.position ?? 0, SnowflakeGenerator.numeric($1.id)) }
    }

    func message(_ id: Snowflake, in channelId: Snowflake) -> Message? {
        guard let messages = history[channelId] else { return nil }
        let numericId = SnowflakeGenerator.numeric(id)
        let index = Self.firstIndex(in: messages) { $0 >= numericId }
        return index < messages.endIndex && messages[index].id == id ? messages[index] : nil
    }

    /// Discord's paging: newest first; `after` returns the messages right after the anchor.
    /// Returns `nil` for an unknown channel.
    func messages(in channelId: Snowflake, after: Snowflake?, before: Snowflake?, limit: Int) -> [Message]? {
        guard channels[channelId] != nil else { return nil }
        let all = history[channelId] ?? []
        var range = all.indices
        if let before = before.map(SnowflakeGenerator.numeric) {
            range = range.lowerBound..<max(range.lowerBound, Self.firstIndex(in: all) { $0 >= before })
        }
        if let after = after.map(SnowflakeGenerator.numeric) {
            let start = min(range.upperBound, Self.firstIndex(in: all) { $0 > after })
            range = start..<min(range.upperBound, start + limit)
        } else {
            range = max(range.lowerBound, range.upperBound - limit)..<range.upperBound
        }
        return all[range].reversed()
    }

    /// Binary search in a channel history, which is in id order: the first index whose numeric
    /// id satisfies `isAtOrPast`, which must be false and then true along the history.
    static func firstIndex(in messages: [Message], where isAtOrPast: (UInt64) -> Bool) -> Int {
        var low = messages.startIndex
        var high = messages.endIndex
        while low < high {
            let middle = (low + high) / 2
            if isAtOrPast(SnowflakeGenerator.numeric(messages[middle].id)) {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return low
    }

    // MARK: - Bot actions (REST)

    /// `POST /channels/{id}/messages`, JSON or multipart alike. Checks run in this order: queued
    /// fault, unknown channel, rate limit, body validation, so that invalid bodies (an oversized
    /// upload too) still spend a rate-limit slot.
    /// - Parameters:
    ///   - parsed: the decoded body, or the error decoding it produced.
    ///   - receivedAt: when the request arrived, recorded on the post for benchmarks.
    func createMessage(
        in channelId: Snowflake,
        request parsed: Result<MessageUpload, DiscordAPIError>,
        receivedAt: Date,
        now: Date = Date()
    ) -> MessageCreateOutcome {
        stats.messageCreates += 1
        if !messageCreateFaults.isEmpty {
            let fault = messageCreateFaults.removeFirst()
            var outcome = injectedFault(fault.status, channelId: channelId, now: now)
            if fault.html, case .failure(let error) = outcome.result { outcome.result = .failure(error.asHTML()) }
            return outcome
        }
        guard let channel = channels[channelId] else {
            return MessageCreateOutcome(result: .failure(.unknownChannel))
        }
        var headers = HTTPFields()
        switch rateLimiter?.acquire(key: channelId, now: now) {
        case .allowed(let snapshot):
            headers = snapshot.headers
        case .limited(let snapshot, let retryAfter):
            stats.rateLimited += 1
            return MessageCreateOutcome(result: .failure(.rateLimited(retryAfter: retryAfter)), rateLimitHeaders: snapshot.headers)
        case nil:
            break
        }
        do throws(DiscordAPIError) {
            let message = try postAsBot(try parsed.get(), in: channel, receivedAt: receivedAt, now: now)
            return MessageCreateOutcome(result: .success(message), rateLimitHeaders: headers)
        } catch {
            return MessageCreateOutcome(result: .failure(error), rateLimitHeaders: headers)
        }
    }

    private func injectedFault(_ status: Int, channelId: Snowflake, now: Date) -> MessageCreateOutcome {
        let headers = rateLimiter?.peek(key: channelId, now: now).headers ?? HTTPFields()
        guard status == 429 else {
            return MessageCreateOutcome(result: .failure(.plain(code: status)), rateLimitHeaders: headers)
        }
        stats.rateLimited += 1
        return MessageCreateOutcome(result: .failure(.rateLimited(retryAfter: 0.2)), rateLimitHeaders: headers)
    }

    /// `--global-limit`: spends one request of the bot's per-second budget. Returns the seconds
    /// to wait when the budget is spent, `nil` when the request may go ahead.
    func acquireGlobalRequest(now: Date = Date()) -> TimeInterval? {
        guard case .limited(_, let retryAfter)? = globalLimiter?.acquire(key: "global", now: now) else { return nil }
        stats.rateLimited += 1
        stats.globalRateLimited += 1
        return retryAfter
    }

    private func postAsBot(
        _ upload: MessageUpload,
        in channel: Channel,
        receivedAt: Date,
        now: Date
    ) throws(DiscordAPIError) -> Message {
        let request = upload.request
        let content = request.content ?? ""
        let embeds = request.embeds ?? []
        let components = request.components ?? []
        guard !content.isEmpty || !embeds.isEmpty || !components.isEmpty || !upload.files.isEmpty else {
            throw .emptyMessage
        }
        var errors: [String: JSONValue] = [:]
        // Discord counts code points, not grapheme clusters.
        if content.unicodeScalars.count > 2000 {
            errors["content"] = .formError(code: "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        }
        if let problems = request.allowedMentions?.validationErrors() { errors["allowed_mentions"] = problems }
        if let problems = MessageComponents.errors(components) { errors["components"] = problems }
        if !errors.isEmpty { throw .invalidFormBody(.object(errors)) }
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
        message.components = components
        message.nonce = request.nonce
        message.flags = request.flags ?? 0
        message.mentionEveryone = pinged.everyone
        message.mentionRoles = pinged.roles
        // `pinged` keeps every id so tests see any notification attempt; `mentions` only lists
        // users that exist, since Discord resolves mentions to user objects.
        message.mentions = pinged.users.compactMap(user)
        message.attachments = upload.files.map { store($0, in: channel.id, now: now) }
        if let referenced {
            makeReply(&message, to: referenced, in: channel)
        }
        store(message)
        if let nonce = message.nonce {
            postIndexByNonce[NonceKey(channelId: channel.id, nonce: nonce)] = posts.endIndex
        }
        posts.append(BotPost(message: message, pinged: pinged, receivedAtUs: receivedAt.microsecondsSince1970))
        // Real Discord echoes the bot's own messages over the gateway; clients must drop them.
        broadcast("MESSAGE_CREATE", gatewayForm(of: message), guildId: channel.guildId)
        return message
    }

    /// Keeps an uploaded file's bytes and describes it as Discord would.
    func store(_ file: UploadedFile, in channelId: Snowflake, now: Date) -> Attachment {
        let id = snowflakes.next(at: now)
        let url = "http://127.0.0.1:\(port)/attachments/\(channelId)/\(id)/\(Self.pathSegment(file.filename))"
        let attachment = Attachment(
            id: id, filename: file.filename, description: file.description, contentType: file.contentType,
            size: file.bytes.count, url: url, proxyUrl: url
        )
        uploads[id] = StoredUpload(channelId: channelId, attachment: attachment, bytes: file.bytes)
        return attachment
    }

    /// A filename as one URL path segment: everything but unreserved characters percent-encoded.
    private static func pathSegment(_ filename: String) -> String {
        let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
        return filename.addingPercentEncoding(withAllowedCharacters: unreserved) ?? filename
    }

    /// An uploaded file, for `GET /attachments/{channel}/{id}/{filename}`.
    func upload(_ attachmentId: Snowflake, in channelId: Snowflake) -> StoredUpload? {
        guard let upload = uploads[attachmentId], upload.channelId == channelId else { return nil }
        return upload
    }

    private func recentBotPost(nonce: Nonce, in channelId: Snowflake, now: Date) -> Message? {
        guard let index = postIndexByNonce[NonceKey(channelId: channelId, nonce: nonce)] else { return nil }
        let message = posts[index].message
        return now.timeIntervalSince(SnowflakeGenerator.date(of: message.id)) < Self.nonceWindow ? message : nil
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
        guard guild(guildId) != nil else { throw .unknownGuild }
        let kind = Channel.Kind(rawValue: request.type ?? Channel.Kind.guildText.rawValue)
        guard let kind, kind == .guildText || kind == .guildCategory else {
            throw .invalidFormBody(.object(["type": .formError(code: "BASE_TYPE_CHOICES", "Value must be one of {0, 4}.")]))
        }
        guard let rawName = request.name, (1...100).contains(rawName.count) else {
            throw .invalidFormBody(.object(["name": .formError(code: "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")]))
        }
        if let parentId = request.parentId {
            guard kind == .guildText, let parent = channels[parentId], parent.type == .guildCategory, parent.guildId == guildId else {
                throw .invalidFormBody(.object(["parent_id": .formError(code: "CHANNEL_PARENT_INVALID", "Not a category")]))
            }
        }
        let id = snowflakes.next(at: now)
        let position = (guildChannels(guildId)?.compactMap(\.position).max() ?? -1) + 1
        let channel: Channel
        if kind == .guildText {
            let name = rawName.lowercased().replacingOccurrences(of: " ", with: "-")
            var text = Channel.guildText(id: id, name: name, position: position, parentId: request.parentId, guildId: guildId)
            text.topic = request.topic
            channel = text
        } else {
            channel = Channel(id: id, type: .guildCategory, guildId: guildId, name: rawName, position: position)
        }
        channels[channel.id] = channel
        broadcast("CHANNEL_CREATE", channel, guildId: guildId)
        return channel
    }

    // MARK: - Control API

    /// A message from someone other than the bot, as if typed in the Discord client.
    /// Returns the gateway form (with `guild_id` and `member`) that was dispatched.
    func injectMessage(_ request: InjectMessageRequest, now: Date = Date()) throws(DiscordAPIError) -> InjectedMessage {
        deliver(try validate(request), now: now)
    }

    /// Injects several messages in order in one actor turn. All are checked before any is
    /// dispatched, so a bad one leaves no half-sent batch behind.
    func injectMessages(_ requests: [InjectMessageRequest], now: Date = Date()) throws(DiscordAPIError) -> [InjectedMessage] {
        var injections: [Injection] = []
        injections.reserveCapacity(requests.count)
        for (index, request) in requests.enumerated() {
            do throws(DiscordAPIError) {
                injections.append(try validate(request))
            } catch {
                let body = DiscordAPIError.Body(message: "messages[\(index)]: \(error.body.message)", code: error.body.code, errors: error.body.errors)
                throw DiscordAPIError(status: error.status, body: body)
            }
        }
        return injections.map { deliver($0, now: now) }
    }

    /// An injected message that passed validation but has no id yet.
    private struct Injection {
        let channel: Channel
        let author: User
        let content: String
        let referenced: Message?
        let files: [UploadedFile]
    }

    private func validate(_ request: InjectMessageRequest) throws(DiscordAPIError) -> Injection {
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
        var files: [UploadedFile] = []
        for (index, file) in (request.attachments ?? []).enumerated() {
            guard let filename = file.filename, !filename.isEmpty,
                let encoded = file.dataBase64, let data = Data(base64Encoded: encoded)
            else {
                throw DiscordAPIError(status: .badRequest, body: .init(message: "attachments[\(index)] needs a filename and base64 data_base64", code: 0))
            }
            files.append(UploadedFile(placeholder: String(index), filename: filename, contentType: file.contentType, bytes: Array(data)))
        }
        guard !content.isEmpty || !files.isEmpty else { throw .emptyMessage }
        var referenced: Message?
        if let replyTo = request.replyTo {
            guard let target = message(replyTo, in: channelId) else { throw .unknownMessage }
            referenced = target
        }
        return Injection(channel: channel, author: author, content: content, referenced: referenced, files: files)
    }

    private func deliver(_ injection: Injection, now: Date) -> InjectedMessage {
        let (channel, content, referenced) = (injection.channel, injection.content, injection.referenced)
        let mentioned = ContentMentions(parsing: content)
        var mentionedUserIds = mentioned.users
        // Humans' replies ping the replied-to author by default.
        if let repliedAuthor = referenced?.author.id, !mentionedUserIds.contains(repliedAuthor) {
            mentionedUserIds.append(repliedAuthor)
        }
        let id = snowflakes.next(at: now)
        var message = Message(id: id, channelId: channel.id, author: injection.author, content: content, timestamp: SnowflakeGenerator.timestamp(of: id))
        message.mentions = mentionedUserIds.compactMap(user)
        message.mentionRoles = mentioned.roles
        message.mentionEveryone = mentioned.everyone
        message.attachments = injection.files.map { store($0, in: channel.id, now: now) }
        if let referenced {
            makeReply(&message, to: referenced, in: channel)
        }
        store(message)
        let dispatched = gatewayForm(of: message)
        broadcast("MESSAGE_CREATE", dispatched, guildId: channel.guildId)
        return InjectedMessage(message: dispatched, dispatchedAtUs: Date().microsecondsSince1970)
    }

    /// Bot posts matching `query`, oldest first.
    func botPosts(_ query: PostQuery) -> [BotPost] {
        Array(matchingPosts(query))
    }

    /// How many posts `botPosts` would return, without copying them; O(1) for a query by index only.
    func botPostCount(_ query: PostQuery) -> Int {
        if query.channelId == nil, query.after == nil {
            return posts.count - min(max(query.fromIndex, 0), posts.count)
        }
        return matchingPosts(query).count
    }

    private func matchingPosts(_ query: PostQuery) -> some Collection<BotPost> {
        let after = query.after.map(SnowflakeGenerator.numeric) ?? 0
        return posts[min(max(query.fromIndex, 0), posts.count)...].lazy.filter { post in
            (query.channelId == nil || post.message.channelId == query.channelId) && SnowflakeGenerator.numeric(post.message.id) > after
        }
    }

    /// Appends to the message-create fault queue; returns the whole pending queue.
    func queueMessageCreateFaults(_ statuses: [Int], html: Bool = false) -> [Int] {
        messageCreateFaults.append(contentsOf: statuses.map { InjectedFault(status: $0, html: html) })
        return messageCreateFaults.map(\.status)
    }

    /// Removes a channel so that later calls on it get 404 Unknown Channel.
    func deleteChannel(_ id: Snowflake) -> Channel? {
        guard let channel = channels.removeValue(forKey: id) else { return nil }
        history[id] = nil
        uploads = uploads.filter { $0.value.channelId != id }
        broadcast("CHANNEL_DELETE", channel, guildId: channel.guildId)
        return channel
    }

    func statistics() -> SimulatorStats {
        var snapshot = stats
        snapshot.connections = gateway.connectionCount
        snapshot.sessions = gateway.sessionCount
        snapshot.activeSessions = gateway.activeSessionCount
        var byShard = gateway.activeSessionsByShard
        for shard in 0..<shardCount where byShard[shard] == nil {
            byShard[shard] = 0
        }
        snapshot.sessionsByShard = Dictionary(uniqueKeysWithValues: byShard.map { (String($0.key), $0.value) })
        return snapshot
    }

    /// Clears what tests accumulate (posts, counters, faults, rate-limit windows) but keeps
    /// channels, message history and gateway sessions.
    func reset() {
        posts.removeAll()
        postIndexByNonce.removeAll()
        stats = SimulatorStats()
        messageCreateFaults.removeAll()
        feedback = Feedback()
        rateLimiter?.reset()
        deleteLimiter?.reset()
        webhookLimiter?.reset()
        globalLimiter?.reset()
        identifyLimiter.reset()
        interactions.resetRecords()
    }

    /// Sends a frame exactly as given (malformed on purpose, say) to every open connection.
    func sendRaw(_ text: String) -> Int {
        gateway.sendToAll(.text(text))
    }

    func recordTyping(in channelId: Snowflake, at: Date = Date()) {
        feedback.typing.append(.init(channelId: channelId, atUs: Int64(at.timeIntervalSince1970 * 1_000_000)))
    }


    func feedbackLog() -> Feedback { feedback }

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

    /// Starts a session and sends READY followed by a GUILD_CREATE for each guild of its shard.
    /// - Parameter shard: IDENTIFY's `shard`; `nil` when it had none, which means `[0, 1]`.
    func identify(connection: GatewaySessions.ConnectionId, shard: Shard?, now: Date = Date()) -> IdentifyOutcome {
        guard gateway.sessionId(of: connection) == nil else { return .alreadyAuthenticated }
        let sessionShard = shard ?? .unsharded
        stats.identifies += 1
        if !identifyLimiter.admit(shardId: sessionShard.id, now: now) {
            stats.identifyViolations += 1
        }
        let sessionId = gateway.startSession(on: connection, shard: sessionShard)
        recordActiveSessions()
        let shardGuilds = guilds.filter { sessionShard.receives(guildId: $0.id) }
        let ready = ReadyEvent(
            user: Fixtures.botUser,
            guilds: shardGuilds.map { .init(id: $0.id) },
            sessionId: sessionId,
            resumeGatewayUrl: gatewayUrl,
            shard: shard.map { [$0.id, $0.count] },
            application: .init(id: Fixtures.botUser.id)
        )
        // READY is never replayed: a resumed session already has it.
        dispatch("READY", ready, to: sessionId, replayable: false)
        // Grouped once: with `--guilds` in the hundreds, filtering every channel per guild adds up.
        let channelsByGuild = Dictionary(grouping: channels.values) { $0.guildId }
        for guild in shardGuilds {
            dispatch("GUILD_CREATE", guildCreate(guild, channels: channelsByGuild[guild.id] ?? []), to: sessionId)
        }
        return .ready
    }

    func resume(connection: GatewaySessions.ConnectionId, sessionId: String, after sequence: Int) -> ResumeOutcome {
        guard gateway.sessionId(of: connection) == nil else { return .alreadyAuthenticated }
        guard let replayed = gateway.resume(sessionId, on: connection, after: sequence) else {
            return .unknownSession
        }
        stats.resumes += 1
        recordActiveSessions()
        gateway.dispatch("RESUMED", data: "null", to: sessionId, replayable: false)
        return .resumed(replayed: replayed)
    }

    private func recordActiveSessions() {
        stats.maxActiveSessions = max(stats.maxActiveSessions, gateway.activeSessionCount)
        let busiestShard = gateway.activeSessionsByShard.values.max() ?? 0
        stats.maxActiveSessionsPerShard = max(stats.maxActiveSessionsPerShard, busiestShard)
    }

    // MARK: - Helpers

    func store(_ message: Message) {
        history[message.channelId, default: []].append(message)
        channels[message.channelId]?.lastMessageId = message.id
    }

    private func makeReply(_ message: inout Message, to referenced: Message, in channel: Channel) {
        message.type = .reply
        message.messageReference = MessageReference(messageId: referenced.id, channelId: referenced.channelId, guildId: channel.guildId)
        message.referencedMessage = Indirect(referenced.asReferenced)
    }

    /// Gateway dispatches of guild messages carry `guild_id` and the author's `member`.
    func gatewayForm(of message: Message) -> Message {
        var form = message
        if let guildId = channels[message.channelId]?.guildId {
            form.guildId = guildId
            // A channel webhook's author is no member of the guild.
            if message.webhookId == nil || message.webhookId != message.author.id {
                form.member = Fixtures.member(for: message.author, in: guildId)
            }
        }
        return form
    }

    /// - Parameter all: the guild's channels and threads.
    private func guildCreate(_ guild: Guild, channels all: [Channel]) -> Guild {
        var guild = guild
        guild.joinedAt = Fixtures.epochTimestamp
        guild.large = false
        guild.unavailable = false
        guild.memberCount = Fixtures.users.count
        guild.members = []
        guild.channels = Self.inDisplayOrder(all.filter { !$0.isThread })
        guild.threads = all.filter(\.isThread).sorted { $0.id < $1.id }
        guild.voiceStates = []
        guild.presences = []
        guild.stageInstances = []
        guild.guildScheduledEvents = []
        return guild
    }

    /// Encodes once for every session of the shard that receives `guildId`'s events.
    func broadcast(_ event: String, _ payload: some Encodable, guildId: Snowflake?) {
        do {
            gateway.broadcast(event, data: try JSONCoding.string(payload), guildId: guildId)
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

/// A file uploaded with a bot message: what the message says about it, and its bytes.
struct StoredUpload: Sendable {
    let channelId: Snowflake
    let attachment: Attachment
    let bytes: [UInt8]
}

/// A queued message-create failure: its status, and whether it comes as an HTML page.
struct InjectedFault: Sendable {
    var status: Int
    var html: Bool
}

/// What the bot did besides posting: typing calls and reactions.
struct Feedback: Encodable, Sendable {
    struct Typing: Encodable, Sendable {
        var channelId: Snowflake
        var atUs: Int64
    }

    struct Reaction: Encodable, Sendable {
        var channelId: Snowflake
        var messageId: Snowflake
        /// As the route named it, percent-decoded: a unicode emoji, or `name:id` for a custom one.
        var emoji: String
        var userId: Snowflake
        var atUs: Int64
    }

    var typing: [Typing] = []
    var reactions: [Reaction] = []
}
