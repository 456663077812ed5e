import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The subset of Discord's REST API v10 a bot connector uses, under `/api/v10`.
struct RESTRoutes {
    let world: World
    let configuration: SimulatorConfiguration

    func register(on router: Router<BasicRequestContext>) {
        // Discord serves this one without authentication.
        router.get("api/v10/gateway") { _, _ in
            let url = await world.gatewayUrl
            return try Response.json(["url": url])
        }
        // Uploaded files, at the `url` of their attachment; like Discord's CDN, no authentication.
        router.get("attachments/{channelId}/{attachmentId}/{filename}") { _, context in try await attachment(context) }
        // Interaction callbacks and webhooks: authenticated by the interaction token, no global limit.
        let interactions = InteractionRoutes(world: world)
        interactions.registerTokenRoutes(on: router)

        let api = router.group("api/v10").add(middleware: BotAuthMiddleware(token: configuration.botToken))
        if configuration.globalLimit != nil {
            api.add(middleware: GlobalRateLimitMiddleware(world: world))
        }
        api.get("gateway/bot") { _, _ in try await gatewayBot() }
        api.get("users/@me") { _, _ in try Response.json(Fixtures.botUser) }
        api.get("users/{userId}") { _, context in try await user(context) }
        api.get("channels/{channelId}") { _, context in try await channel(context) }
        api.get("channels/{channelId}/messages") { request, context in try await listMessages(request, context) }
        api.get("channels/{channelId}/messages/{messageId}") { _, context in try await getMessage(context) }
        api.post("channels/{channelId}/messages") { request, context in try await createMessage(request, context) }
        api.patch("channels/{channelId}/messages/{messageId}") { request, context in try await editMessage(request, context) }
        api.delete("channels/{channelId}/messages/{messageId}") { _, context in try await deleteMessage(context) }
        api.post("channels/{channelId}/messages/{messageId}/threads") { request, context in try await startThread(request, context) }
        api.post("channels/{channelId}/typing") { _, context in try await triggerTyping(context) }
        api.put("channels/{channelId}/messages/{messageId}/reactions/{emoji}/@me") { _, context in try await addReaction(context) }
        api.get("guilds/{guildId}") { _, context in try await guild(context) }
        api.get("guilds/{guildId}/channels") { _, context in try await guildChannels(context) }
        api.post("guilds/{guildId}/channels") { request, context in try await createChannel(request, context) }
        api.get("applications/@me") { _, _ in try Response.json(await application()) }
        interactions.registerCommandRoutes(on: api)
        WebhookRoutes(world: world).registerBotRoutes(on: api)
    }

    /// `GET /applications/@me`: the application object, trimmed to what a bot reads. Its
    /// `verify_key` checks the signatures of HTTP deliveries to the Interactions Endpoint.
    private struct Application: Encodable {
        let id: Snowflake
        let name: String
        var icon: String?
        var description = "The Discord simulator's application"
        var botPublic = true
        var botRequireCodeGrant = false
        let verifyKey: String
        var flags = 0
        let interactionsEndpointUrl: String?
        let bot: User

        private enum CodingKeys: String, CodingKey {
            case id, name, icon, description, botPublic, botRequireCodeGrant, verifyKey, flags, interactionsEndpointUrl, bot
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            // Discord sends these two as null rather than leaving them out.
            try container.encode(icon, forKey: .icon)
            try container.encode(interactionsEndpointUrl, forKey: .interactionsEndpointUrl)
            try container.encode(description, forKey: .description)
            try container.encode(botPublic, forKey: .botPublic)
            try container.encode(botRequireCodeGrant, forKey: .botRequireCodeGrant)
            try container.encode(verifyKey, forKey: .verifyKey)
            try container.encode(flags, forKey: .flags)
            try container.encode(bot, forKey: .bot)
        }
    }

    private func application() async -> Application {
        Application(
            id: Fixtures.botUser.id, name: Fixtures.botUser.username, verifyKey: await world.verifyKey,
            interactionsEndpointUrl: await world.interactionsEndpointURL, bot: Fixtures.botUser
        )
    }

    /// JSON only (Discord also takes multipart edits, which the connector does not send).
    private func editMessage(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let parsed: Result<InteractionMessageBody, DiscordAPIError>
        do {
            parsed = .success(try await request.decodeJSON(InteractionMessageBody.self))
        } catch let error as DiscordAPIError {
            parsed = .failure(error)
        }
        return try Response.json(try await world.editChannelMessage(
            channelId: try context.parameters.require("channelId"),
            messageId: try context.parameters.require("messageId"),
            body: parsed
        ))
    }

    private struct GatewayBot: Encodable {
        struct SessionStartLimit: Encodable {
            var total = 1000
            var remaining = 999
            var resetAfter = 14_400_000
            var maxConcurrency = 1
        }

        let url: String
        var shards = 1
        var sessionStartLimit = SessionStartLimit()
    }

    private func gatewayBot() async throws -> Response {
        let url = await world.gatewayUrl
        let limit = GatewayBot.SessionStartLimit(maxConcurrency: configuration.maxConcurrency)
        return try Response.json(GatewayBot(url: url, shards: configuration.shardCount, sessionStartLimit: limit))
    }

    private func user(_ context: BasicRequestContext) async throws -> Response {
        guard let user = await world.user(try context.parameters.require("userId")) else {
            throw DiscordAPIError.unknownUser
        }
        return try Response.json(user)
    }

