import Foundation
import Shared
import Testing
import TestSupport

/// What agents and humans see besides the replies: the JSONL sink, REST polling instead of the
/// gateway, the typing indicator and the receipt reaction.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ModesAndFeedbackTests {
    typealias World = DiscordSimulatorProcess.World
    static let agentMap = ["MUMEGA_AGENT_MAP": "{\"\(World.agents)\": \"builder\"}"]

    @Test("the JSONL sink writes one valid line per delivered message")
    func jsonlSink() async throws {
        let sink = try makeScratchDirectory("jsonl") + "/inbox.jsonl"
        try await ConnectorStack.with(label: "jsonl", environment: Self.agentMap.merging(["INBOX_JSONL_PATH": sink]) { _, new in new }, startingServices: true) { stack in
            try await stack.simulator.inject(channelID: World.general, content: "a mention", mentionBot: true)
            try await stack.simulator.inject(channelID: World.dm, content: "a DM")
            try await stack.simulator.inject(channelID: World.agents, content: "mapped channel")
            try await stack.simulator.inject(channelID: World.general, content: "not for the bot")
            let lines = await eventually { () -> [Substring]? in
                let lines = ((try? String(contentsOfFile: sink, encoding: .utf8)) ?? "").split(separator: "\n")
                return lines.count >= 3 ? lines : nil
            }
            try await Task.sleep(for: .milliseconds(500))  // quiet period: a fourth (or doubled) line would show up by now
            let text = try String(contentsOfFile: sink, encoding: .utf8)
            #expect(text.hasSuffix("\n"))
            let records = try text.split(separator: "\n").map { try JSON.decode([String: String].self, from: String($0)) }
            #expect(lines?.count == 3)
            #expect(records.count == 3)
            for record in records {
                for field in ["timestamp", "subject", "body", "request_id", "from", "to", "kind", "channel_id", "message_id", "author_name", "content", "ts"] {
                    #expect(record[field] != nil, "missing \(field)")
                }
            }
            #expect(records.map { $0["subject"] ?? "" }.sorted() == ["Discord #agents from Alice", "Discord #general from Alice", "Discord DM from Alice"])
            #expect(records.first { $0["kind"] == "dm" }?["body"] == "a DM")
        }
    }

    @Test("INBOUND_MODE=poll delivers mapped-channel messages exactly once across restarts, without a gateway")
    func pollingMode() async throws {
        let env = Self.agentMap.merging(["INBOUND_MODE": "poll", "POLL_INTERVAL": "1"]) { _, new in new }
        try await ConnectorStack.with(label: "poll", environment: env) { stack in
            try stack.start("Ingest")
            try stack.start("Dispatcher")
            let polling = await eventually { stack.services["Ingest"]?.log.contains("polling 1 mapped channels") == true ? true : nil }
            #expect(polling == true)
            // The first poll sets the channel's cursor at "now": only what is sent after it is delivered.
            let cursorSet = await eventually(timeout: .seconds(10)) { () -> Bool? in
                (try? await stack.redis.client.send("HGET", "discord:poll:cursors", World.agents).string) != nil ? true : nil
            }
            #expect(cursorSet == true)
            for index in 0..<3 { try await stack.simulator.inject(channelID: World.agents, content: "polled-\(index)") }
            _ = await eventually(timeout: .seconds(10)) { (try? await stack.entries("sos:inbox:builder").count) == 3 ? true : nil }

            let ingest = try #require(stack.services["Ingest"])
            ingest.signal(SIGKILL)
            await ingest.waitForExit(timeout: .seconds(5))
            for index in 3..<5 { try await stack.simulator.inject(channelID: World.agents, content: "polled-\(index)") }
            try stack.start("Ingest", environment: ["GATEWAY_LEASE_MS": "4000"])
            let all = await eventually(timeout: .seconds(20)) { () -> [String]? in
                let contents = (try? await stack.entries("sos:inbox:builder"))?.compactMap { $0.fields["content"] } ?? []
                return contents.count >= 5 ? contents : nil
            }
            try await Task.sleep(for: .seconds(2))  // a few more polls: nothing doubles
            let contents = try await stack.entries("sos:inbox:builder").compactMap { $0.fields["content"] }
            #expect(all != nil)
            #expect(contents == (0..<5).map { "polled-\($0)" })
            let stats = try await stack.simulator.stats()
            #expect(stats["identifies"]?.doubleValue == 0)  // no gateway session at all
        }
    }

    @Test("typing starts on dispatch and stops on reply; the receipt reaction marks the message")
    func typingAndReaction() async throws {
        try await ConnectorStack.with(label: "typing", environment: ["RECEIPT_REACTION": "👀"], startingServices: true) { stack in
            let messageID = try await stack.simulator.inject(channelID: World.general, content: "think about it", mentionBot: true)
            let typing = await eventually(timeout: .seconds(10)) { () -> Bool? in
                guard case .array(let events)? = (try? await stack.simulator.feedback())?["typing"] else { return nil }
                return events.contains { $0["channel_id"]?.stringValue == World.general } ? true : nil
            }
            #expect(typing == true)
            let feedback = try await stack.simulator.feedback()
            guard case .array(let reactions)? = feedback["reactions"] else { Issue.record("no reactions list"); return }
            #expect(reactions.contains { $0["message_id"]?.stringValue == messageID && $0["emoji"]?.stringValue == "👀" })

            let entry = try #require(await eventually { try? await stack.entries("sos:inbox:kasra").first })
            try await stack.redis.client.send("XADD", "sos:inbox:discord-connector", "*", "from", "kasra", "to", "discord-connector", "text", "done", "ack_for", entry.fields["request_id"] ?? "")
            let posted = try #require(await eventually { try? await stack.simulator.posts(channelID: World.general).first })
            // Discord stops the indicator when the bot posts; the connector must not start it again.
            let stopped = await eventually(timeout: .seconds(3)) { () -> Bool? in
                (try? await stack.redis.client.send("ZCARD", "discord:typing").int) == 0 ? true : nil
            }
            #expect(stopped == true)
            try await Task.sleep(for: .seconds(9))  // longer than the 8 s renewal
            let after = try await stack.simulator.feedback()
            guard case .array(let events)? = after["typing"] else { Issue.record("no typing list"); return }
            let postedAt = posted.receivedAtMicros ?? 0
            #expect(!events.contains { Int($0["at_us"]?.doubleValue ?? 0) > postedAt + 500_000 })
        }
    }
}
