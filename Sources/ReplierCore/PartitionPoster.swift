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
    /// `MAX_UPLOAD_BYTES`: the most bytes of files one record uploads.
    let maxUploadBytes: Int
    /// `PENDING_TTL`: how long the connector remembers which agent posted a message.
    let postedTTL: Int
    /// `AGENT_IDENTITY=webhook`: agents post under their own names; nil posts as the bot.
    let webhooks: AgentWebhooks?
    let stats: BusStats
    let logger: Logger
    let splitter = ReplySplitter()

    /// Posts one routed reply. `next`: the entry posted after it, whose first send (when it is a
    /// plain post) is reserved in this one's bookkeeping round trip instead of one of its own.
    func post(_ entry: StreamEntry, next: StreamEntry? = nil) async -> ConsumeOutcome {
        guard let reply = RoutedReply(fields: entry.fields) else {
            return .deadLetter(reason: "unreadable routed reply (needs source_entry, channel_id, text)")
        }
        // Permanent refusals after which the rest was still posted (a reaction, files): the
        // record then goes to the dead letters with them, once everything else is out.
        var problems: [String] = []
        if let emoji = reply.react, !reply.reactTo.isEmpty {
            switch await poster.react(emoji, to: reply.reactTo, in: reply.reactChannel) {
            case .posted, .tokenGone: break
            case .cancelled: return .leavePending
            case .rejected(let status, let body, _): problems.append("Discord refused the reaction \(emoji) with \(status): \(body)")
            }
        }
        if reply.progress { return await postProgress(reply, problems: problems) }
        var files = reply.files
        var unattached: [String] = []
        let uploadBytes = files.reduce(0) { $0 + $1.data.count }
        if uploadBytes > maxUploadBytes {
            unattached = files.map { "(\($0.filename), \($0.data.count) bytes, is not attached: the files are over MAX_UPLOAD_BYTES=\(maxUploadBytes))" }
            problems.append("files of \(uploadBytes) bytes are over MAX_UPLOAD_BYTES=\(maxUploadBytes): \(files.map(\.filename).joined(separator: ", "))")
            files = []
        }
        // A reply without text still posts its components or files, or (update=1) changes only the buttons.
        // An answer to an interaction goes through its token while the token lives (with a
        // minute's margin for the posting itself), then as ordinary channel messages.
        let now = Int(Date().timeIntervalSince1970 * 1000)
        var interaction = reply.interaction.flatMap { now < $0.expiresAtMilliseconds - 60_000 ? $0 : nil }
        // Under the agent's own name a post cannot be a Discord reply: it names the asker instead.
        let asAgent = webhooks != nil && !reply.from.isEmpty && interaction == nil && reply.updates.isEmpty
        let namesAsker = asAgent && !reply.replyTo.isEmpty && !reply.asker.isEmpty
        var chunks = splitter.split((namesAsker ? "<@\(reply.asker)> " : "") + reply.text)
        if chunks.isEmpty { chunks = [""] }
        let reference = reply.replyTo.isEmpty ? nil : MessageCreate.MessageReference(messageID: reply.replyTo, channelID: reply.channelID)
        var first = 0
        if !reply.updates.isEmpty {
            // update=1: the first part edits the clicked message, its components replacing the
            // old ones (none given: the buttons are removed); the rest follow as usual.
            let edit = MessageEdit(content: chunks[0].isEmpty ? nil : chunks[0], components: reply.components ?? [])
            if let outcome = await update(with: edit, reply, interaction: &interaction) { return outcome }
            first = 1
        }
        if !unattached.isEmpty { chunks[0] = Self.withLines(chunks[0], unattached) }
        // The messages this reply became, remembered for people's Discord replies to them.
        var posted: [String] = []
        for index in chunks.indices.dropFirst(first) {
            let chunk = chunks[index]
            // Components go under the last part, unless they went on the updated message.
            let components = reply.updates.isEmpty && index == chunks.count - 1 ? reply.components : nil
            // Files go with the first part (for an interaction's answer, in a message of their own below).
            let partFiles = index == 0 && interaction == nil ? files : []
            if chunk.isEmpty, components == nil, partFiles.isEmpty { continue }
            if let current = interaction {
                let message = InteractionMessage(content: chunk, components: components)
                switch await poster.answer(message, interaction: current, target: index == 0 && reply.editsOriginal ? .original : .followUp) {
                case .posted:
                    continue
                case .tokenGone:
                    interaction = nil
                case .cancelled:
                    return .leavePending
                case .rejected(let status, let body, _):
                    await stats.bump(.repliesRejected)
                    return .deadLetter(reason: "Discord refused part \(index + 1)/\(chunks.count) of an interaction answer with \(status): \(body)")
                }
            }
            if asAgent, let webhooks {
                let mentions = MessageCreate.AllowedMentions(repliedUser: false, users: namesAsker && index == 0 && pingAsker ? [reply.asker] : [])
                switch await webhooks.post(chunk, as: reply.from, channel: reply.channelID, parent: reply.parentChannel, components: components, files: partFiles, allowedMentions: mentions) {
                case .posted(let id):
                    if let id { posted.append(id) }
                    continue
                case .cancelled:
                    return .leavePending
                case .unavailable(let reason):
                    logger.notice("posting reply \(reply.sourceEntry) as the bot: \(reason)")
                case .rejected(let status, let body, let code):
                    if !(status == 413 || code == 40005) {
                        await stats.bump(.repliesRejected)
                        return .deadLetter(reason: "Discord refused part \(index + 1)/\(chunks.count) through the webhook of channel \(reply.parentChannel.isEmpty ? reply.channelID : reply.parentChannel) with \(status): \(body)")
                    }
                }
            }
            let message = MessageCreate(
                content: chunk,
                nonce: ReplyNonce.make(stream: reply.nonceStream(connectorInbox: keys.replyInbox), entryID: reply.sourceEntry, chunk: index),
                // Only the first part is a reply, so the asker is pinged once.
                messageReference: index == 0 ? reference : nil,
                allowedMentions: .init(repliedUser: pingAsker && index == 0 && reference != nil),
                components: components
            )
            var (result, postedID) = await poster.create(message, to: reply.channelID, files: partFiles)
            if case .rejected(let status, let body, let code) = result, !partFiles.isEmpty, status == 413 || code == 40005 {
                // Discord's own limit: the text goes out anyway, saying which files did not.
                problems.append("Discord refused the files as too large (\(status)): \(partFiles.map(\.filename).joined(separator: ", ")): \(body.prefix(200))")
                var textOnly = message
                textOnly.content = Self.withLines(chunk, partFiles.map { "(\($0.filename), \($0.data.count) bytes, is not attached: Discord refused it as too large)" })
                (result, postedID) = await poster.create(textOnly, to: reply.channelID)
            }
            switch result {
            case .posted:
                if let postedID { posted.append(postedID) }
                continue
            case .cancelled:
                return .leavePending  // the nonce stops a double post when it is retried
            case .rejected(let status, let body, _):
                await stats.bump(.repliesRejected)
                return .deadLetter(reason: "Discord refused part \(index + 1)/\(chunks.count) to channel \(reply.channelID) with \(status): \(body)")
            case .tokenGone:
                return .deadLetter(reason: "unexpected answer posting to channel \(reply.channelID)")
            }
        }
        if interaction != nil, !files.isEmpty {
            // Interaction webhooks take the text; the files follow in the channel.
            let message = MessageCreate(content: "", nonce: ReplyNonce.make(stream: reply.nonceStream(connectorInbox: keys.replyInbox), entryID: reply.sourceEntry, chunk: chunks.count), allowedMentions: .init(repliedUser: false))
            switch await poster.post(message, to: reply.channelID, files: files) {
            case .posted, .tokenGone: break
            case .cancelled: return .leavePending
            case .rejected(let status, let body, _): problems.append("Discord refused the files with \(status): \(body.prefix(200))")
            }
        }
        logger.debug("posted reply \(reply.sourceEntry) to channel \(reply.channelID)", metadata: ["parts": "\(chunks.count)", "from": "\(reply.from)"])
        // One round trip: the counter, the request no longer waits for an unanswered notice, and
        // whether it has a status message to remove now that a real answer is out.
        // The rate limiter's record of the last post goes in the same round trip.
        // And the next reply's reservation, when it is a plain post.
        let records = poster.takeDeferredRecords()
        var bookkeeping = records.map(\.request) + [stats.bumpRequest(.repliesPosted)]
        if !reply.from.isEmpty {
            bookkeeping += posted.map { SET(keys.postedBy($0), RedisBytes(reply.from), expireMilliseconds: postedTTL * 1000).request }
        }
        var statusIndex: Int?
        if !reply.requestID.isEmpty {
            bookkeeping.append(ZREM(keys.unanswered, members: [reply.requestID]).request)
            bookkeeping.append(ZREM(keys.typing, members: [reply.requestID]).request)
            statusIndex = bookkeeping.count
            bookkeeping.append(HGET(keys.pending(reply.requestID), field: PendingContext.ReplierField.progressMessage).request)
        }
        let prefetch = next.flatMap(plainPostChannel).flatMap { poster.prefetch(forPostTo: $0) }
        if let prefetch { bookkeeping.append(prefetch.call.request) }
        let answers = (try? await redis.pipeline(bookkeeping)) ?? []
        for (index, record) in records.enumerated() where answers.count <= index || answers[index].isError {
            _ = try? await redis.run(record)  // NOSCRIPT after a Redis restart, or the pipeline failed
        }
        if let prefetch, answers.count == bookkeeping.count, let answer = answers.last { poster.prefetched(prefetch, answer: answer) }
        if let statusIndex, answers.indices.contains(statusIndex), let status = answers[statusIndex].string, !status.isEmpty {
            if await poster.delete(status, in: reply.channelID) == .cancelled { return .leavePending }
            _ = try? await redis.run(HDEL(keys.pending(reply.requestID), fields: [PendingContext.ReplierField.progressMessage, PendingContext.ReplierField.progressEditedAt]))
        }
        return finish(problems)
    }

    /// The channel of a routed reply whose first send is a plain `POST .../messages` as the bot
    /// (no reaction, status, update, interaction answer or agent's webhook before it); else nil.
    func plainPostChannel(_ entry: StreamEntry) -> String? {
        guard let reply = RoutedReply(fields: entry.fields), reply.react == nil || reply.reactTo.isEmpty, !reply.progress,
              reply.updates.isEmpty, reply.interaction == nil, webhooks == nil || reply.from.isEmpty else { return nil }
        return reply.channelID
    }

    /// Acknowledged, or dead-lettered with what was refused on the way.
    private func finish(_ problems: [String]) -> ConsumeOutcome {
        guard !problems.isEmpty else { return .ack }
        return .deadLetter(reason: problems.joined(separator: "; "))
    }

    /// `text` with `lines` under it, within Discord's limit.
    static func withLines(_ text: String, _ lines: [String]) -> String {
        String(([text].filter { !$0.isEmpty } + lines).joined(separator: "\n").prefix(ReplySplitter.discordLimit))
    }

    /// `progress=1`: the request's status message, posted once and then edited in place, at
    /// most once a second (a newer status waits out the second, then wins). Its id is kept in
    /// the pending context, so every Replier copy and restart edits the same message.
    private func postProgress(_ reply: RoutedReply, problems: [String]) async -> ConsumeOutcome {
        var problems = problems
        let text = splitter.split(reply.text).first ?? ""
        guard !text.isEmpty, !reply.requestID.isEmpty else { return finish(problems) }
        let key = keys.pending(reply.requestID)
        let state: StreamFields
        do {
            guard let loaded = try await RedisClient.retrying(logger: logger, what: "loading the status of \(reply.requestID)", { () throws(RedisError) in
                try await redis.run(HGETALL(key))
            }) else { return .leavePending }
            state = loaded
        } catch {
            return .deadLetter(reason: "cannot load the status of \(reply.requestID): \(error)")
        }
        let now = { Int(Date().timeIntervalSince1970 * 1000) }
        if let status = state[PendingContext.ReplierField.progressMessage], !status.isEmpty {
            let wait = (Int(state[PendingContext.ReplierField.progressEditedAt] ?? "") ?? 0) + Self.progressInterval - now()
            if wait > 0 { try? await Task.sleep(for: .milliseconds(wait)) }
            switch await poster.edit(MessageEdit(content: text), message: status, in: reply.channelID) {
            case .posted, .tokenGone:
                _ = try? await redis.run(HSET(key, fields: [(PendingContext.ReplierField.progressEditedAt, String(now()))]))
                return finish(problems)
            case .cancelled:
                return .leavePending
            case .rejected(_, _, let code) where code == 10008:
                logger.notice("the status message of \(reply.requestID) was deleted; posting a new one")
            case .rejected(let status, let body, _):
                problems.append("Discord refused the status edit with \(status): \(body.prefix(200))")
                return finish(problems)
            }
        }
        let reference = reply.replyTo.isEmpty ? nil : MessageCreate.MessageReference(messageID: reply.replyTo, channelID: reply.channelID)
        let message = MessageCreate(
            content: text, nonce: ReplyNonce.make(stream: reply.nonceStream(connectorInbox: keys.replyInbox), entryID: reply.sourceEntry, chunk: 0),
            messageReference: reference, allowedMentions: .init(repliedUser: false)
        )
        let (result, id) = await poster.create(message, to: reply.channelID)
        switch result {
        case .posted, .tokenGone:
            if let id {
                _ = try? await redis.pipeline([
                    HSET(key, fields: [(PendingContext.ReplierField.progressMessage, id), (PendingContext.ReplierField.progressEditedAt, String(now()))]).request,
                    ZREM(keys.unanswered, members: [reply.requestID]).request,
                ])
            }
            return finish(problems)
        case .cancelled:
            return .leavePending
        case .rejected(let status, let body, _):
            await stats.bump(.repliesRejected)
            problems.append("Discord refused the status message with \(status): \(body.prefix(200))")
            return finish(problems)
        }
    }

    /// At most one edit of a status message per this many milliseconds.
    static let progressInterval = 1_000

    /// Edits the clicked message: through the interaction's token while it lives (`@original`
    /// is the clicked message after a deferred update), else as the bot's own message. Nil when
    /// done; else what to do with the entry.
    private func update(with edit: MessageEdit, _ reply: RoutedReply, interaction: inout PendingContext.InteractionReply?) async -> ConsumeOutcome? {
        if let current = interaction {
            switch await poster.answer(edit, interaction: current, target: .original) {
            case .posted: return nil
            case .tokenGone: interaction = nil
            case .cancelled: return .leavePending
            case .rejected(let status, let body, _):
                await stats.bump(.repliesRejected)
                return .deadLetter(reason: "Discord refused the update of message \(reply.updates) with \(status): \(body)")
            }
        }
        switch await poster.edit(edit, message: reply.updates, in: reply.channelID) {
        case .posted, .tokenGone: return nil
        case .cancelled: return .leavePending
        case .rejected(let status, let body, _):
            await stats.bump(.repliesRejected)
            return .deadLetter(reason: "Discord refused the update of message \(reply.updates) in channel \(reply.channelID) with \(status): \(body)")
        }
    }
}