    private func channel(_ context: BasicRequestContext) async throws -> Response {
        guard let channel = await world.channel(try context.parameters.require("channelId")) else {
            throw DiscordAPIError.unknownChannel
        }
        return try Response.json(channel)
    }

    private func listMessages(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let channelId = try context.parameters.require("channelId")
        let query = request.uri.queryParameters
        var limit = 50
        if let raw = query.get("limit") {
            guard let parsed = Int(raw), (1...100).contains(parsed) else {
                throw DiscordAPIError.invalidFormBody(.object(["limit": .formError(code: "NUMBER_TYPE_MAX", "Int should be between 1 and 100.")]))
            }
            limit = parsed
        }
        // Discord takes one of `around`, `before`, `after`; `around` wins here if several come.
        let found: [Message]?
        if let around = query.get("around") {
            found = await world.messages(in: channelId, around: around, limit: limit)
        } else {
            found = await world.messages(in: channelId, after: query.get("after"), before: query.get("before"), limit: limit)
        }
        guard let page = found else {
            throw DiscordAPIError.unknownChannel
        }
        return try Response.json(page)
    }

    private func getMessage(_ context: BasicRequestContext) async throws -> Response {
        let channelId = try context.parameters.require("channelId")
        guard await world.channel(channelId) != nil else { throw DiscordAPIError.unknownChannel }
        guard let message = await world.message(try context.parameters.require("messageId"), in: channelId) else {
            throw DiscordAPIError.unknownMessage
        }
        return try Response.json(message)
    }

    private func createMessage(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let receivedAt = Date()
        let channelId = try context.parameters.require("channelId")
        let parsed = try await MessageUpload.read(request, maxUploadBytes: configuration.maxUploadBytes)
        let outcome = await world.createMessage(in: channelId, request: parsed, receivedAt: receivedAt)
        switch outcome.result {
        case .success(let message):
            return try Response.json(message, headers: outcome.rateLimitHeaders)
        case .failure(var error):
            error.headers.append(contentsOf: outcome.rateLimitHeaders)
            throw error
        }
    }

    private func deleteMessage(_ context: BasicRequestContext) async throws -> Response {
        let outcome = await world.deleteMessage(
            channelId: try context.parameters.require("channelId"),
            messageId: try context.parameters.require("messageId")
        )
        switch outcome.result {
        case .success:
            return Response(status: .noContent, headers: outcome.headers)
        case .failure(var error):
            error.headers.append(contentsOf: outcome.headers)
            throw error
        }
    }

    private func startThread(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let parsed: Result<StartThreadRequest, DiscordAPIError>
        do {
            parsed = .success(try await request.decodeJSON(StartThreadRequest.self))
        } catch let error as DiscordAPIError {
            parsed = .failure(error)
        }
        return try Response.json(try await world.startThread(
            channelId: try context.parameters.require("channelId"),
            messageId: try context.parameters.require("messageId"),
            body: parsed
        ), status: .created)
    }

    /// The exact bytes of an uploaded file. The filename must match too, as the CDN's does.
    private func attachment(_ context: BasicRequestContext) async throws -> Response {
        let channelId = try context.parameters.require("channelId")
        let attachmentId = try context.parameters.require("attachmentId")
        let filename = try context.parameters.require("filename")
        guard let upload = await world.upload(attachmentId, in: channelId),
            upload.attachment.filename == (filename.removingPercentEncoding ?? filename)
        else {
            throw DiscordAPIError.notFound
        }
        var headers = HTTPFields()
        headers[.contentType] = upload.attachment.contentType ?? "application/octet-stream"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: upload.bytes)))
    }

    /// Typing indicators have no visible effect here, but a client may send them before replying.
    private func triggerTyping(_ context: BasicRequestContext) async throws -> Response {
        let channelId = try context.parameters.require("channelId")
        guard await world.channel(channelId) != nil else {
            throw DiscordAPIError.unknownChannel
        }
        await world.recordTyping(in: channelId)
        return Response(status: .noContent)
    }

    /// `{emoji}` is URL-encoded: a unicode emoji, or `name:id` for a custom one.
    private func addReaction(_ context: BasicRequestContext) async throws -> Response {
        let raw = try context.parameters.require("emoji")
        try await world.addReaction(
            raw.removingPercentEncoding ?? raw,
            channelId: try context.parameters.require("channelId"),
            messageId: try context.parameters.require("messageId")
        )
        return Response(status: .noContent)
    }

    private func guild(_ context: BasicRequestContext) async throws -> Response {
        guard let guild = await world.guild(try context.parameters.require("guildId")) else {
            throw DiscordAPIError.unknownGuild
        }
        return try Response.json(guild)
    }

    private func guildChannels(_ context: BasicRequestContext) async throws -> Response {
        guard let channels = await world.guildChannels(try context.parameters.require("guildId")) else {
            throw DiscordAPIError.unknownGuild
        }
        return try Response.json(channels)
    }

    private func createChannel(_ request: Request, _ context: BasicRequestContext) async throws -> Response {
        let guildId = try context.parameters.require("guildId")
        let body = try await request.decodeJSON(CreateChannelRequest.self)
        return try Response.json(try await world.createChannel(in: guildId, body), status: .created)
    }
}
