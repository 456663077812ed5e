import Testing
@testable import Shared

@Suite("Allowlist: ALLOWED_GUILDS, ALLOWED_CHANNELS, ALLOWED_USERS")
struct AllowlistTests {
    static let botID = "100"
    static let human = DiscordUser(id: "400", username: "alice")
    static let stranger = DiscordUser(id: "401", username: "mallory")

    static func decide(_ allowlist: Allowlist, guild: String?, channel: String, thread: String = "", author: DiscordUser = human, mention: Bool = true) -> TriggerPolicy.Decision {
        let policy = TriggerPolicy(botUserID: botID, router: AgentRouter(channelAgents: [:], defaultAgent: "kasra"), allowlist: allowlist)
        let message = DiscordMessage(id: "1", channelID: thread.isEmpty ? channel : thread, guildID: guild, author: author, content: "hi",
                                     timestamp: "", mentions: mention ? [DiscordUser(id: botID, username: "bot")] : [])
        return policy.decide(message: message, channelID: channel, threadID: thread)
    }

    @Test("no lists: everything that triggers passes")
    func noLists() {
        #expect(Self.decide(Allowlist(), guild: "1", channel: "10") == .accept(.mention))
    }

    @Test("a guild outside ALLOWED_GUILDS is refused; DMs are not guild messages")
    func guilds() {
        let list = Allowlist(guilds: ["1"])
        #expect(Self.decide(list, guild: "1", channel: "10") == .accept(.mention))
        guard case .refuse(let reason) = Self.decide(list, guild: "2", channel: "20") else { Issue.record("not refused"); return }
        #expect(reason.contains("ALLOWED_GUILDS"))
        #expect(Self.decide(list, guild: nil, channel: "99", mention: false) == .accept(.dm))
    }

    @Test("ALLOWED_CHANNELS: a thread counts as its parent channel")
    func channels() {
        let list = Allowlist(channels: ["10"])
        #expect(Self.decide(list, guild: "1", channel: "10") == .accept(.mention))
        #expect(Self.decide(list, guild: "1", channel: "10", thread: "11") == .accept(.mention))
        if case .refuse = Self.decide(list, guild: "1", channel: "12") {} else { Issue.record("channel 12 passed") }
    }

    @Test("ALLOWED_USERS applies everywhere, DMs included")
    func users() {
        let list = Allowlist(users: ["400"])
        #expect(Self.decide(list, guild: "1", channel: "10") == .accept(.mention))
        if case .refuse = Self.decide(list, guild: nil, channel: "99", author: Self.stranger, mention: false) {} else { Issue.record("stranger's DM passed") }
        if case .refuse = Self.decide(list, guild: "1", channel: "10", author: Self.stranger) {} else { Issue.record("stranger passed") }
    }

    @Test("bots are dropped before the lists are consulted")
    func botsStillDropped() {
        let bot = DiscordUser(id: "500", username: "other", bot: true)
        if case .drop = Self.decide(Allowlist(users: ["500"]), guild: "1", channel: "10", author: bot) {} else { Issue.record("bot not dropped") }
    }

    @Test("malformed lists name the variable", arguments: ["12,abc", "1,,2", "x"])
    func malformed(raw: String) {
        #expect(throws: ConfigError.self) { try Allowlist.parseIDs(raw, variable: "ALLOWED_USERS") }
        do { _ = try Allowlist.parseIDs(raw, variable: "ALLOWED_USERS") } catch { #expect(error.variable == "ALLOWED_USERS") }
    }

    @Test("lists parse with spaces, and empty means unset")
    func parses() throws {
        #expect(try Allowlist.parseIDs(" 1, 2 ,3", variable: "X") == ["1", "2", "3"])
        #expect(try Allowlist.parseIDs("", variable: "X") == nil)
        #expect(try Allowlist.parseIDs(nil, variable: "X") == nil)
    }
}
