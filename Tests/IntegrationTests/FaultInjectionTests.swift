import Foundation
import Shared
import Testing
import TestSupport

/// The promise of CONTRACT section 5 under fire: 1,000 messages while every service is
/// SIGKILLed and restarted at random moments, the gateway is told to reconnect and dropped,
/// Discord answers some posts with 500 and 429, and redis-server itself is restarted.
/// Every message must reach its agent exactly once, and every answer be posted exactly once,
/// in the order the agent sent them per channel.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct FaultInjectionTests {
    typealias World = DiscordSimulatorProcess.World

    /// Where message `index` is sent, and whether it mentions the bot.
    static let routes: [(channel: String, mention: Bool, agent: String)] = [
        (World.general, true, "kasra"),   // a mention in an unmapped channel
        (World.agents, false, "builder"), // a mapped channel, no mention
        (World.thread, true, "builder"),  // a thread of the mapped channel
        (World.dm, false, "kasra"),       // a direct message
    ]

    @Test("1,000 messages through kills, reconnects, Discord errors and a Redis restart: nothing lost, nothing doubled, in order")
    func thousandMessagesUnderFaults() async throws {
        let total = Int(ProcessInfo.processInfo.environment["CHAOS_MESSAGES"] ?? "") ?? 1_000
        let environment = [
            "MUMEGA_AGENT_MAP": "{\"\(World.agents)\": \"builder\"}",
            "CLAIM_IDLE_MS": "3000",
            "GATEWAY_LEASE_MS": "2000",
            "UNANSWERED_NOTICE_AFTER": "0",
            "LOG_LEVEL": "info",
        ]
        // Discord's per-channel limit is lifted so the run takes seconds, not minutes; 429s are
        // injected below instead.
        try await ConnectorStack.with(label: "chaos", environment: environment, simulatorArguments: ["--rate-limit", "1000/1"], appendOnly: true, startingServices: true) { stack in
            try stack.start("EchoAgent", environment: ["ECHO_AGENTS": "kasra,builder"])
            // The agent's groups start at "$": anything sent before they exist would never be answered.
            let agentReady = await eventually(timeout: .seconds(15)) { () -> Bool? in
                for agent in ["kasra", "builder"] {
                    let groups = (try? await stack.redis.client.run(XINFOGROUPS(BusKeys.inbox(agent)))) ?? []
                    if !groups.contains(where: { $0.name == BusKeys.echoGroup }) { return nil }
                }
                return true
            }
            #expect(agentReady == true)

            let finished = Flag()
            let injecting = Task {
                defer { finished.set() }
                for index in 0..<total {
                    let route = Self.routes[index % Self.routes.count]
                    try await stack.simulator.inject(channelID: route.channel, content: "chaos-\(index)", mentionBot: route.mention)
                    try await Task.sleep(for: .milliseconds(15))  // pacing the load generator
                }
            }
            var faults = FaultLog()
            let chaos = Task { () -> FaultLog in
                var log = FaultLog()
                var step = 0
                let victims = ["Ingest", "Dispatcher", "Replier"].shuffled()
                while !finished.isSet, step < 40 {
                    try await Task.sleep(for: .milliseconds(Int64.random(in: 400...900)))  // faults at random moments, by design
                    if finished.isSet { break }
                    step += 1
                    switch step % 6 {
                    case 1, 3, 5:
                        // Each service in turn, in a random order each round, at random moments.
                        let victim = victims[(step / 2) % victims.count]
                        try await Self.killAndRestart(victim, in: stack)
                        log.kills[victim, default: 0] += 1
                    case 2:
                        _ = try await stack.simulator.control("POST", "/_sim/gateway/reconnect")
                        log.reconnects += 1
                        try await stack.simulator.injectFaults(messageCreate: [500, 429, 500])
                        log.discordErrors += 3
                    case 4:
                        _ = try await stack.simulator.control("POST", "/_sim/gateway/close?code=4000")
                        log.drops += 1
                        try await stack.simulator.injectFaults(messageCreate: [429])
                        log.discordErrors += 1
                    default:
                        if log.redisRestarts == 0 {
                            try await stack.redis.restart(downtime: .milliseconds(800))
                            log.redisRestarts += 1
                        } else {
                            try await stack.simulator.injectFaults(messageCreate: [500])
                            log.discordErrors += 1
                        }
                    }
                }
                return log
            }
            try await injecting.value
            faults = try await chaos.value
            if faults.redisRestarts == 0 {
                try await stack.redis.restart(downtime: .milliseconds(800))
                faults.redisRestarts = 1
            }

            // Let everything drain: every message answered and every answer posted.
            let drained = await eventually(timeout: .seconds(180)) { () -> Bool? in
                guard let posts = try? await stack.simulator.posts() else { return nil }
                return posts.count >= total ? true : nil
            }
            try await Task.sleep(for: .seconds(3))  // anything doubled would show up by now

            // Inbound: every message in its agent's inbox exactly once.
            var delivered: [Int: Int] = [:]
            for agent in ["kasra", "builder"] {
                for entry in try await stack.entries(BusKeys.inbox(agent)) {
                    guard let index = Self.index(in: entry.fields["content"] ?? "") else { continue }
                    delivered[index, default: 0] += 1
                    #expect(Self.routes[index % Self.routes.count].agent == agent, "chaos-\(index) went to \(agent)")
                }
            }
            let inboundLost = (0..<total).filter { delivered[$0] == nil }
            let inboundDoubled = delivered.filter { $0.value > 1 }.keys.sorted()

            // Outbound: every answer posted exactly once, per channel in the order the agent sent them.
            let posts = try await stack.simulator.posts()
            var posted: [Int: Int] = [:]
            var postedOrder: [String: [Int]] = [:]
            for post in posts {
                guard let index = Self.index(in: post.content) else { continue }
                posted[index, default: 0] += 1
                postedOrder[post.channelID, default: []].append(index)
            }
            var sentOrder: [String: [Int]] = [:]
            for entry in try await stack.entries("sos:inbox:discord-connector") {
                guard let index = Self.index(in: entry.fields["text"] ?? "") else { continue }
                sentOrder[Self.routes[index % Self.routes.count].channel, default: []].append(index)
            }
            let repliesLost = (0..<total).filter { posted[$0] == nil }
            let repliesDoubled = posted.filter { $0.value > 1 }.keys.sorted()

            let kills = faults.kills.values.reduce(0, +)
            print("""
            fault injection: messages=\(total) kills=\(kills) \(faults.kills.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) \
            reconnects=\(faults.reconnects) drops=\(faults.drops) discord_errors=\(faults.discordErrors) redis_restarts=\(faults.redisRestarts) | \
            inbound lost=\(inboundLost.count) duplicated=\(inboundDoubled.count) | replies posted=\(posts.count) lost=\(repliesLost.count) duplicated=\(repliesDoubled.count)
            """)
            #expect(drained == true)
            #expect(inboundLost.isEmpty, "lost: \(inboundLost.prefix(20))")
            #expect(inboundDoubled.isEmpty, "doubled: \(inboundDoubled.prefix(20))")
            #expect(repliesLost.isEmpty, "replies lost: \(repliesLost.prefix(20))")
            #expect(repliesDoubled.isEmpty, "replies doubled: \(repliesDoubled.prefix(20))")
            for route in Self.routes {
                #expect(postedOrder[route.channel] == sentOrder[route.channel], "order in channel \(route.channel)")
            }
            for service in ["Ingest", "Dispatcher", "Replier"] {
                #expect(faults.kills[service, default: 0] >= 1, "\(service) was never killed")
            }
            #expect(try await stack.simulator.stats()["max_active_sessions"]?.doubleValue == 1)
        }
    }

    struct FaultLog: Sendable {
        var kills: [String: Int] = [:]
        var reconnects = 0
        var drops = 0
        var discordErrors = 0
        var redisRestarts = 0
    }

    static func index(in text: String) -> Int? {
        text.firstMatch(of: #/chaos-(\d+)/#).flatMap { Int($0.output.1) }
    }

    /// Set once, read from another task.
    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        var isSet: Bool { lock.withLock { value } }
        func set() { lock.withLock { value = true } }
    }

    /// SIGKILL, a short pause, and the same service again under the same name.
    static func killAndRestart(_ name: String, in stack: ConnectorStack) async throws {
        guard let process = stack.services[name] else { return }
        process.signal(SIGKILL)
        await process.waitForExit(timeout: .seconds(5))
        try await Task.sleep(for: .milliseconds(Int64.random(in: 100...700)))  // simulated downtime of random length
        try stack.start(name)
    }
}
