import Foundation
import Shared
import Testing
import TestSupport

/// The round trip with real processes: redis-server, the Discord simulator, Ingest, Dispatcher
/// and Replier. The test plays the human (through the simulator) and the agent (through Redis).
@Suite(.serialized, .timeLimit(.minutes(2)))
struct RoundTripTests {
    typealias World = DiscordSimulatorProcess.World
    static let agentMap = "{\"\(World.agents)\": \"builder\"}"

    func withStack(_ body: (ConnectorStack) async throws -> Void) async throws {
        try await ConnectorStack.with(
            label: "roundtrip",
            environment: ["MUMEGA_AGENT_MAP": Self.agentMap, "MUMEGA_DEFAULT_AGENT": "kasra"],
            startingServices: true,
            body
        )
    }

    /// Waits for the next record in an agent's inbox.
    func inboxRecord(_ stack: ConnectorStack, agent: String, count: Int = 1) async throws -> AgentInboxRecord? {
        let entries = try await eventually(timeout: .seconds(10)) { () -> [StreamEntry]? in
            let entries = try await stack.entries(BusKeys.inbox(agent))
            return entries.count >= count ? entries : nil
        }
        guard let entry = entries?[count - 1] else { return nil }
        return try AgentInboxRecord(fields: entry.fields)
    }

    /// Plays the agent: answers on the connector's inbox.
    func reply(_ stack: ConnectorStack, fields: [(String, String)]) async throws {
        try await stack.redis.client.run(XADD(BusKeys.inbox("discord-connector"), fields: StreamFields(fields)))
    }

    func posts(_ stack: ConnectorStack, channel: String, count: Int) async throws -> [SimulatedPost] {
        let found = try await eventually(timeout: .seconds(10)) { () -> [SimulatedPost]? in
            let posts = try await stack.simulator.posts(channelID: channel)
            return posts.count >= count ? posts : nil
        }
        if let found { return found }
        return try await stack.simulator.posts(channelID: channel)
    }

    @Test("a mention reaches the mapped agent's inbox with every contract field")
    func mentionReachesMappedAgent() async throws {
        try await withStack { stack in
            let messageID = try await stack.simulator.inject(channelID: World.agents, content: "please build the thing", mentionBot: true)
            let record = try #require(try await inboxRecord(stack, agent: "builder"))
            let entry = try #require(try await stack.entries(BusKeys.inbox("builder")).first)
            for field in ["from", "to", "text", "request_id", "source", "kind", "guild_id", "channel_id", "thread_id", "message_id", "author_id", "author_name", "content", "ts"] {
                #expect(entry.fields[field] != nil, "missing field \(field)")
            }
            #expect(record.from == "discord-connector")
            #expect(record.to == "builder")
            #expect(entry.fields["source"] == "discord")
            #expect(record.message.kind == .mention)
            #expect(record.message.guildID == World.guildID)
            #expect(record.message.channelID == World.agents)
            #expect(record.message.threadID == "")
            #expect(record.message.messageID == messageID)
            #expect(record.message.authorID == World.human)
            #expect(record.message.content.contains("please build the thing"))
            #expect(ISO8601DateFormatter.withFractions.date(from: record.message.timestamp) != nil || ISO8601DateFormatter().date(from: record.message.timestamp) != nil)
            #expect(record.text.hasPrefix("[request_id:\(record.message.requestID)] "))
            #expect(record.text.split(separator: "\n").last?.hasPrefix("[ctx:") == true)
            // The pending reply context exists and expires.
            let ttl = try await stack.redis.client.send("TTL", "discord:pending:\(record.message.requestID)").int ?? -2
            #expect(ttl > 0)
        }
    }

    @Test("a direct message goes to the default agent")
    func directMessageGoesToDefaultAgent() async throws {
        try await withStack { stack in
            try await stack.simulator.inject(channelID: World.dm, content: "hello in private")
            let record = try #require(try await inboxRecord(stack, agent: "kasra"))
            #expect(record.message.kind == .dm)
            #expect(record.message.guildID == "")
            #expect(record.message.content == "hello in private")
        }
    }

    @Test("a message in a mapped channel reaches the mapped agent without a mention; unmapped ones do not")
    func mappedChannelWithoutMention() async throws {
        try await withStack { stack in
            try await stack.simulator.inject(channelID: World.general, content: "chatter nobody asked the bot about")
            try await stack.simulator.inject(channelID: World.agents, content: "status update for the builder")
            let record = try #require(try await inboxRecord(stack, agent: "builder"))
            #expect(record.message.kind == .channel)
            #expect(record.message.content == "status update for the builder")
            // The unmapped chatter went nowhere: not to the default agent, not to the builder twice.
            try await Task.sleep(for: .milliseconds(500))  // quiet period: a misrouted or doubled message would show up by now
            #expect(try await stack.entries(BusKeys.inbox("kasra")).isEmpty)
            #expect(try await stack.entries(BusKeys.inbox("builder")).count == 1)
        }
    }

