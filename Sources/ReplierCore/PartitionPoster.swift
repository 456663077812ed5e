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
        // A reply without text still posts its components, or (update=1) changes only the buttons.
        var chunks = splitter.split(reply.text)
        if chunks.isEmpty { chunks = [""] }
        let reference = reply.replyTo.isEmpty ? nil : MessageCreate.MessageReference(messageID: reply.replyTo, channelID: reply.channelID)
        // An answer to an interaction goes through its token while the token lives (with a
        // minute's margin for the posting itself), then as ordinary channel messages.
        let now = Int(Date().timeIntervalSince1970 * 1000)
        var interaction = reply.interaction.flatMap { now < $0.expiresAtMilliseconds - 60_000 ? $0 : nil }
        var first = 0
        if !reply.updates.isEmpty {
            // update=1: the first part edits the clicked message, its components replacing the
            // old ones (none given: the buttons are removed); the rest follow as usual.
            let edit = MessageEdit(content: chunks[0].isEmpty ? nil : chunks[0], components: reply.components ?? [])
            if let outcome = await update(with: edit, reply, interaction: &interaction) { return outcome }
            first = 1
        }
        for index in chunks.indices.dropFirst(first) {
            let chunk = chunks[index]
            // Components go under the last part, unless they went on the updated message.
            let components = reply.updates.isEmpty && index == chunks.count - 1 ? reply.components : nil
            if chunk.isEmpty, components == nil { continue }
            if let current = interaction {
                let message = InteractionMessage(content: chunk, components: components)
                switch await poster.answer(message, interaction: current, target: index == 0 && reply.editsOriginal ? .original : .followUp) {
                case .posted:
                    continue
                case .tokenGone:
                    interaction = nil
                case .cancelled:
                    return .leavePending
                case .rejected(let status, let body):
                    await stats.bump(.repliesRejected)
                    return .deadLetter(reason: "Discord refused part \(index + 1)/\(chunks.count) of an interaction answer with \(status): \(body)")
                }
            }
            let message = MessageCreate(
                content: chunk,
                nonce: ReplyNonce.make(stream: keys.replyInbox, entryID: reply.sourceEntry, chunk: index),
                // Only the first part is a reply, so the asker is pinged once.
                messageReference: index == 0 ? reference : nil,
                allowedMentions: .init(repliedUser: pingAsker && index == 0 && reference != nil),
                components: components
            )
            switch await poster.post(message, to: reply.channelID) {
            case .posted:
                continue
            case .cancelled:
                return .leavePending  // the nonce stops a double post when it is retried
            case .rejected(let status, let body):
                await stats.bump(.repliesRejected)
                return .deadLetter(reason: "Discord refused part \(index + 1)/\(chunks.count) to channel \(reply.channelID) with \(status): \(body)")
            case .tokenGone:
                return .deadLetter(reason: "unexpected answer posting to channel \(reply.channelID)")
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

    /// Edits the clicked message: through the interaction's token while it lives (`@original`
    /// is the clicked message after a deferred update), else as the bot's own message. Nil when
    /// done; else what to do with the entry.
    private func update(with edit: MessageEdit, _ reply: RoutedReply, interaction: inout PendingContext.InteractionReply?) async -> ConsumeOutcome? {
        if let current = interaction {
            switch await poster.answer(edit, interaction: current, target: .original) {
            case .posted: return nil
            case .tokenGone: interaction = nil
            case .cancelled: return .leavePending
            case .rejected(let status, let body):
                await stats.bump(.repliesRejected)
                return .deadLetter(reason: "Discord refused the update of message \(reply.updates) with \(status): \(body)")
            }
        }
        switch await poster.edit(edit, message: reply.updates, in: reply.channelID) {
        case .posted, .tokenGone: return nil
        case .cancelled: return .leavePending
        case .rejected(let status, let body):
            await stats.bump(.repliesRejected)
            return .deadLetter(reason: "Discord refused the update of message \(reply.updates) in channel \(reply.channelID) with \(status): \(body)")
        }
    }
}
