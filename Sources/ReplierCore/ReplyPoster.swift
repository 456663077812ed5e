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