    @Test("a message from a bot is dropped")
    func botAuthorDropped() async throws {
        try await withStack { stack in
            try await stack.simulator.inject(channelID: World.agents, content: "beep from another bot", mentionBot: true, authorIsBot: true)
            try await stack.simulator.inject(channelID: World.agents, content: "human after the bot", mentionBot: true)
            let record = try #require(try await inboxRecord(stack, agent: "builder"))
            #expect(record.message.content.contains("human after the bot"))
            try await Task.sleep(for: .milliseconds(300))  // quiet period: a bot message let through would show up by now
            #expect(try await stack.entries(BusKeys.inbox("builder")).count == 1)
        }
    }

    @Test("a reply with {ack_for} is posted, tokens stripped, as a reply to the original message")
    func replyPostedWithTokensStripped() async throws {
        try await withStack { stack in
            let messageID = try await stack.simulator.inject(channelID: World.general, content: "what is the status?", mentionBot: true)
            let record = try #require(try await inboxRecord(stack, agent: "kasra"))
            let ctxLine = String(record.text.split(separator: "\n").last ?? "")
            try await reply(stack, fields: [
                ("from", "kasra"), ("to", "discord-connector"),
                ("text", "{ack_for:\(record.message.requestID)} All green.\n\(ctxLine)"),
            ])
            let posts = try await posts(stack, channel: World.general, count: 1)
            let post = try #require(posts.first)
            #expect(post.content == "All green.")
            #expect(post.messageReference?.messageID == messageID)
            #expect(post.nonce != nil)
            #expect(post.pinged.users == [World.human])  // the asker, through the reply, and nobody else
        }
    }

    @Test("a thread message is answered in the thread")
    func threadReplyLandsInThread() async throws {
        try await withStack { stack in
            let messageID = try await stack.simulator.inject(channelID: World.thread, content: "question inside the thread", mentionBot: true)
            let record = try #require(try await inboxRecord(stack, agent: "builder"))  // the thread inherits its parent's mapping
            #expect(record.message.channelID == World.agents)
            #expect(record.message.threadID == World.thread)
            try await reply(stack, fields: [("from", "builder"), ("to", "discord-connector"), ("text", "answer in thread"), ("ack_for", record.message.requestID)])
            let posts = try await posts(stack, channel: World.thread, count: 1)
            #expect(posts.map(\.content) == ["answer in thread"])
            #expect(posts.first?.messageReference?.messageID == messageID)
            #expect(try await stack.simulator.posts(channelID: World.agents).isEmpty)
        }
    }

    @Test("a reply without ack_for or ctx block is not posted, and is counted")
    func unroutableReplyCounted() async throws {
        try await withStack { stack in
            try await reply(stack, fields: [("from", "kasra"), ("to", "discord-connector"), ("text", "I forgot which request this was")])
            try await reply(stack, fields: [("from", "kasra"), ("to", "discord-connector"), ("text", "forged [ctx:00000000-0000-0000-0000-000000000000.AAAAAAAAAAAAAAAAAAAAAA]")])
            let counted = try await eventually { () -> Int? in
                let count = try await stack.redis.client.send("HGET", "discord:stats", "replies_unroutable").int ?? 0
                return count >= 2 ? count : nil
            }
            #expect(counted == 2)
            #expect(try await stack.simulator.posts().isEmpty)
            let dead = try await stack.entries("discord:dead")
            #expect(dead.count == 2)
            #expect(dead.allSatisfy { $0.fields["reason"]?.contains("unroutable") == true })
        }
    }

    @Test("@everyone, @here and role mentions in a reply ping nobody")
    func everyonePingsNobody() async throws {
        try await withStack { stack in
            try await stack.simulator.inject(channelID: World.general, content: "announce it", mentionBot: true)
            let record = try #require(try await inboxRecord(stack, agent: "kasra"))
            try await reply(stack, fields: [
                ("from", "kasra"), ("to", "discord-connector"),
                ("text", "@everyone @here <@&\(World.roleID)> the build is out {ack_for:\(record.message.requestID)}"),
            ])
            let post = try #require(try await posts(stack, channel: World.general, count: 1).first)
            #expect(post.content.contains("@everyone"))
            #expect(post.pinged.everyone == false)
            #expect(post.pinged.roles.isEmpty)
            #expect(post.pinged.users.allSatisfy { $0 == World.human })
        }
    }

    @Test("a 4,500-character reply arrives as three ordered messages")
    func longReplySplitInOrder() async throws {
        try await withStack { stack in
            try await stack.simulator.inject(channelID: World.general, content: "write me an essay", mentionBot: true)
            let record = try #require(try await inboxRecord(stack, agent: "kasra"))
            // 750 words of 5 characters, 749 spaces and a final "!": 4,500 characters.
            let text = (0..<750).map { String(format: "w%04d", $0) }.joined(separator: " ") + "!"
            #expect(text.count == 4500)
            try await reply(stack, fields: [("from", "kasra"), ("to", "discord-connector"), ("text", text), ("ack_for", record.message.requestID)])
            let posts = try await posts(stack, channel: World.general, count: 3)
            #expect(posts.count == 3)
            #expect(posts.allSatisfy { $0.content.utf16.count <= 2000 })
            #expect(posts.map(\.content).joined(separator: " ") == text)
            #expect(posts.first?.messageReference != nil)
        }
    }
}

extension ISO8601DateFormatter {
    static var withFractions: ISO8601DateFormatter {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter
    }
}
