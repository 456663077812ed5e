import Foundation
import Testing
@testable import Shared

/// CONTRACT section 2 as a table: a Discord message in, the agent it reaches (or a drop) out.
@Suite("TriggerPolicy + AgentRouter routing table")
struct TriggerPolicyTests {
    static let botID = "900000000000000000"
    static let mappedChannel = "100000000000000001"
    static let unmappedChannel = "100000000000000002"
    static let thread = "100000000000000003"
    static let guild = "800000000000000000"
    static let router = AgentRouter(channelAgents: [mappedChannel: "river"], defaultAgent: "kasra")
    static let policy = TriggerPolicy(botUserID: botID, router: router)

    static let human = DiscordUser(id: "700000000000000000", username: "ada")
    static let bot = DiscordUser(id: botID, username: "connector", bot: true)

    enum Expected: Equatable, Sendable {
        case routed(InboundMessage.Kind, agent: String)
        case dropped
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var message: DiscordMessage
        /// The parent channel for a thread message, as Ingest resolves it.
        var channelID: String
        var threadID: String = ""
        var expected: Expected
        var testDescription: String { name }
    }

    static func message(channel: String, guild: String? = TriggerPolicyTests.guild, author: DiscordUser = human, mentionsBot: Bool = false, webhook: String? = nil) -> DiscordMessage {
        DiscordMessage(
            id: "600000000000000000", channelID: channel, guildID: guild, author: author,
            content: mentionsBot ? "<@\(botID)> hi" : "hi", timestamp: "2025-01-01T00:00:00+00:00",
            mentions: mentionsBot ? [DiscordUser(id: botID, username: "connector", bot: true)] : [],
            webhookID: webhook
        )
    }

    static let cases: [Case] = [
        Case(name: "mention in mapped channel -> mapped agent",
             message: message(channel: mappedChannel, mentionsBot: true), channelID: mappedChannel,
             expected: .routed(.mention, agent: "river")),
        Case(name: "mention in unmapped channel -> default agent",
             message: message(channel: unmappedChannel, mentionsBot: true), channelID: unmappedChannel,
             expected: .routed(.mention, agent: "kasra")),
        Case(name: "DM -> default agent",
             message: message(channel: "500000000000000000", guild: nil), channelID: "500000000000000000",
             expected: .routed(.dm, agent: "kasra")),
        Case(name: "DM -> default agent even when its channel id is mapped",
             message: message(channel: mappedChannel, guild: nil, mentionsBot: true), channelID: mappedChannel,
             expected: .routed(.dm, agent: "kasra")),
        Case(name: "mapped channel without mention -> mapped agent, kind channel",
             message: message(channel: mappedChannel), channelID: mappedChannel,
             expected: .routed(.channel, agent: "river")),
        Case(name: "thread of a mapped channel, no mention -> parent's agent",
             message: message(channel: thread), channelID: mappedChannel, threadID: thread,
             expected: .routed(.channel, agent: "river")),
        Case(name: "thread of a mapped channel, mention -> parent's agent",
             message: message(channel: thread, mentionsBot: true), channelID: mappedChannel, threadID: thread,
             expected: .routed(.mention, agent: "river")),
        Case(name: "thread of an unmapped channel, mention -> default agent",
             message: message(channel: thread, mentionsBot: true), channelID: unmappedChannel, threadID: thread,
             expected: .routed(.mention, agent: "kasra")),
        Case(name: "thread of an unmapped channel, no mention -> dropped",
             message: message(channel: thread), channelID: unmappedChannel, threadID: thread,
             expected: .dropped),
        Case(name: "unmapped channel, no mention -> dropped",
             message: message(channel: unmappedChannel), channelID: unmappedChannel,
             expected: .dropped),
        Case(name: "another bot in a mapped channel -> dropped",
             message: message(channel: mappedChannel, author: DiscordUser(id: "1", username: "other", bot: true), mentionsBot: true),
             channelID: mappedChannel, expected: .dropped),
        Case(name: "bot DMs -> dropped",
             message: message(channel: "5", guild: nil, author: DiscordUser(id: "1", username: "other", bot: true)),
             channelID: "5", expected: .dropped),
        Case(name: "webhook in a mapped channel -> dropped",
             message: message(channel: mappedChannel, mentionsBot: true, webhook: "123"), channelID: mappedChannel,
             expected: .dropped),
        Case(name: "the bot itself -> dropped",
             message: message(channel: mappedChannel, author: bot, mentionsBot: true), channelID: mappedChannel,
             expected: .dropped),
        Case(name: "the bot itself, even without the bot flag -> dropped",
             message: message(channel: mappedChannel, author: DiscordUser(id: botID, username: "connector")),
             channelID: mappedChannel, expected: .dropped),
        Case(name: "mention of someone else in an unmapped channel -> dropped",
             message: DiscordMessage(id: "6", channelID: unmappedChannel, guildID: guild, author: human, content: "<@1>",
                                     timestamp: "", mentions: [DiscordUser(id: "1", username: "bob")]),
             channelID: unmappedChannel, expected: .dropped),
    ]

    @Test("routing table", arguments: cases)
    func route(_ testCase: Case) {
        let actual: Expected
        switch Self.policy.decide(message: testCase.message, channelID: testCase.channelID, threadID: testCase.threadID) {
        case .drop(let reason), .refuse(let reason):
            #expect(!reason.isEmpty)
            actual = .dropped
        case .accept(let kind):
            let inbound = InboundMessage(
                requestID: Fixtures.requestID, kind: kind, guildID: testCase.message.guildID ?? "",
                channelID: testCase.channelID, threadID: testCase.threadID, messageID: testCase.message.id,
                authorID: testCase.message.author.id, authorName: testCase.message.authorName,
                content: testCase.message.content, timestamp: testCase.message.timestamp
            )
            actual = .routed(kind, agent: Self.router.agent(for: inbound))
        }
        #expect(actual == testCase.expected)
    }

