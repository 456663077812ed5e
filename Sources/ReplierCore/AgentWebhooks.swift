import Foundation
import Logging
import Shared

/// `AGENT_IDENTITY=webhook` (CONTRACT section 8): each agent posts under its own name through one
/// webhook per channel, which the connector creates once and keeps in `discord:webhooks`
/// (recreated when Discord no longer knows it: 10015 Unknown Webhook).
struct AgentWebhooks: Sendable {
    let discord: DiscordClient
    let redis: RedisClient
    let keys: BusKeys
    let avatars: [String: String]
    let logger: Logger

    /// The name the connector's webhooks carry in a channel's integrations.
    static let webhookName = "Mumega agents"

    struct Webhook: Codable, Sendable, Equatable {
        var id: String
        var token: String
    }

    /// The body of a webhook execute.
    struct Message: Encodable, Sendable {
        var content: String
        var username: String
        var avatarURL: String?
        var allowedMentions: MessageCreate.AllowedMentions
        var components: [JSONValue]?

        enum CodingKeys: String, CodingKey {
            case content, username, components
            case avatarURL = "avatar_url"
            case allowedMentions = "allowed_mentions"
        }
    }

    /// Discord refuses webhook names with these in them, and names over 80 characters.
    static func isUsable(username: String) -> Bool {
        let lowered = username.lowercased()
        return !username.isEmpty && username.count <= 80 && !lowered.contains("discord") && !lowered.contains("clyde")
    }

    enum Outcome: Error, Equatable {
        case posted(messageID: String?)
        /// Not possible here (no webhook can be made in this channel, a name Discord refuses):
        /// post as the bot instead.
        case unavailable(String)
        case cancelled
        case rejected(status: Int, body: String, code: Int?)
    }

    /// Posts `content` as `agent` in `channelID` (a thread: through its parent's webhook).
    func post(_ content: String, as agent: String, channel channelID: String, parent: String, components: [JSONValue]?, files: [DiscordFile], allowedMentions: MessageCreate.AllowedMentions) async -> Outcome {
        guard Self.isUsable(username: agent) else { return .unavailable("Discord refuses '\(agent)' as a webhook name") }
        let webhookChannel = parent.isEmpty ? channelID : parent
        let message = Message(content: content, username: agent, avatarURL: avatars[agent], allowedMentions: allowedMentions, components: components)
        for attempt in 0..<2 {
            let webhook: Webhook
            switch await self.webhook(for: webhookChannel, fresh: attempt > 0) {
            case .success(let found): webhook = found
            case .failure(let outcome): return outcome
            }
            do {
                struct Posted: Decodable { var id: String }
                let endpoint = DiscordEndpoint.executeWebhook(id: webhook.id, token: webhook.token, threadID: parent.isEmpty ? nil : channelID, message, files: files)
                let posted = try await discord.perform(endpoint, retries: .untilCancelled, as: Posted.self)
                return .posted(messageID: posted.id)
            } catch {
                switch error {
                case .rejected(let refusal) where refusal.code == 10015 && attempt == 0:
                    logger.notice("the webhook of channel \(webhookChannel) is gone (deleted in Discord); making a new one")
                    _ = try? await redis.run(HDEL(keys.webhooks, fields: [webhookChannel]))
                case .rejected(let refusal): return .rejected(status: refusal.status, body: refusal.body, code: refusal.code)
                case .cancelled, .gaveUp: return .cancelled
                case .invalidBody(let problem), .undecodable(let problem): return .rejected(status: 0, body: problem, code: nil)
                }
            }
        }
        return .unavailable("the webhook of channel \(webhookChannel) vanished twice")
    }

    /// The channel's webhook: kept in Redis, else one of ours Discord already has, else a new one.
    private func webhook(for channelID: String, fresh: Bool) async -> Result<Webhook, Outcome> {
        if !fresh, let kept = try? await redis.run(HGET(keys.webhooks, field: channelID)), let webhook = try? JSON.decode(Webhook.self, from: kept) {
            return .success(webhook)
        }
        struct Listed: Decodable {
            var id: String
            var token: String?
            var name: String?
        }
        do {
            let existing = try await discord.perform(.channelWebhooks(channelID), retries: .untilCancelled, as: [Listed].self)
            let webhook: Webhook
            if !fresh, let ours = existing.first(where: { $0.name == Self.webhookName && $0.token != nil }), let token = ours.token {
                webhook = Webhook(id: ours.id, token: token)
            } else {
                let created = try await discord.perform(.createWebhook(channel: channelID, name: Self.webhookName), retries: .untilCancelled, as: Listed.self)
                guard let token = created.token else { return .failure(.unavailable("Discord created a webhook without a token")) }
                webhook = Webhook(id: created.id, token: token)
                logger.info("created the agents' webhook \(created.id) in channel \(channelID)")
            }
            if let encoded = try? JSON.encodeString(webhook) {
                _ = try? await redis.run(HSET(keys.webhooks, fields: [(channelID, encoded)]))
            }
            return .success(webhook)
        } catch {
            switch error {
            case .rejected(let refusal): return .failure(.unavailable("no webhook in channel \(channelID): \(refusal)"))
            case .cancelled, .gaveUp: return .failure(.cancelled)
            case .invalidBody(let problem), .undecodable(let problem): return .failure(.unavailable(problem))
            }
        }
    }
}
