import Foundation
import Shared
import Testing
import TestSupport

/// CONTRACT section 9 with Redis Sentinel: the services find the primary through the sentinels
/// and follow a failover without a restart; with BUS_MIN_REPLICAS=1 nothing accepted is lost.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct SentinelTests {
    typealias World = DiscordSimulatorProcess.World

    @Test("300 messages while the primary is SIGKILLed mid-stream and a replica promoted: every message in the inbox once, every answer posted once")
    func failoverLosesNothing() async throws {
        try await SentinelGroup.with(label: "sentinel") { group in try await run(group) }
    }

    func run(_ group: SentinelGroup) async throws {
        let environment = [
            "MUMEGA_BUS_URL": group.url, "BUS_MIN_REPLICAS": "1", "ECHO_AGENTS": "kasra", "TYPING_INDICATOR": "0",
            "UNANSWERED_NOTICE_AFTER": "0", "DISCORD_GLOBAL_RATE_LIMIT": "100000",
        ]
        // Discord's limits lifted (300 answers in one channel would take 5 minutes at 5 per 5 s).
        try await ConnectorStack.with(label: "sentinel-stack", environment: environment, simulatorArguments: ["--rate-limit", "100000/1"]) { stack in
            try await stack.startServices()
            try stack.start("EchoAgent")
            var bus = try group.busClient()
            // The echo agent reads from where its group starts: let it make the group first.
            let echoReady = await eventually(timeout: .seconds(15)) { () -> Bool? in
                (try? await bus.run(XINFOGROUPS("sos:inbox:kasra")))?.contains { $0.name == BusKeys.echoGroup } == true ? true : nil
            }
            try #require(echoReady == true, "the echo agent did not start: \(stack.logs())")
            let total = 300
            var killedAt: ContinuousClock.Instant?
            var killedPort = 0
            for index in 0..<total {
                try await stack.simulator.inject(channelID: World.general, content: "m\(index)", mentionBot: true)
                if index == 100 {
                    killedPort = try await group.killPrimary()
                    killedAt = .now
                }
                try await Task.sleep(for: .milliseconds(10))
            }
            // A new client finds the new primary (the old one's connection died with it).
            bus = try group.busClient()
            let posted = await eventually(timeout: .seconds(60)) { () -> [String]? in
                let echoes = ((try? await stack.simulator.posts()) ?? []).map(\.content).filter { $0.hasPrefix("echo from kasra: ") }
                return Set(echoes).count >= total ? echoes : nil
            }
            if posted == nil {
                let echoed = Set(((try? await stack.simulator.posts()) ?? []).map(\.content).filter { $0.hasPrefix("echo from kasra: ") }.compactMap { $0.components(separatedBy: " ").last })
                let inbox = ((try? StreamEntry.list(from: try await bus.send("XRANGE", "sos:inbox:kasra", "-", "+"))) ?? []).compactMap { $0.fields["content"]?.components(separatedBy: " ").last }
                let replies = ((try? StreamEntry.list(from: try await bus.send("XRANGE", "sos:inbox:discord-connector", "-", "+"))) ?? []).count
                let inbound = ((try? StreamEntry.list(from: try await bus.send("XRANGE", "discord:inbound", "-", "+"))) ?? []).count
                let missing = (0..<total).map { "m\($0)" }.filter { !echoed.contains($0) }
                Issue.record("not posted: \(missing); inbox has \(inbox.count) (\(Set(inbox).count) distinct), missing there: \((0..<total).map { "m\($0)" }.filter { !inbox.contains($0) }); connector inbox \(replies); inbound \(inbound)")
            }
            let echoes = try #require(posted, "not every answer was posted")
            // Each answered once, each message once in the inbox (read through the sentinels).
            #expect(echoes.count == total, "doubled answers: \(echoes.count - Set(echoes).count)")
            let inbox = try StreamEntry.list(from: try await bus.send("XRANGE", "sos:inbox:kasra", "-", "+"))
            let contents = inbox.compactMap { $0.fields["content"] }.map { $0.replacingOccurrences(of: "<@\(World.botUserID)> ", with: "") }
            #expect(contents.count == total, "inbox holds \(contents.count) records")
            #expect(Set(contents).count == total)
            // The primary moved, and how long the bus stalled.
            let newPrimary = try await group.primaryPort()
            #expect(newPrimary != killedPort)
            if let killedAt {
                print("sentinel failover: primary \(killedPort) killed; \(newPrimary) promoted; all \(total) answers posted \(ContinuousClock.now - killedAt) after the kill")
            }
        }
    }
}
