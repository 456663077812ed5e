import Foundation
import Logging
import Shared

/// No silent drops: a request whose agent has not answered within `UNANSWERED_NOTICE_AFTER`
/// gets a short notice in its channel or thread, so the human knows the message was received
/// and is still waiting. Each due request is claimed with `ZREM`, so with several Replier
/// copies exactly one posts the notice; the notice's nonce makes a retried post harmless.
struct UnansweredNotices: Sendable {
    let redis: RedisClient
    let keys: BusKeys
    let poster: ReplyPoster
    let noticeAfter: Int
    let logger: Logger

    func run() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            let now = Int(Date().timeIntervalSince1970 * 1000)
            guard let due = try? await redis.send("ZRANGEBYSCORE", keys.unanswered, "-inf", String(now), "LIMIT", "0", "20").array else { continue }
            for requestID in due.compactMap(\.string) {
                // Whoever removes it posts it.
                guard (try? await redis.send("ZREM", keys.unanswered, requestID).int) == 1 else { continue }
                await notify(requestID)
            }
        }
    }

    private func notify(_ requestID: String) async {
        guard let fields = try? await redis.send("HGETALL", keys.pending(requestID)).fieldMap,
              let context = try? PendingContext(fields: fields) else { return }  // expired meanwhile
        let agent = context.agent.isEmpty ? "the agent" : context.agent
        let minutes = max(1, noticeAfter / 60)
        let message = MessageCreate(
            content: "No answer from \(agent) yet after \(minutes) minute\(minutes == 1 ? "" : "s"). Your message was received; a reply will still be posted here if it comes.",
            nonce: ReplyNonce.make(stream: "unanswered", entryID: requestID, chunk: 0),
            messageReference: .init(messageID: context.messageID, channelID: context.replyChannelID),
            allowedMentions: .init(repliedUser: false)
        )
        switch await poster.post(message, to: context.replyChannelID) {
        case .posted:
            logger.notice("posted an unanswered notice for request \(requestID)", metadata: ["agent": "\(agent)"])
            _ = try? await redis.send("HINCRBY", keys.stats, "unanswered_notices", "1")
            ConnectorMetrics.replierUnansweredNotices.increment()
        case .rejected(let status, let body):
            logger.warning("cannot post the unanswered notice for request \(requestID): \(status) \(body)")
        case .cancelled:
            // Stopping: put it back so another Replier (or the next run) posts it.
            _ = try? await redis.send("ZADD", keys.unanswered, "0", requestID)
        }
    }
}
