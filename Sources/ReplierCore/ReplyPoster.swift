import Foundation
import Logging
import Shared

/// Posts one message to Discord through `DiscordClient.perform` (which waits out 429s and
/// retries 5xx and network failures), or only logs it with `DRY_RUN=1`.
struct ReplyPoster: Sendable {
    enum Result: Equatable {
        case posted
        case rejected(status: Int, body: String, code: Int?)
        case cancelled
        /// The interaction's token no longer works (expired, or the interaction is unknown):
        /// post to the channel instead.
        case tokenGone
    }

    /// Discord's answers that mean an interaction token is no longer usable.
    static func isTokenGone(_ error: DiscordAPIError) -> Bool {
        [10015, 10062, 10008, 50027].contains(error.code ?? 0) || error.status == 401
    }

    /// Which message of an interaction's webhook a part goes to.
    enum WebhookTarget: Equatable {
        /// `@original`: the deferred response of a command, or after a click's deferred update
        /// the clicked message.
        case original
        case followUp
    }

    /// Answers an interaction through its webhook. Webhook messages take no nonce, so a
    /// follow-up retried after a lost answer can show twice; editing `@original` is idempotent.
    func answer(_ message: InteractionMessage, interaction: PendingContext.InteractionReply, target: WebhookTarget) async -> Result {
        if dryRun {
            logger.notice("DRY_RUN: would \(target == .original ? "edit the response of" : "follow up on") an interaction: \((message.content ?? "").prefix(120))")
            return .posted
        }
        let endpoint: DiscordEndpoint = target == .original
            ? .editOriginalResponse(applicationID: interaction.applicationID, token: interaction.token, message)
            : .followUp(applicationID: interaction.applicationID, token: interaction.token, message)
        return await perform(endpoint, tokenRoute: true)
    }

    /// Edits a message the bot posted (`update=1` once the interaction's token is gone).
    func edit(_ edit: MessageEdit, message messageID: String, in channelID: String) async -> Result {
        if dryRun {
            logger.notice("DRY_RUN: would edit message \(messageID) in channel \(channelID): \((edit.content ?? "").prefix(120))")
            return .posted
        }
        return await perform(.editMessage(channel: channelID, message: messageID, edit), tokenRoute: false)
    }

    /// Until Discord answers: the entry stays pending meanwhile, and a nonce (where the route
    /// has one) makes a repeat harmless.
    private func perform(_ endpoint: DiscordEndpoint, tokenRoute: Bool) async -> Result {
        do {
            _ = try await discord.perform(endpoint, retries: .untilCancelled)
            return .posted
        } catch {
            if case .rejected(let refusal) = error, tokenRoute, Self.isTokenGone(refusal) {
                logger.notice("the interaction's token no longer works (\(refusal)); posting to the channel instead")
            }
            return Self.result(of: error, tokenRoute: tokenRoute)
        }
    }

    private static func result(of error: DiscordFailure, tokenRoute: Bool) -> Result {
        switch error {
        case .rejected(let refusal) where tokenRoute && isTokenGone(refusal): return .tokenGone
        case .rejected(let refusal): return .rejected(status: refusal.status, body: refusal.body, code: refusal.code)
        case .cancelled, .gaveUp: return .cancelled
        case .invalidBody(let problem), .undecodable(let problem): return .rejected(status: 0, body: problem, code: nil)
        }
    }

    let discord: DiscordClient
    let dryRun: Bool
    let logger: Logger

    func post(_ message: MessageCreate, to channelID: String, files: [DiscordFile] = []) async -> Result {
        await create(message, to: channelID, files: files).result
    }

    /// The rate-limit records of posts not yet sent to Redis (`DiscordClient.takeDeferredRecords`).
    func takeDeferredRecords() -> [ScriptCall] { discord.takeDeferredRecords() }

    /// A reservation for the next post to `channelID`, to be made in the caller's bookkeeping
    /// round trip (`DiscordClient.prefetch`); nil with `DRY_RUN=1`.
    func prefetch(forPostTo channelID: String) -> SharedRateLimiter.Prefetch? {
        dryRun ? nil : discord.prefetch(for: .createMessage(channel: channelID, MessageCreate(content: "", allowedMentions: .init(repliedUser: false))))
    }

    func prefetched(_ prefetch: SharedRateLimiter.Prefetch, answer: RedisValue) {
        discord.prefetched(prefetch, answer: answer)
    }

    /// Posts a message and gives back its id (nil with `DRY_RUN=1`).
    func create(_ message: MessageCreate, to channelID: String, files: [DiscordFile] = []) async -> (result: Result, id: String?) {
        if dryRun {
            logger.notice("DRY_RUN: would post to channel \(channelID): \(message.content.prefix(120))", metadata: ["characters": "\(message.content.count)", "files": "\(files.count)"])
            return (.posted, nil)
        }
        do {
            let response = try await discord.perform(.createMessage(channel: channelID, message, files: files), retries: .untilCancelled, deferRecord: true)
            // Only the new message's id is needed: read it, not the whole message.
            let id = JSONScan.string(member: "id", in: response.body)
            if id == nil { logger.warning("Discord's answer to a post to channel \(channelID) has no message id: \(response.bodyText.prefix(200))") }
            return (.posted, id)
        } catch {
            return (Self.result(of: error, tokenRoute: false), nil)
        }
    }

    /// Adds a reaction (PUT: adding it twice is harmless).
    func react(_ emoji: String, to messageID: String, in channelID: String) async -> Result {
        if dryRun { return .posted }
        return await perform(.addReaction(channel: channelID, message: messageID, emoji: emoji), tokenRoute: false)
    }

    /// Deletes a message the bot posted; one already gone counts as deleted.
    func delete(_ messageID: String, in channelID: String) async -> Result {
        if dryRun { return .posted }
        let result = await perform(.deleteMessage(channel: channelID, message: messageID), tokenRoute: false)
        if case .rejected(let status, _, _) = result, status == 404 { return .posted }
        return result
    }
}
