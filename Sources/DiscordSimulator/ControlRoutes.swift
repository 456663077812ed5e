import HTTPTypes
import Hummingbird

/// Body of `POST /_sim/messages`: a message typed by someone other than the bot.
struct InjectMessageRequest: Decodable, Sendable {
    var channelId: Snowflake?
    var content: String?
    /// Defaults to the human user, alice.
    var authorId: Snowflake?
    /// Prepends `<@bot> ` to the content, so the bot is mentioned like a user would do it.
    var mentionBot: Bool?
    /// Makes other-bot the author, for testing that the connector ignores bots.
    var authorBot: Bool?
    /// Id of a message in the same channel to reply to.
    var replyTo: Snowflake?
    /// Files on the message, served at their attachment `url` like bot uploads.
    var attachments: [InjectedFile]?
}

/// An `attachments` entry of `POST /_sim/messages`.
struct InjectedFile: Decodable, Sendable {
    var filename: String?
    var contentType: String?
    var dataBase64: String?
}

/// Test and development hooks under `/_sim`: inject traffic, inspect what the bot did,
/// and provoke gateway and REST failures. No authentication; JSON in and out.
struct ControlRoutes {
    let world: World

    private struct Posts: Encodable {
        let posts: [BotPost]
    }

    private struct Interactions: Encodable {
        let interactions: [InteractionSummary]
    }

    private struct Callbacks: Encodable {
        let callbacks: [InteractionCallbackRecord]
    }

    private struct Expired: Encodable {
        let id: Snowflake
        let expired: Bool
    }

    private struct VerifyKey: Encodable {
        let verifyKey: String
    }

    private struct EndpointURL: Encodable {
        let url: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(url, forKey: .url)
        }

