import Foundation
import HTTPTypes
import Hummingbird

/// Channel webhook routes of REST v10: the bot manages them (bot-authenticated), anyone with
/// the token executes them (`POST /webhooks/{webhook.id}/{webhook.token}`, which shares its
/// path with the interaction webhook and is told apart by the id; see InteractionRoutes).
struct WebhookRoutes {
    let world: World

    func registerBotRoutes(on api: RouterGroup<BasicRequestContext>) {
        api.post("channels/{channelId}/webhooks") { request, context in
            let parsed: Result<CreateWebhookRequest, DiscordAPIError>
            do {
                parsed = .success(try await request.decodeJSON(CreateWebhookRequest.self))
            } catch let error as DiscordAPIError {
                parsed = .failure(error)
            }
            return try Response.json(try await world.createWebhook(channelId: try context.parameters.require("channelId"), body: parsed))
        }
        api.get("channels/{channelId}/webhooks") { _, context in
            try Response.json(try await world.channelWebhooks(channelId: try context.parameters.require("channelId")))
        }
        api.delete("webhooks/{webhookId}") { _, context in
            _ = try await world.deleteWebhook(try context.parameters.require("webhookId"))
            return Response(status: .noContent)
        }
    }

    /// Executes a channel webhook: JSON or multipart, like a bot create. `?wait=true` answers
    /// 200 with the message, otherwise 204.
    func execute(_ request: Request, webhookId: Snowflake, token: String) async throws -> Response {
        let receivedAt = Date()
        let query = request.uri.queryParameters
        let parsed = try await MessageUpload.read(request, maxUploadBytes: world.maxUploadBytes)
        let outcome = await world.executeWebhook(
            id: webhookId, token: token, threadId: query.get("thread_id"), request: parsed, receivedAt: receivedAt
        )
        switch outcome.result {
        case .success(let message):
            if query.get("wait") == "true" {
                return try Response.json(message, headers: outcome.rateLimitHeaders)
            }
            return Response(status: .noContent, headers: outcome.rateLimitHeaders)
        case .failure(var error):
            error.headers.append(contentsOf: outcome.rateLimitHeaders)
            throw error
        }
    }
}