    @Test("dropsUnread, on each case's JSON, never drops what decide would accept, and catches the bot's own and webhooks' posts", arguments: cases)
    func unread(_ testCase: Case) throws {
        let payload = try JSONEncoder().encode(testCase.message)
        let unread = Self.policy.dropsUnread(payload)
        if unread { #expect(testCase.expected == .dropped) }
        let ownOrWebhook = testCase.message.author.id == Self.botID || testCase.message.webhookID != nil
        #expect(unread == ownOrWebhook)
    }

    @Test("dropsUnread on raw payloads shaped as Discord sends them", arguments: [
        // The bot's own post, as the gateway echoes it (fields in Discord's order, nested objects).
        (#"{"type":0,"tts":false,"timestamp":"2025-01-01T00:00:00.000000+00:00","referenced_message":null,"pinned":false,"nonce":"r:1","mentions":[],"mention_roles":[],"mention_everyone":false,"id":"6","flags":0,"embeds":[],"edited_timestamp":null,"content":"hi {\"x\"}","components":[],"channel_id":"1","author":{"username":"connector","public_flags":0,"id":"900000000000000000","global_name":null,"discriminator":"0","bot":true,"avatar":null},"attachments":[],"guild_id":"8"}"#, true),
        // A webhook's post: the author is the webhook.
        (#"{"webhook_id":"77","id":"6","channel_id":"1","content":"from kasra","author":{"id":"77","username":"kasra","bot":true},"timestamp":""}"#, true),
        // A person, webhook_id null or absent; a reply quoting the bot's message.
        (#"{"webhook_id":null,"id":"6","channel_id":"1","content":"hi","author":{"id":"700000000000000000","username":"ada"},"timestamp":""}"#, false),
        (#"{"id":"6","channel_id":"1","content":"<@900000000000000000>","referenced_message":{"author":{"id":"900000000000000000"}},"author":{"id":"700000000000000000","username":"ada"},"timestamp":""}"#, false),
        // An escaped id is still read as the id.
        (#"{"id":"6","author":{"id":"\u0039\u0030\u0030000000000000000"}}"#, true),
        // Unsure (malformed, no author): not dropped here, left to the full decoding.
        (#"{"id":"6","author":{"id":"900000000000000000""#, false),
        (#"{"id":"6"}"#, false),
        ("null", false),
    ])
    func unreadRaw(payload: String, dropped: Bool) {
        #expect(Self.policy.dropsUnread(Data(payload.utf8)) == dropped)
    }

    @Test("a reply to an agent's message is that agent's, mention or not; allowlists and the bot rule still apply")
    func replies() {
        let plain = Self.message(channel: Self.unmappedChannel)
        #expect(Self.policy.decide(message: plain, channelID: Self.unmappedChannel, threadID: "", repliedAgent: "loom") == .accept(.reply))
        #expect(Self.policy.decide(message: plain, channelID: Self.unmappedChannel, threadID: "") == .drop(reason: "no mention in an unmapped channel"))
        let fromBot = Self.message(channel: Self.unmappedChannel, author: DiscordUser(id: "1", username: "b", bot: true))
        #expect(Self.policy.decide(message: fromBot, channelID: Self.unmappedChannel, threadID: "", repliedAgent: "loom") == .drop(reason: "author is a bot or webhook"))
        let strict = TriggerPolicy(botUserID: Self.botID, router: Self.router, allowlist: Allowlist(users: ["1"]))
        guard case .refuse = strict.decide(message: plain, channelID: Self.unmappedChannel, threadID: "", repliedAgent: "loom") else {
            Issue.record("the allowlist did not refuse a reply"); return
        }
        var message = InboundMessage(requestID: "r", kind: .reply, guildID: Self.guild, channelID: Self.unmappedChannel, threadID: "", messageID: "m", authorID: "a", authorName: "ada", content: "hi", timestamp: "")
        message.requestedAgent = "loom"
        #expect(Self.router.agent(for: message) == "loom")
    }

    @Test("ALLOWED_BOT_AUTHORS: a named bot counts like a person; this bot, webhooks and other bots never")
    func allowedBots() {
        let allowed = DiscordUser(id: "1", username: "loom-bot", bot: true)
        let policy = TriggerPolicy(botUserID: Self.botID, router: Self.router, allowedBotAuthors: ["1", Self.botID])
        #expect(policy.decide(message: Self.message(channel: Self.mappedChannel, author: allowed), channelID: Self.mappedChannel, threadID: "") == .accept(.channel))
        #expect(policy.decide(message: Self.message(channel: Self.mappedChannel, author: allowed, webhook: "9"), channelID: Self.mappedChannel, threadID: "") == .drop(reason: "author is a bot or webhook"))
        #expect(policy.decide(message: Self.message(channel: Self.mappedChannel, author: Self.bot), channelID: Self.mappedChannel, threadID: "") == .drop(reason: "author is a bot or webhook"))
        let stranger = DiscordUser(id: "2", username: "other", bot: true)
        #expect(policy.decide(message: Self.message(channel: Self.mappedChannel, author: stranger), channelID: Self.mappedChannel, threadID: "") == .drop(reason: "author is a bot or webhook"))
    }
}
