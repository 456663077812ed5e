import Foundation
import Logging
import Shared

/// Posts one message to Discord within the shared rate limits, waiting out 429s and retrying
/// 5xx and network failures with backoff and jitter; a 4xx other than 429 is final.
struct ReplyPoster: Sendable {
    enum Result: Equatable {
        case posted
        case rejected(status: Int, body: String)
        case cancelled
    }

    static let route = "POST /channels/{channel.id}/messages"

    let rest: DiscordREST
    let limiter: SharedRateLimiter
    let dryRun: Bool
    let logger: Logger

    func post(_ message: MessageCreate, to channelID: String) async -> Result {
        if dryRun {
            logger.notice("DRY_RUN: would post to channel \(channelID): \(message.content.prefix(120))", metadata: ["characters": "\(message.content.count)"])
            return .posted
        }
        var backoff = Backoff(base: .milliseconds(250), cap: .seconds(30))
        while !Task.isCancelled {
            guard let reservation = await limiter.acquire(route: Self.route, major: channelID) else { break }
            let response: HTTPResponse
            do {
                response = try await rest.createMessage(channelID: channelID, message)
            } catch {
                let delay = backoff.next()
                logger.warning("posting to channel \(channelID) failed: \(error); retrying in \(delay)")
                try? await Task.sleep(for: delay)
                continue
            }
            let info = RateLimitInfo(headers: response.headers, body: try? JSON.decode(JSONValue.self, from: response.body))
            await limiter.record(route: Self.route, major: channelID, reservation: reservation, status: response.status, info: info)
            switch response.status {
            case 200..<300:
                return .posted
            case 429:
                logger.warning("rate limited posting to channel \(channelID) (scope \(info.scope ?? (info.global ? "global" : "unknown"))); retrying after \(info.retryAfter ?? 0)s")
            case 500...:
                let delay = backoff.next()
                logger.warning("Discord answered \(response.status) posting to channel \(channelID); retrying in \(delay)")
                try? await Task.sleep(for: delay)
            default:
                return .rejected(status: response.status, body: String(response.bodyText.prefix(1000)))
            }
        }
        return .cancelled
    }
}
