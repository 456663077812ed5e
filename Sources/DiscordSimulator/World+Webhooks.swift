import Foundation
import HTTPTypes

/// Channel webhooks (incoming, type 1): created by the bot, executed with their token, as
/// Discord's Webhook resource describes. Executes are authenticated by the token alone and
/// have their own per-webhook bucket, outside the bot's global limit.
extension World {
    /// Discord's cap on webhooks per channel.
    static let maxWebhooksPerChannel = 15
    /// Flags an execute may set: SUPPRESS_EMBEDS and SUPPRESS_NOTIFICATIONS.
    private static let webhookFlags = 4 | 4096

    /// `POST /channels/{channel.id}/webhooks`.
    func createWebhook(channelId: Snowflake, body parsed: Result<CreateWebhookRequest, DiscordAPIError>, now: Date = Date()) throws(DiscordAPIError) -> ChannelWebhook {
        guard let channel = channels[channelId] else { throw .unknownChannel }
        let request = try parsed.get()
        if let error = Self.webhookNameError(request.name) {
            throw .invalidFormBody(.object(["name": error]))
        }
        guard channel.type == .guildText, let guildId = channel.guildId else { throw .invalidChannelType }
        guard webhooks.values.filter({ $0.channelId == channelId }).count < Self.maxWebhooksPerChannel else {
            throw .maximumWebhooks
        }
        let webhook = ChannelWebhook(
            id: snowflakes.next(at: now), token: Self.webhookToken(), channelId: channelId, guildId: guildId,
            name: request.name ?? "", applicationId: Fixtures.botUser.id, user: Fixtures.botUser
        )
        webhooks[webhook.id] = webhook
        return webhook
    }

    /// `GET /channels/{channel.id}/webhooks`, oldest first.
    func channelWebhooks(channelId: Snowflake) throws(DiscordAPIError) -> [ChannelWebhook] {
        guard channels[channelId] != nil else { throw .unknownChannel }
        return webhooks.values.filter { $0.channelId == channelId }.sorted { SnowflakeGenerator.numeric($0.id) < SnowflakeGenerator.numeric($1.id) }
    }

    /// `DELETE /webhooks/{webhook.id}` (the bot) and `DELETE /_sim/webhooks/{id}` (behind its back).
    func deleteWebhook(_ id: Snowflake) throws(DiscordAPIError) -> ChannelWebhook {
        guard let webhook = webhooks.removeValue(forKey: id) else { throw .unknownWebhook }
        return webhook
    }

    /// `POST /webhooks/{webhook.id}/{webhook.token}`: a message in the webhook's channel, or in
    /// `threadId`, a thread of that channel. Checks: webhook and token (10015), rate limit,
    /// thread (10003), body.
    func executeWebhook(
        id: Snowflake,
        token: String,
        threadId: Snowflake?,
        request parsed: Result<MessageUpload, DiscordAPIError>,
        receivedAt: Date,
        now: Date = Date()
    ) -> MessageCreateOutcome {
        guard let webhook = webhooks[id], webhook.token == token else {
            return MessageCreateOutcome(result: .failure(.unknownWebhook))
        }
        var headers = HTTPFields()
        switch webhookLimiter?.acquire(key: id, now: now) {
        case .allowed(let snapshot):
            headers = snapshot.headers
        case .limited(let snapshot, let retryAfter):
            stats.rateLimited += 1
            return MessageCreateOutcome(result: .failure(.rateLimited(retryAfter: retryAfter)), rateLimitHeaders: snapshot.headers)
        case nil:
            break
        }
        do throws(DiscordAPIError) {
            var target = webhook.channelId
            if let threadId {
                guard let thread = channels[threadId], thread.isThread, thread.parentId == webhook.channelId else { throw .unknownChannel }
                target = thread.id
            }
            guard let channel = channels[target] else { throw .unknownWebhook }
            let message = try postAsWebhook(webhook, try parsed.get(), in: channel, receivedAt: receivedAt, now: now)
            return MessageCreateOutcome(result: .success(message), rateLimitHeaders: headers)
        } catch {
            return MessageCreateOutcome(result: .failure(error), rateLimitHeaders: headers)
        }
    }

