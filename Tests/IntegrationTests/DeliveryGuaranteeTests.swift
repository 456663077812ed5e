import Foundation
import Shared
import Testing
import TestSupport

/// CONTRACT section 5 piece by piece: one gateway owner with a hot standby, catch-up after a
/// lost session, dead letters an operator can read, and no silent drops.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct DeliveryGuaranteeTests {
    typealias World = DiscordSimulatorProcess.World

    func inbox(_ stack: ConnectorStack, _ agent: String = "kasra") async throws -> [StreamEntry] {
        try await stack.entries(BusKeys.inbox(agent))
    }

    @Test("two Ingest copies: killing the holder moves the gateway to the standby within 5 s, nothing lost or doubled, never two sessions")
    func standbyTakesOver() async throws {
        try await ConnectorStack.with(label: "standby", environment: ["GATEWAY_LEASE_MS": "3000"]) { stack in
            let first = try stack.start("Ingest", as: "Ingest-a")
            try await stack.waitForGateway(sessions: 1)
            let second = try stack.start("Ingest", as: "Ingest-b")
            try stack.start("Dispatcher")
            let standingBy = await eventually { second.log.contains("standing by") ? true : nil }
            #expect(standingBy == true)

            // Messages keep arriving while the holder dies.
            let sender = Task {
                for index in 0..<60 {
                    try await stack.simulator.inject(channelID: World.dm, content: "standby-\(index)")
                    try await Task.sleep(for: .milliseconds(100))  // pacing: a steady stream across the kill
                }
            }
            // The holder is delivering the stream (about a second of it) when it dies.
            let flowing = await eventually(timeout: .seconds(10)) { ((try? await inbox(stack).count) ?? 0) >= 10 ? true : nil }
            #expect(flowing == true)
            let sessionsBefore = try await stack.simulator.stats()
            let killedAt = ContinuousClock.now
            first.signal(SIGKILL)
            try await stack.waitForGateway(sessions: Int((sessionsBefore["identifies"]?.doubleValue ?? 0) + (sessionsBefore["resumes"]?.doubleValue ?? 0)) + 1)
            let takeover = ContinuousClock.now - killedAt
            print("standby takeover after \(takeover)")
            #expect(takeover < .seconds(5))
            try await sender.value

            let delivered = await eventually(timeout: .seconds(20)) { () -> [StreamEntry]? in
                let entries = (try? await inbox(stack)) ?? []
                return entries.count >= 60 ? entries : nil
            }
            try await Task.sleep(for: .milliseconds(500))  // quiet period: a doubled message would show up by now
            let contents = try await inbox(stack).compactMap { $0.fields["content"] }
            #expect(delivered != nil)
            #expect(contents.count == 60)
            #expect(Set(contents) == Set((0..<60).map { "standby-\($0)" }))
            let stats = try await stack.simulator.stats()
            #expect(stats["max_active_sessions"]?.doubleValue == 1)
            #expect(stats["identifies"]?.doubleValue == 1)  // the standby resumed the same session
        }
    }

    @Test("an IDENTIFY after an expired session catches up the messages sent while nobody was connected")
    func catchUpAfterExpiredSession() async throws {
        try await ConnectorStack.with(label: "catchup", environment: ["MUMEGA_AGENT_MAP": "{\"\(World.agents)\": \"builder\"}"], startingServices: true) { stack in
            try await stack.simulator.inject(channelID: World.dm, content: "first DM, seen live")
            _ = await eventually { (try? await inbox(stack).count) == 1 ? true : nil }

            let ingest = try #require(stack.services["Ingest"])
            ingest.signal(SIGKILL)
            await ingest.waitForExit(timeout: .seconds(5))
            try await stack.simulator.inject(channelID: World.dm, content: "DM while nobody was connected")
            try await stack.simulator.inject(channelID: World.agents, content: "mapped channel while nobody was connected")
            _ = try await stack.simulator.control("POST", "/_sim/sessions/expire")

            try stack.start("Ingest")
            let caughtUp = await eventually(timeout: .seconds(20)) { () -> Bool? in
                let kasra = (try? await inbox(stack).count) ?? 0
                let builder = (try? await inbox(stack, "builder").count) ?? 0
                return kasra == 2 && builder == 1 ? true : nil
            }
            #expect(caughtUp == true)
            try await Task.sleep(for: .milliseconds(500))  // quiet period: a doubled catch-up would show up by now
            let dms = try await inbox(stack).compactMap { $0.fields["content"] }
            #expect(dms == ["first DM, seen live", "DM while nobody was connected"])
            let mapped = try await inbox(stack, "builder")
            #expect(mapped.first?.fields["content"] == "mapped channel while nobody was connected")
            #expect(mapped.first?.fields["kind"] == "channel")
            #expect(mapped.first?.fields["guild_id"] == World.guildID)
            let stats = try await stack.simulator.stats()
            #expect(stats["identifies"]?.doubleValue == 2)
        }
    }

    @Test("a reply to a deleted channel lands in the dead-letter stream with Discord's reason, readable with redis-cli")
    func deletedChannelDeadLetters() async throws {
        try await ConnectorStack.with(label: "deadletter", startingServices: true) { stack in
            try await stack.simulator.inject(channelID: World.ops, content: "anyone there?", mentionBot: true)
            let entry = try #require(await eventually { try? await inbox(stack).first })
            let requestID = try #require(entry.fields["request_id"])
            _ = try await stack.simulator.control("DELETE", "/_sim/channels/\(World.ops)")
            try await stack.redis.client.send("XADD", "sos:inbox:discord-connector", "*", "from", "kasra", "to", "discord-connector", "text", "too late {ack_for:\(requestID)}")

            let dead = try #require(await eventually { () -> StreamEntry? in (try? await stack.entries("discord:dead"))?.first })
            #expect(dead.fields["reason"]?.contains("404") == true)
            #expect(dead.fields["reason"]?.contains("Unknown Channel") == true)
            // The routed reply: its text without tokens, the request and the channel it was for.
            #expect(dead.fields["field:text"] == "too late")
            #expect(dead.fields["field:request_id"] == requestID)
            #expect(dead.fields["field:channel_id"] == World.ops)

            // What the README tells operators to run.
            let cli = try await runToCompletion("/usr/bin/redis-cli", arguments: ["-p", String(stack.redis.port), "XRANGE", "discord:dead", "-", "+"], environment: [:])
            #expect(cli.code == 0)
            #expect(cli.output.contains("Unknown Channel"))
            #expect(try await stack.redis.client.send("XPENDING", "sos:inbox:discord-connector", "replier").array?.first?.int == 0)
        }
    }

    @Test("a request nobody answers gets a visible notice; an answered one does not")
    func unansweredNotice() async throws {
        try await ConnectorStack.with(label: "notice", environment: ["UNANSWERED_NOTICE_AFTER": "2"], startingServices: true) { stack in
            let unanswered = try await stack.simulator.inject(channelID: World.general, content: "hello? (nobody answers)", mentionBot: true)
            try await stack.simulator.inject(channelID: World.ops, content: "quick one", mentionBot: true)
            let entries = try #require(await eventually { () -> [StreamEntry]? in
                let entries = try? await inbox(stack)
                return (entries?.count ?? 0) >= 2 ? entries : nil
            })
            let quick = try #require(entries.first { $0.fields["channel_id"] == World.ops }?.fields["request_id"])
            try await stack.redis.client.send("XADD", "sos:inbox:discord-connector", "*", "from", "kasra", "to", "discord-connector", "text", "done {ack_for:\(quick)}")

            let notice = try #require(await eventually(timeout: .seconds(10)) { () -> SimulatedPost? in
                (try? await stack.simulator.posts(channelID: World.general))?.first
            })
            #expect(notice.content.contains("No answer from kasra yet"))
            #expect(notice.messageReference?.messageID == unanswered)
            #expect(notice.pinged.users.isEmpty)  // a notice pings nobody
            try await Task.sleep(for: .seconds(3))  // quiet period: longer than the 2 s notice delay, a second notice (or one for the answered request) would show up by now
            #expect(try await stack.simulator.posts(channelID: World.general).count == 1)
            #expect(try await stack.simulator.posts(channelID: World.ops).map(\.content) == ["done"])
        }
    }
}
