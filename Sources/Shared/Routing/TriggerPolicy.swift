import Foundation
/// Whether a Discord message triggers the connector, and as what (CONTRACT section 2).
public struct TriggerPolicy: Sendable {
    public var botUserID: String
    public var router: AgentRouter
    public var allowlist: Allowlist

    /// Other bots whose messages count like a person's (`ALLOWED_BOT_AUTHORS`).
    public var allowedBotAuthors: Set<String> = []

    public init(botUserID: String, router: AgentRouter, allowlist: Allowlist = Allowlist(), allowedBotAuthors: Set<String> = []) {
        self.allowedBotAuthors = allowedBotAuthors
        self.botUserID = botUserID
        self.router = router
        self.allowlist = allowlist
    }

    public enum Decision: Equatable, Sendable {
        case accept(InboundMessage.Kind)
        case drop(reason: String)
        /// Would have triggered, but is outside the allowlists: dropped and counted.
        case refuse(reason: String)
    }

    /// - Parameters:
    ///   - channelID: the channel, or the parent channel for a thread message.
    ///   - threadID: the thread's id, empty outside threads.
    ///   - repliedAgent: for a Discord reply to a message an agent posted, that agent (the
    ///     caller looks it up): the message is theirs, mention or not.
    public func decide(message: DiscordMessage, channelID: String, threadID: String, repliedAgent: String? = nil) -> Decision {
        if Self.isFromABot(message, botUserID: botUserID), !isAllowedBot(message) {
            return .drop(reason: "author is a bot or webhook")
        }
        if let reason = allowlist.refusal(guildID: message.guildID, channelID: channelID, threadID: threadID, authorID: message.author.id) {
            return .refuse(reason: reason)
        }
        if repliedAgent != nil { return .accept(.reply) }
        if message.guildID == nil { return .accept(.dm) }
        if message.mentions.contains(where: { $0.id == botUserID }) { return .accept(.mention) }
        if router.mappedAgent(channelID: channelID, threadID: threadID) != nil { return .accept(.channel) }
        return .drop(reason: "no mention in an unmapped channel")
    }

    /// Another bot that `ALLOWED_BOT_AUTHORS` names, posting as itself (never a webhook, never
    /// this bot): its messages are taken like a person's, within `BOT_LOOP_BUDGET`.
    public func isAllowedBot(_ message: DiscordMessage) -> Bool {
        message.author.bot == true && message.webhookID == nil && message.author.id != botUserID && allowedBotAuthors.contains(message.author.id)
    }

    /// Bots (this one included) and webhooks (the connector's own among them) are never input.
    /// Whether a raw `MESSAGE_CREATE` payload is one `decide` drops whatever else it says: the
    /// bot's own post, or any webhook's (the agents' posts under their names). Read from the bytes
    /// (`JSONScan`), so the echoes of the connector's posts cost no decoding; false when unsure.
    public func dropsUnread(_ payload: Data) -> Bool {
        let bytes = [UInt8](payload)
        guard let members = try? JSONScan.values(named: ["webhook_id", "author"], in: bytes, range: 0..<bytes.count) else { return false }
        if let webhook = members[0], !JSONScan.isNull(bytes, webhook) { return true }
        guard let author = members[1], let id = (try? JSONScan.values(named: ["id"], in: bytes, range: author))?[0].flatMap({ JSONScan.string(bytes, $0) }) else { return false }
        return id == botUserID
    }

    public static func isFromABot(_ message: DiscordMessage, botUserID: String) -> Bool {
        message.author.bot == true || message.webhookID != nil || message.author.id == botUserID
    }
}
