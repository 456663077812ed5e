import Foundation
import Logging
import Shared

/// Posts one message to Discord through `DiscordClient.perform` (which waits out 429s and
/// retries 5xx and network failures), or only logs it with `DRY_RUN=1`.
struct ReplyPoster: Sendable {
    enum Result: Equatable {
        case posted
        case rejected(status: Int, body: String)
        case cancelled
        /// The interaction's token no longer works (expired, or the interaction is unknown):
        /// post to the channel instead.
        case tokenGone
    }

    /// Discord's answers that mean an interaction token is no longer usable.
    static func isTokenGone(_ error: DiscordAPIError) -> Bool {
        [10015, 10062, 10008, 50027].contains(error.code ?? 0) || error.status == 401
    }

    /// Answers an interaction through its webhook: the first part of the first reply edits the
    /// deferred response, everything else is a follow-up. Webhook messages take no nonce, so a
    /// follow-up retried after a lost answer can show twice; editing `@original` is idempotent.
    func answer(_ content: String, interaction: PendingContext.InteractionReply, editOriginal: Bool) async -> Result {
        if dryRun {
            logger.notice("DRY_RUN: would \(editOriginal ? "edit the response of" : "follow up on") an interaction: \(content.prefix(120))")
            return .posted
        }
        let message = InteractionMessage(content: content)
        let endpoint: DiscordEndpoint = editOriginal
            ? .editOriginalResponse(applicationID: interaction.applicationID, token: interaction.token, message)
            : .followUp(applicationID: interaction.applicationID, token: interaction.token, message)
        do {
            _ = try await discord.perform(endpoint, retries: .untilCancelled)
            return .posted
        } catch {
            switch error {
            case .rejected(let refusal) where Self.isTokenGone(refusal):
                logger.notice("the interaction's token no longer works (\(refusal)); posting to the channel instead")
                return .tokenGone
            case .rejected(let refusal): return .rejected(status: refusal.status, body: refusal.body)
            case .cancelled, .gaveUp: return .cancelled
            case .invalidBody(let problem), .undecodable(let problem): return .rejected(status: 0, body: problem)
            }
        }
    }

    let discord: DiscordClient
    let dryRun: Bool
    let logger: Logger

    func post(_ message: MessageCreate, to channelID: String) async -> Result {
        if dryRun {
            logger.notice("DRY_RUN: would post to channel \(channelID): \(message.content.prefix(120))", metadata: ["characters": "\(message.content.count)"])
            return .posted
        }
        do {
            // Until Discord answers: the entry stays pending meanwhile, and its nonce makes a
            // repeat harmless.
            _ = try await discord.perform(.createMessage(channel: channelID, message), retries: .untilCancelled)
            return .posted
        } catch {
            switch error {
            case .rejected(let refusal): return .rejected(status: refusal.status, body: refusal.body)
            case .cancelled, .gaveUp: return .cancelled
            case .invalidBody(let problem), .undecodable(let problem): return .rejected(status: 0, body: problem)
            }
        }
    }
}
