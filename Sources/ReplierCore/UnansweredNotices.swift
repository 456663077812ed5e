import Foundation
import Logging
import ServiceLifecycle
import Shared

/// No silent drops: a request whose agent has not answered within `UNANSWERED_NOTICE_AFTER`
/// gets a short notice in its channel or thread, so the human knows the message was received
/// and is still waiting. Each due request is claimed with `ZREM`, so with several Replier
/// copies at most one posts the notice (none, if the claimer dies before posting: the notice
/// is a courtesy, and posting it twice would be worse than missing it); the notice's nonce
/// makes a retried post harmless.
struct UnansweredNotices: Service, CustomStringConvertible {
    let redis: RedisClient
    let keys: BusKeys
    let poster: ReplyPoster
    let noticeAfter: Int
    let stats: BusStats
    let logger: Logger
    var description: String { "UnansweredNotices" }

    /// Until cancelled or shut down; a notice being posted is finished first.
    func run() async {
        while !Task.isCancelled, !Task.isShuttingDownGracefully {
            try? await Task.sleep(for: .seconds(1))
            let now = Int(Date().timeIntervalSince1970 * 1000)
            guard let due = try? await redis.run(ZRANGEBYSCORE(keys.unanswered, max: now, limit: 20)) else { continue }
            for requestID in due {
                if Task.isShuttingDownGracefully { return }
                // Whoever removes it posts it.
                guard (try? await redis.run(ZREM(keys.unanswered, members: [requestID]))) == 1 else { continue }
                await notify(requestID)
            }
        }
    }

    private func notify(_ requestID: String) async {
        guard let fields = try? await redis.run(HGETALL(keys.pending(requestID))),
              let context = try? PendingContext(fields: fields) else { return }  // expired meanwhile
        let agent = context.agent.isEmpty ? "the agent" : context.agent
        let minutes = max(1, noticeAfter / 60)
        let message = MessageCreate(
            content: "No answer from \(agent) yet after \(minutes) minute\(minutes == 1 ? "" : "s"). Your message was received; a reply will still be posted here if it comes.",
            nonce: ReplyNonce.make(stream: "unanswered", entryID: requestID, chunk: 0),
            messageReference: context.kind == .command ? nil : .init(messageID: context.messageID, channelID: context.replyChannelID),
            allowedMentions: .init(repliedUser: false)
        )
        switch await poster.post(message, to: context.replyChannelID) {
        case .posted:
            logger.notice("posted an unanswered notice for request \(requestID)", metadata: ["agent": "\(agent)"])
            await stats.bump(.unansweredNotices)
        case .rejected(let status, let body, _):
            logger.warning("cannot post the unanswered notice for request \(requestID): \(status) \(body)")
        case .tokenGone:
            break  // channel posts take no interaction token
        case .cancelled:
            // Stopping: put it back so another Replier (or the next run) posts it.
            _ = try? await redis.run(ZADD(keys.unanswered, score: 0, member: requestID))
        }
    }
}
