import Foundation
import HTTPTypes

/// What the bot does to messages besides posting and editing them: deleting, reacting, and
/// starting a thread from one.
extension World {
    /// MESSAGE flag HAS_THREAD.
    static let hasThreadFlag = 32
    /// `auto_archive_duration` values Discord accepts, in minutes.
    static let autoArchiveDurations = [60, 1440, 4320, 10080]

    // MARK: - Delete

    /// `DELETE /channels/{channel.id}/messages/{message.id}`: removes the message from the
    /// history (a later GET is 10008) and dispatches MESSAGE_DELETE. A bot post stays in
    /// `/_sim/posts`, marked deleted. Rate limited per channel in a bucket of its own.
    func deleteMessage(channelId: Snowflake, messageId: Snowflake, now: Date = Date()) -> (result: Result<Void, DiscordAPIError>, headers: HTTPFields) {
        guard let channel = channels[channelId] else { return (.failure(.unknownChannel), HTTPFields()) }
        var headers = HTTPFields()
        switch deleteLimiter?.acquire(key: channelId, now: now) {
        case .allowed(let snapshot):
            headers = snapshot.headers
        case .limited(let snapshot, let retryAfter):
            stats.rateLimited += 1
            return (.failure(.rateLimited(retryAfter: retryAfter)), snapshot.headers)
        case nil:
            break
        }
        guard let messages = history[channelId] else { return (.failure(.unknownMessage), headers) }
        let numericId = SnowflakeGenerator.numeric(messageId)
        let index = Self.firstIndex(in: messages) { $0 >= numericId }
        guard index < messages.endIndex, messages[index].id == messageId else { return (.failure(.unknownMessage), headers) }
        // In a DM the bot has no Manage Messages: only its own messages go.
        if channel.type == .dm, messages[index].author.id != Fixtures.botUser.id {
            return (.failure(.cannotExecuteOnDM), headers)
        }
        history[channelId]?.remove(at: index)
        if let post = postIndex(of: messageId) {
            posts[post].deletedAtUs = now.microsecondsSince1970
        }
        interactions.messages[messageId] = nil
        broadcast("MESSAGE_DELETE", MessageDeleteEvent(id: messageId, channelId: channelId, guildId: channel.guildId), guildId: channel.guildId)
        return (.success(()), headers)
    }

    // MARK: - Reactions

    /// `PUT /channels/{id}/messages/{id}/reactions/{emoji}/@me`. `emoji` is percent-decoded:
    /// a unicode emoji, or `name:id` for a custom one, which must belong to one of the bot's
    /// guilds. Adding the same reaction twice is a no-op, as on Discord.
    func addReaction(_ emoji: String, channelId: Snowflake, messageId: Snowflake, now: Date = Date()) throws(DiscordAPIError) {
        guard channels[channelId] != nil else { throw .unknownChannel }
        guard anyMessage(messageId, in: channelId) != nil else { throw .unknownMessage }
        guard isKnownEmoji(emoji) else { throw .unknownEmoji }
        let userId = Fixtures.botUser.id
        let exists = feedback.reactions.contains { $0.channelId == channelId && $0.messageId == messageId && $0.emoji == emoji && $0.userId == userId }
        if !exists {
            feedback.reactions.append(.init(channelId: channelId, messageId: messageId, emoji: emoji, userId: userId, atUs: now.microsecondsSince1970))
        }
    }

    func reactionLog() -> [Feedback.Reaction] { feedback.reactions }

    private func isKnownEmoji(_ emoji: String) -> Bool {
        let parts = emoji.split(separator: ":", omittingEmptySubsequences: false)
        if parts.count == 2 {
            let id = String(parts[1])
            return guilds.contains { guild in guild.emojis.contains { $0["id"]?.stringValue == id } }
        }
        // A unicode emoji: at least one emoji scalar beyond ASCII (digits and `#` count as
        // emoji in Unicode, but alone they are no reaction).
        return !emoji.isEmpty && emoji.unicodeScalars.contains { $0.value > 0x7F && $0.properties.isEmoji }
    }

    // MARK: - Threads

