import Foundation

/// One Discord REST route with its parameters: the method and path to send, the rate-limit route
/// and major parameter it counts against, and its body. Every request the connector makes is
/// one of the constructors below, so each route is written once (shaped after Discord's API v10
/// reference and OpenAPI spec) and `DiscordClient.perform` applies the limits and the retry
/// policy to all of them alike.
public struct DiscordEndpoint: Sendable {
    public var method: String
    /// The path under the API base, with its query string.
    public var path: String
    /// The route as Discord buckets it: the method and the path with its parameters named
    /// (`POST /channels/{channel.id}/messages`).
    public var route: String
    /// The major parameter that splits the route's bucket: the channel, guild or webhook id
    /// ("" for routes with none).
    public var major: String
    public var body: Body?
    /// Sent with the bot token. Webhook executes and interaction callbacks are authenticated by
    /// the token in their path instead.
    public var botAuthorization: Bool
    /// Whether the request counts against the bot's global limit (interaction callbacks do not).
    public var countsGlobally: Bool

    public enum Body: Sendable {
        case json(any Encodable & Sendable)
        /// A JSON payload (`payload_json`) and files (`files[n]`), as multipart/form-data.
        case multipart(payload: any Encodable & Sendable, files: [DiscordFile])
    }

    public init(method: String, path: String, route: String, major: String, body: Body? = nil, botAuthorization: Bool = true, countsGlobally: Bool = true) {
        self.method = method
        self.path = path
        self.route = route
        self.major = major
        self.body = body
        self.botAuthorization = botAuthorization
        self.countsGlobally = countsGlobally
    }

    private static func encode(_ payload: any Encodable & Sendable) throws -> Data {
        if let handWritten = payload as? any HandWrittenJSON { return try handWritten.jsonData() }
        return try JSON.encode(payload)
    }

    /// The HTTP body: JSON, or `payload_json` plus one `files[n]` part per file.
    public func encodedBody() throws -> HTTPBody? {
        switch body {
        case nil:
            return nil
        case .json(let payload):
            return .json(try Self.encode(payload))
        case .multipart(let payload, let files):
            var parts = [MultipartPart(name: "payload_json", contentType: "application/json", data: try Self.encode(payload))]
            for (index, file) in files.enumerated() {
                parts.append(MultipartPart(name: "files[\(index)]", filename: file.filename, contentType: file.contentType, data: file.data))
            }
            return .multipart(parts)
        }
    }
}

/// A file to upload with a message.
public struct DiscordFile: Sendable, Equatable {
    public var filename: String
    public var contentType: String
    public var data: Data

    public init(filename: String, contentType: String = "application/octet-stream", data: Data) {
        self.filename = filename
        self.contentType = contentType
        self.data = data
    }
}

extension DiscordEndpoint {
    // MARK: Users and the gateway

    /// `GET /users/@me`: the bot's own user.
    public static var currentUser: DiscordEndpoint {
        DiscordEndpoint(method: "GET", path: "/users/@me", route: "GET /users/@me", major: "")
    }

    /// `GET /gateway/bot`: where to connect, the recommended shards, the IDENTIFY concurrency.
    public static var gatewayBot: DiscordEndpoint {
        DiscordEndpoint(method: "GET", path: "/gateway/bot", route: "GET /gateway/bot", major: "")
    }

    // MARK: Channels

    /// `GET /channels/{channel.id}`.
    public static func channel(_ channelID: String) -> DiscordEndpoint {
        DiscordEndpoint(method: "GET", path: "/channels/\(channelID)", route: "GET /channels/{channel.id}", major: channelID)
    }

    /// `GET /channels/{channel.id}/messages?after=&limit=`: messages after `after`, at most
    /// `limit` (1-100), newest first as Discord returns them.
    public static func messages(channel channelID: String, after: String, limit: Int = 100) -> DiscordEndpoint {
        DiscordEndpoint(
            method: "GET", path: "/channels/\(channelID)/messages?after=\(after)&limit=\(min(100, max(1, limit)))",
            route: "GET /channels/{channel.id}/messages", major: channelID
        )
    }

    /// `GET /channels/{channel.id}/messages?limit=&before=`: a page of history, newest first,
    /// older than `before` when given.
    public static func history(channel channelID: String, limit: Int, before: String? = nil) -> DiscordEndpoint {
        DiscordEndpoint(
            method: "GET", path: "/channels/\(channelID)/messages?limit=\(min(100, max(1, limit)))" + (before.map { "&before=\($0)" } ?? ""),
            route: "GET /channels/{channel.id}/messages", major: channelID
        )
    }

