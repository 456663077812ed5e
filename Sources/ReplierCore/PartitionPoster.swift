import Foundation
import Logging
import Shared

/// Step 2 of the reply path: posts the routed replies of one partition, in order, each split
/// into Discord-sized messages with deterministic nonces. Acknowledged only after Discord
/// accepted every part.
struct PartitionPoster: Sendable {
    let keys: BusKeys
    let redis: RedisClient
    let poster: ReplyPoster
    /// `PING_ASKER`: the first part of a reply pings the asker (and nobody else).
    let pingAsker: Bool
    let stats: BusStats
    let logger: Logger
    let splitter = ReplySplitter()

    func post(_ entry: StreamEntry) async -> ConsumeOutcome {
        guard let reply = RoutedReply(fields: entry.fields) else {
            return .deadLetter(reason: "unreadable routed reply (needs source_entry, channel_id, text)")
        }
        let chunks = splitter.split(reply.text)
        let reference = reply.replyTo.isEmpty ? nil : MessageCreate.MessageReference(messageID: reply.replyTo, channelID: reply.channelID)
        for (index, chunk) in chunks.enumerated() {
            let message = MessageCreate(
                content: chunk,
                nonce: ReplyNonce.make(stream: keys.replyInbox, entryID: reply.sourceEntry, chunk: index),
                // Only the first part is a reply, so the asker is pinged once.
                messageReference: index == 0 ? reference : nil,
                allowedMentions: .init(repliedUser: pingAsker && index == 0 && reference != nil)
            )
            switch await poster.post(message, to: reply.channelID) {
            case .posted:
                continue
            case .cancelled:
                return .leavePending  // the nonce stops a double post when it is retried
            case .rejected(let status, let body):
                await stats.bump(.repliesRejected)
                return .deadLetter(reason: "Discord refused part \(index + 1)/\(chunks.count) to channel \(reply.channelID) with \(status): \(body)")
            }
        }
        logger.debug("posted reply \(reply.sourceEntry) to channel \(reply.channelID)", metadata: ["parts": "\(chunks.count)", "from": "\(reply.from)"])
        // One round trip: the counter, and the request no longer waits for an unanswered notice.
        var bookkeeping = [stats.bumpRequest(.repliesPosted)]
        if !reply.requestID.isEmpty {
            bookkeeping.append(ZREM(keys.unanswered, members: [reply.requestID]).request)
            bookkeeping.append(ZREM(keys.typing, members: [reply.requestID]).request)
        }
        _ = try? await redis.pipeline(bookkeeping)
        return .ack
    }
}