    /// `POST /channels/{channel.id}/messages/{message.id}/threads`: a public thread whose id is
    /// the message's. Dispatches THREAD_CREATE; the message then carries `thread`.
    func startThread(
        channelId: Snowflake,
        messageId: Snowflake,
        body parsed: Result<StartThreadRequest, DiscordAPIError>,
        now: Date = Date()
    ) throws(DiscordAPIError) -> Channel {
        guard let parent = channels[channelId] else { throw .unknownChannel }
        let request = try parsed.get()
        var errors: [String: JSONValue] = [:]
        let name = request.name ?? ""
        if !(1...100).contains(name.count) {
            errors["name"] = .formError(code: "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        }
        if let duration = request.autoArchiveDuration, !Self.autoArchiveDurations.contains(duration) {
            errors["auto_archive_duration"] = .formError(code: "BASE_TYPE_CHOICES", "Value must be one of {60, 1440, 4320, 10080}.")
        }
        if !errors.isEmpty { throw .invalidFormBody(.object(errors)) }
        // Not in DMs, and not from a message in a thread.
        guard parent.type == .guildText, let guildId = parent.guildId else {
            throw .invalidChannelType
        }
        guard var message = message(messageId, in: channelId) else { throw .unknownMessage }
        guard message.thread == nil, channels[messageId] == nil else { throw .threadAlreadyCreated }

        let timestamp = SnowflakeGenerator.discordTimestamp(millisecondsSince1970: UInt64(now.timeIntervalSince1970 * 1000))
        let thread = Channel(
            id: messageId,
            type: .publicThread,
            guildId: guildId,
            name: name,
            parentId: channelId,
            rateLimitPerUser: 0,
            ownerId: Fixtures.botUser.id,
            threadMetadata: ThreadMetadata(autoArchiveDuration: request.autoArchiveDuration ?? 1440, archiveTimestamp: timestamp),
            messageCount: 0,
            memberCount: 1
        )
        channels[thread.id] = thread
        threadRecords.append(ThreadRecord(id: thread.id, parentId: channelId, guildId: guildId, name: name, createdAtUs: now.microsecondsSince1970))

        message.thread = thread
        message.flags |= Self.hasThreadFlag
        replaceInHistory(message)
        if let index = postIndex(of: messageId) { posts[index].message = message }

        var created = thread
        created.newlyCreated = true
        broadcast("THREAD_CREATE", created, guildId: guildId)
        return thread
    }

    func threadLog() -> [ThreadRecord] { threadRecords }

    // MARK: - History

    /// `around`: up to `limit` messages centred on the anchor (included when it exists),
    /// newest first. `nil` for an unknown channel.
    func messages(in channelId: Snowflake, around: Snowflake, limit: Int) -> [Message]? {
        guard channels[channelId] != nil else { return nil }
        let all = history[channelId] ?? []
        let anchor = SnowflakeGenerator.numeric(around)
        let index = Self.firstIndex(in: all) { $0 >= anchor }
        let upper = min(all.endIndex, index + (limit + 1) / 2)
        let lower = max(all.startIndex, upper - limit)
        return all[lower..<min(all.endIndex, lower + limit)].reversed()
    }
}

/// MESSAGE_DELETE's `d`.
struct MessageDeleteEvent: Encodable, Sendable {
    let id: Snowflake
    let channelId: Snowflake
    let guildId: Snowflake?
}

/// Body of `POST /channels/{id}/messages/{id}/threads`.
struct StartThreadRequest: Decodable, Sendable {
    var name: String?
    var autoArchiveDuration: Int?
    var rateLimitPerUser: Int?
}

/// A thread started from a message, as `GET /_sim/threads` lists it.
struct ThreadRecord: Encodable, Sendable {
    let id: Snowflake
    let parentId: Snowflake
    let guildId: Snowflake
    let name: String
    let createdAtUs: Int64
}

extension DiscordAPIError {
    static let unknownEmoji = DiscordAPIError(status: .badRequest, body: Body(message: "Unknown Emoji", code: 10014))
    static let invalidChannelType = DiscordAPIError(status: .badRequest, body: Body(message: "Cannot execute action on this channel type", code: 50024))
    static let cannotExecuteOnDM = DiscordAPIError(status: .forbidden, body: Body(message: "Cannot execute action on a DM channel", code: 50003))
    static let threadAlreadyCreated = DiscordAPIError(status: .badRequest, body: Body(message: "A thread has already been created for this message", code: 160004))
}