        private enum CodingKeys: String, CodingKey { case url }
    }

    private struct Threads: Encodable {
        let threads: [ThreadRecord]
    }

    private struct Reactions: Encodable {
        let reactions: [Feedback.Reaction]
    }

    private struct Webhooks: Encodable {
        let webhooks: [ChannelWebhook]
    }

    private struct PostCount: Encodable {
        let count: Int
    }

    private struct Batch: Decodable {
        let messages: [InjectMessageRequest]
    }

    private struct BatchResult: Encodable {
        let count: Int
        let ids: [Snowflake]
        let dispatchedAtUs: [Int64]
    }

    /// Batches of 10k+ messages are far above the 1 MiB other bodies may have.
    private static let maxBatchSize = 64 << 20

    /// How many open gateway connections a control action reached.
    private struct ConnectionsAffected: Encodable {
        let connections: Int
    }

    private struct FaultsRequest: Decodable {
        var messageCreate: [Int]?
        /// Answer with an HTML page instead of Discord's JSON error.
        var html: Bool?
    }

    private struct PendingFaults: Encodable {
        let messageCreate: [Int]
    }

    func register(on router: Router<BasicRequestContext>) {
        let sim = router.group("_sim")

        sim.post("messages") { request, _ in
            // Room for base64 attachments up to `--max-upload-bytes`.
            let body = try await request.decodeJSON(InjectMessageRequest.self, maxSize: Self.maxBatchSize)
            return try Response.json(try await world.injectMessage(body), status: .created)
        }

        sim.post("messages/batch") { request, _ in
            let batch = try await request.decodeJSON(Batch.self, maxSize: Self.maxBatchSize)
            let injected = try await world.injectMessages(batch.messages)
            return try Response.json(
                BatchResult(count: injected.count, ids: injected.map(\.message.id), dispatchedAtUs: injected.map(\.dispatchedAtUs)),
                status: .created
            )
        }

        sim.get("posts") { request, _ in
            let parameters = request.uri.queryParameters
            var query = PostQuery(channelId: parameters.get("channel_id"), after: parameters.get("after"))
            if let raw = parameters.get("after_index") {
                guard let index = Int(raw), index >= 0 else {
                    throw DiscordAPIError(status: .badRequest, body: .init(message: "after_index must be an integer >= 0, got '\(raw)'", code: 0))
                }
                query.fromIndex = index
            }
            // Benchmarks poll this while posts pile up: counting needs no copy and no encoding.
            if parameters.get("summary") == "1" {
                return try Response.json(PostCount(count: await world.botPostCount(query)))
            }
            return try Response.json(Posts(posts: await world.botPosts(query)))
        }

        sim.post("gateway/reconnect") { _, _ in
            try Response.json(ConnectionsAffected(connections: await world.sendReconnect()))
        }

        sim.post("gateway/invalidate") { request, _ in
            let resumable = request.uri.queryParameters.get("resumable") == "true"
            return try Response.json(ConnectionsAffected(connections: await world.invalidateSessions(resumable: resumable)))
        }

        sim.post("gateway/close") { request, _ in
            let raw = request.uri.queryParameters.get("code") ?? "4000"
            // 1000-4999 are the codes a close frame may legally carry.
            guard let code = UInt16(raw), (1000...4999).contains(code) else {
                throw DiscordAPIError(status: .badRequest, body: .init(message: "code must be 1000-4999, got '\(raw)'", code: 0))
            }
            return try Response.json(ConnectionsAffected(connections: await world.closeConnections(code: code)))
        }

        sim.post("sessions/expire") { _, _ in
            try Response.json(["sessions": await world.expireSessions()])
        }

        sim.post("faults") { request, _ in
            let faults = try await request.decodeJSON(FaultsRequest.self)
            let statuses = faults.messageCreate ?? []
            guard statuses.allSatisfy({ (400...599).contains($0) }) else {
                throw DiscordAPIError(status: .badRequest, body: .init(message: "fault statuses must be 400-599", code: 0))
            }
            return try Response.json(PendingFaults(messageCreate: await world.queueMessageCreateFaults(statuses, html: faults.html ?? false)))
        }

        sim.post("gateway/raw") { request, _ in
            // The body, byte for byte, as one text frame: for testing how clients take bad frames.
            let buffer = try await request.body.collect(upTo: 8 << 20)
            return try Response.json(ConnectionsAffected(connections: await world.sendRaw(String(buffer: buffer))))
        }

        sim.get("feedback") { _, _ in
            try Response.json(await world.feedbackLog())
        }

        sim.get("threads") { _, _ in
            try Response.json(Threads(threads: await world.threadLog()))
        }

        sim.get("reactions") { _, _ in
            try Response.json(Reactions(reactions: await world.reactionLog()))
        }

        sim.get("webhooks") { _, _ in
            try Response.json(Webhooks(webhooks: await world.webhookList()))
        }

        // Deletes a webhook behind the bot's back: its executes then answer 10015.
        sim.delete("webhooks/{webhookId}") { _, context in
            try Response.json(try await world.deleteWebhook(try context.parameters.require("webhookId")))
        }

        sim.delete("channels/{channelId}") { _, context in
            guard let channel = await world.deleteChannel(try context.parameters.require("channelId")) else {
                throw DiscordAPIError.unknownChannel
            }
            return try Response.json(channel)
        }

        sim.post("interactions") { request, _ in
            let body = try await request.decodeJSON(CreateInteractionRequest.self)
            return try Response.json(await deliverOverHTTP(try await world.createInteraction(body)), status: .created)
        }

        sim.post("messages/{messageId}/click") { request, context in
            let body = try await request.decodeJSON(ClickRequest.self)
            let created = try await world.click(messageId: try context.parameters.require("messageId"), body)
            return try Response.json(await deliverOverHTTP(created), status: .created)
        }

        sim.put("interactions/endpoint") { request, _ in
            let body = try await request.decodeJSON(EndpointURLRequest.self)
            return try Response.json(EndpointURL(url: try await world.setInteractionsEndpoint(body.url ?? "")))
        }

        sim.get("application") { _, _ in
            try Response.json(VerifyKey(verifyKey: await world.verifyKey))
        }

        sim.get("interactions") { _, _ in
            try Response.json(Interactions(interactions: await world.interactionSummaries()))
        }

        // `?interaction_id=` keeps one interaction's callbacks (the bench polls with it).
        sim.get("interactions/callbacks") { request, _ in
            var callbacks = await world.interactionCallbackLog()
            if let id = request.uri.queryParameters.get("interaction_id") {
                callbacks = callbacks.filter { $0.interactionId == id }
            }
            return try Response.json(Callbacks(callbacks: callbacks))
        }

        sim.post("interactions/{interactionId}/expire") { _, context in
            let id = try context.parameters.require("interactionId")
            guard await world.expireInteraction(id) else { throw DiscordAPIError.unknownInteraction }
            return try Response.json(Expired(id: id, expired: true))
        }

        sim.get("stats") { _, _ in
            try Response.json(await world.statistics())
        }

        sim.post("reset") { _, _ in
            await world.reset()
            return Response(status: .noContent)
        }
    }

    /// For `deliver: http`: POSTs the interaction to the endpoint, outside the world's actor so
    /// the endpoint may call the simulator meanwhile, and applies its answer as the callback.
    private func deliverOverHTTP(_ created: CreatedInteraction) async -> CreatedInteraction {
        guard let outgoing = created.outgoing else { return created }
        let answer = await EndpointDelivery.send(outgoing)
        var delivered = created
        delivered.httpDelivery = await world.applyEndpointAnswer(answer, to: outgoing)
        return delivered
    }
}