    /// `GET /channels/{channel.id}/messages/{message.id}`: one message, with fresh attachment URLs.
    public static func message(channel channelID: String, id messageID: String) -> DiscordEndpoint {
        DiscordEndpoint(method: "GET", path: "/channels/\(channelID)/messages/\(messageID)", route: "GET /channels/{channel.id}/messages/{message.id}", major: channelID)
    }

    /// `POST /guilds/{guild.id}/channels`.
    public static func createChannel(guild guildID: String, _ body: some Encodable & Sendable) -> DiscordEndpoint {
        DiscordEndpoint(method: "POST", path: "/guilds/\(guildID)/channels", route: "POST /guilds/{guild.id}/channels", major: guildID, body: .json(body))
    }

    /// `GET /guilds/{guild.id}/channels`.
    public static func guildChannels(_ guildID: String) -> DiscordEndpoint {
        DiscordEndpoint(method: "GET", path: "/guilds/\(guildID)/channels", route: "GET /guilds/{guild.id}/channels", major: guildID)
    }

    /// `POST /channels/{channel.id}/typing`: "typing" for 10 seconds or until the next message.
    public static func typing(channel channelID: String) -> DiscordEndpoint {
        DiscordEndpoint(method: "POST", path: "/channels/\(channelID)/typing", route: "POST /channels/{channel.id}/typing", major: channelID)
    }

    // MARK: Messages

    /// `POST /channels/{channel.id}/messages`, as JSON, or as multipart/form-data with files.
    public static func createMessage(channel channelID: String, _ message: MessageCreate, files: [DiscordFile] = []) -> DiscordEndpoint {
        var message = message
        if !files.isEmpty {
            message.attachments = files.enumerated().map { .init(id: $0.offset, filename: $0.element.filename) }
        }
        return DiscordEndpoint(
            method: "POST", path: "/channels/\(channelID)/messages", route: "POST /channels/{channel.id}/messages", major: channelID,
            body: files.isEmpty ? .json(message) : .multipart(payload: message, files: files)
        )
    }

    /// `PATCH /channels/{channel.id}/messages/{message.id}`.
    public static func editMessage(channel channelID: String, message messageID: String, _ edit: some Encodable & Sendable) -> DiscordEndpoint {
        DiscordEndpoint(
            method: "PATCH", path: "/channels/\(channelID)/messages/\(messageID)",
            route: "PATCH /channels/{channel.id}/messages/{message.id}", major: channelID, body: .json(edit)
        )
    }

    /// `DELETE /channels/{channel.id}/messages/{message.id}`.
    public static func deleteMessage(channel channelID: String, message messageID: String) -> DiscordEndpoint {
        DiscordEndpoint(
            method: "DELETE", path: "/channels/\(channelID)/messages/\(messageID)",
            route: "DELETE /channels/{channel.id}/messages/{message.id}", major: channelID
        )
    }

    /// `PUT /channels/{channel.id}/messages/{message.id}/reactions/{emoji}/@me`: a unicode emoji
    /// or a custom one as `name:id`, URL-encoded as Discord requires.
    public static func addReaction(channel channelID: String, message messageID: String, emoji: String) -> DiscordEndpoint {
        DiscordEndpoint(
            method: "PUT", path: "/channels/\(channelID)/messages/\(messageID)/reactions/\(percentEncoded(emoji))/@me",
            route: "PUT /channels/{channel.id}/messages/{message.id}/reactions/{emoji}/@me", major: channelID
        )
    }

    /// `POST /channels/{channel.id}/messages/{message.id}/threads`: a thread started on a message.
    public static func startThread(channel channelID: String, message messageID: String, name: String) -> DiscordEndpoint {
        DiscordEndpoint(
            method: "POST", path: "/channels/\(channelID)/messages/\(messageID)/threads",
            route: "POST /channels/{channel.id}/messages/{message.id}/threads", major: channelID,
            body: .json(["name": String(name.prefix(100))])
        )
    }

    // MARK: Webhooks and interactions (authenticated by the token in the path)