    func webhookList() -> [ChannelWebhook] {
        webhooks.values.sorted { SnowflakeGenerator.numeric($0.id) < SnowflakeGenerator.numeric($1.id) }
    }

    private func postAsWebhook(_ webhook: ChannelWebhook, _ upload: MessageUpload, in channel: Channel, receivedAt: Date, now: Date) throws(DiscordAPIError) -> Message {
        let request = upload.request
        let content = request.content ?? ""
        let embeds = request.embeds ?? []
        let components = request.components ?? []
        guard !content.isEmpty || !embeds.isEmpty || !components.isEmpty || !upload.files.isEmpty else {
            throw .emptyMessage
        }
        var errors: [String: JSONValue] = [:]
        if content.unicodeScalars.count > 2000 {
            errors["content"] = .formError(code: "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
        }
        if let username = request.username, let error = Self.webhookNameError(username) {
            errors["username"] = error
        }
        if let problems = request.allowedMentions?.validationErrors() { errors["allowed_mentions"] = problems }
        if let problems = MessageComponents.errors(components) { errors["components"] = problems }
        if !errors.isEmpty { throw .invalidFormBody(.object(errors)) }

        let pinged = Pinged(content: content, allowedMentions: request.allowedMentions, repliedAuthorId: nil)
        let id = snowflakes.next(at: now)
        // Discord's webhook author: the webhook's id, the execute's name, the old discriminator.
        let author = User(id: webhook.id, username: request.username ?? webhook.name, discriminator: "0000", avatar: nil, bot: true)
        var message = Message(id: id, channelId: channel.id, author: author, content: content, timestamp: SnowflakeGenerator.timestamp(of: id))
        message.tts = request.tts ?? false
        message.embeds = embeds
        message.components = components
        message.flags = (request.flags ?? 0) & Self.webhookFlags
        message.webhookId = webhook.id
        message.applicationId = webhook.applicationId
        message.mentionEveryone = pinged.everyone
        message.mentionRoles = pinged.roles
        message.mentions = pinged.users.compactMap(user)
        message.attachments = upload.files.map { store($0, in: channel.id, now: now) }
        store(message)
        posts.append(BotPost(message: message, pinged: pinged, receivedAtUs: receivedAt.microsecondsSince1970, kind: .webhook))
        broadcast("MESSAGE_CREATE", gatewayForm(of: message), guildId: channel.guildId)
        return message
    }

    /// Discord's rule for webhook names and execute usernames: 1-80 characters, and neither
    /// "clyde" nor "discord" in them.
    static func webhookNameError(_ name: String?) -> JSONValue? {
        guard let name, (1...80).contains(name.count) else {
            return .formError(code: "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 80 in length.")
        }
        let lowered = name.lowercased()
        if lowered.contains("clyde") || lowered.contains("discord") {
            return .formError(code: "USERNAME_INVALID_CONTAINS", "Username cannot contain \"\(lowered.contains("clyde") ? "clyde" : "discord")\"")
        }
        return nil
    }

    private static func webhookToken() -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var generator = SystemRandomNumberGenerator()
        return String((0..<68).map { _ in alphabet.randomElement(using: &generator)! })
    }
}

/// A channel webhook as Discord's webhook object describes it (type 1, incoming).
struct ChannelWebhook: Encodable, Sendable {
    let id: Snowflake
    let token: String
    let channelId: Snowflake
    let guildId: Snowflake
    let name: String
    let applicationId: Snowflake
    /// Who created it: the bot.
    let user: User

    private enum CodingKeys: String, CodingKey {
        case id, type, token, channelId, guildId, name, avatar, applicationId, user
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(1, forKey: .type)
        try container.encode(token, forKey: .token)
        try container.encode(channelId, forKey: .channelId)
        try container.encode(guildId, forKey: .guildId)
        try container.encode(name, forKey: .name)
        try container.encodeNil(forKey: .avatar)
        try container.encode(applicationId, forKey: .applicationId)
        try container.encode(user, forKey: .user)
    }
}

struct CreateWebhookRequest: Decodable, Sendable {
    var name: String?
    var avatar: String?
}

extension DiscordAPIError {
    static let maximumWebhooks = DiscordAPIError(status: .badRequest, body: Body(message: "Maximum number of webhooks reached (15)", code: 30007))
}
