import Foundation
import HTTPTypes
import Hummingbird

/// Interaction routes of REST v10. The callback and the interaction webhook are authenticated
/// by the interaction's token, as on Discord: no bot `Authorization`, and outside
/// `--global-limit`. Application commands are ordinary bot routes.
struct InteractionRoutes {
    let world: World

    /// Routes authenticated by the interaction token, registered on the bare router.
    func registerTokenRoutes(on router: Router<BasicRequestContext>) {
        router.post("api/v10/interactions/{interactionId}/{token}/callback") { request, context in
            let receivedAt = Date()
            let parsed = await Self.decode(InteractionCallbackRequest.self, request)
            let response = try await world.interactionCallback(
                id: try context.parameters.require("interactionId"),
                token: try context.parameters.require("token"),
                body: parsed,
                receivedAt: receivedAt
            )
            if request.uri.queryParameters.get("with_response") == "true" {
                return try Response.json(response)
            }
            return Response(status: .noContent)
        }

        // `{webhookId}` is the application id for interaction webhooks, or a channel webhook's
        // id (one name for both: the router needs one parameter name per path segment).
        router.post("api/v10/webhooks/{webhookId}/{token}") { request, context in
            let receivedAt = Date()
            let applicationId = try context.parameters.require("webhookId")
            // Any other id is a channel webhook's, on the same path.
            guard applicationId == Fixtures.botUser.id else {
                return try await WebhookRoutes(world: world).execute(request, webhookId: applicationId, token: try context.parameters.require("token"))
            }
            let parsed = await Self.decode(InteractionMessageBody.self, request)
            // Follow-ups always answer the message, as `?wait=true` asks.
            return try Response.json(try await world.createFollowup(
                applicationId: applicationId,
                token: try context.parameters.require("token"),
                body: parsed,
                receivedAt: receivedAt
            ))
        }

        // `{messageId}` is a message id or `@original`.
        router.get("api/v10/webhooks/{webhookId}/{token}/messages/{messageId}") { _, context in
            try Response.json(try await world.webhookMessage(
                applicationId: try context.parameters.require("webhookId"),
                token: try context.parameters.require("token"),
                messageId: try context.parameters.require("messageId")
            ))
        }

        router.patch("api/v10/webhooks/{webhookId}/{token}/messages/{messageId}") { request, context in
            let parsed = await Self.decode(InteractionMessageBody.self, request)
            return try Response.json(try await world.editWebhookMessage(
                applicationId: try context.parameters.require("webhookId"),
                token: try context.parameters.require("token"),
                messageId: try context.parameters.require("messageId"),
                body: parsed
            ))
        }
    }

    /// Application command routes, on the bot-authenticated group.
    func registerCommandRoutes(on api: RouterGroup<BasicRequestContext>) {
        api.get("applications/{applicationId}/commands") { _, context in
            try Response.json(try await world.applicationCommands(applicationId: try context.parameters.require("applicationId"), guildId: nil))
        }
        api.put("applications/{applicationId}/commands") { request, context in
            let parsed = await Self.decode([ApplicationCommand].self, request)
            return try Response.json(try await world.overwriteCommands(applicationId: try context.parameters.require("applicationId"), guildId: nil, parsed))
        }
        api.get("applications/{applicationId}/guilds/{guildId}/commands") { _, context in
            try Response.json(try await world.applicationCommands(
                applicationId: try context.parameters.require("applicationId"),
                guildId: try context.parameters.require("guildId")
            ))
        }
        api.put("applications/{applicationId}/guilds/{guildId}/commands") { request, context in
            let parsed = await Self.decode([ApplicationCommand].self, request)
            return try Response.json(try await world.overwriteCommands(
                applicationId: try context.parameters.require("applicationId"),
                guildId: try context.parameters.require("guildId"),
                parsed
            ))
        }
    }

    /// A JSON body, or the error it makes, for the world to report after its own checks
    /// (an unknown interaction is 10062 whatever its body).
    private static func decode<Value: Decodable & Sendable>(_ type: Value.Type, _ request: Request) async -> Result<Value, DiscordAPIError> {
        do {
            return .success(try await request.decodeJSON(type))
        } catch let error as DiscordAPIError {
            return .failure(error)
        } catch {
            return .failure(.invalidJSON)
        }
    }
}