    /// `POST /webhooks/{webhook.id}/{webhook.token}?wait=true[&thread_id=]`: the created message
    /// is returned.
    public static func executeWebhook(id webhookID: String, token: String, threadID: String? = nil, _ message: some Encodable & Sendable, files: [DiscordFile] = []) -> DiscordEndpoint {
        DiscordEndpoint(
            method: "POST", path: "/webhooks/\(webhookID)/\(token)?wait=true" + (threadID.map { "&thread_id=\($0)" } ?? ""),
            route: "POST /webhooks/{webhook.id}/{webhook.token}", major: webhookID,
            body: files.isEmpty ? .json(message) : .multipart(payload: message, files: files),
            botAuthorization: false, countsGlobally: false
        )
    }

    /// `POST /channels/{channel.id}/webhooks`.
    public static func createWebhook(channel channelID: String, name: String) -> DiscordEndpoint {
        DiscordEndpoint(method: "POST", path: "/channels/\(channelID)/webhooks", route: "POST /channels/{channel.id}/webhooks", major: channelID, body: .json(["name": name]))
    }

    /// `GET /channels/{channel.id}/webhooks`.
    public static func channelWebhooks(_ channelID: String) -> DiscordEndpoint {
        DiscordEndpoint(method: "GET", path: "/channels/\(channelID)/webhooks", route: "GET /channels/{channel.id}/webhooks", major: channelID)
    }

    /// `POST /interactions/{interaction.id}/{interaction.token}/callback`: the answer Discord
    /// needs within 3 seconds. Not counted against the global limit.
    public static func interactionCallback(id interactionID: String, token: String, _ response: some Encodable & Sendable) -> DiscordEndpoint {
        DiscordEndpoint(
            method: "POST", path: "/interactions/\(interactionID)/\(token)/callback",
            route: "POST /interactions/{interaction.id}/{interaction.token}/callback", major: interactionID,
            body: .json(response), botAuthorization: false, countsGlobally: false
        )
    }

    /// `PATCH /webhooks/{application.id}/{interaction.token}/messages/@original`: the deferred
    /// response ("thinking...") becomes the answer.
    public static func editOriginalResponse(applicationID: String, token: String, _ edit: some Encodable & Sendable) -> DiscordEndpoint {
        DiscordEndpoint(
            method: "PATCH", path: "/webhooks/\(applicationID)/\(token)/messages/@original",
            route: "PATCH /webhooks/{application.id}/{interaction.token}/messages/@original", major: applicationID + "/" + token,
            body: .json(edit), botAuthorization: false, countsGlobally: false
        )
    }

    /// `POST /webhooks/{application.id}/{interaction.token}`: a follow-up message to an interaction.
    public static func followUp(applicationID: String, token: String, _ message: some Encodable & Sendable) -> DiscordEndpoint {
        DiscordEndpoint(
            method: "POST", path: "/webhooks/\(applicationID)/\(token)?wait=true",
            route: "POST /webhooks/{application.id}/{interaction.token}", major: applicationID + "/" + token,
            body: .json(message), botAuthorization: false, countsGlobally: false
        )
    }

    /// `GET /applications/{application.id}[/guilds/{guild.id}]/commands`.
    public static func commands(applicationID: String, guildID: String? = nil) -> DiscordEndpoint {
        let scope = guildID.map { "/guilds/\($0)" } ?? ""
        return DiscordEndpoint(
            method: "GET", path: "/applications/\(applicationID)\(scope)/commands",
            route: "GET /applications/{application.id}" + (guildID == nil ? "" : "/guilds/{guild.id}") + "/commands", major: applicationID
        )
    }

    /// `PUT /applications/{application.id}[/guilds/{guild.id}]/commands`: a bulk overwrite.
    public static func overwriteCommands(applicationID: String, guildID: String? = nil, _ commands: some Encodable & Sendable) -> DiscordEndpoint {
        let scope = guildID.map { "/guilds/\($0)" } ?? ""
        return DiscordEndpoint(
            method: "PUT", path: "/applications/\(applicationID)\(scope)/commands",
            route: "PUT /applications/{application.id}" + (guildID == nil ? "" : "/guilds/{guild.id}") + "/commands", major: applicationID,
            body: .json(commands)
        )
    }

    /// Percent-encodes a path segment: everything but unreserved characters (RFC 3986).
    static func percentEncoded(_ segment: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
        allowed.insert(charactersIn: "-._~")
        return segment.addingPercentEncoding(withAllowedCharacters: allowed) ?? segment
    }
}
