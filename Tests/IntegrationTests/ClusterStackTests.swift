import Foundation
import Logging
import Shared
import Testing
import TestSupport

/// The services on a real three-primary Redis Cluster (CONTRACT section 9): the keys of each
/// atomic step share a hash tag, the inbound and reply partitions and the agents' inboxes spread
/// over the nodes, and the steps that cross slots are idempotent sequences (`InboundAcceptor`,
/// `BusMove`), so delivery stays exactly once both ways.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct ClusterStackTests {
    /// Three agent names whose inboxes land on three different nodes.
    func spreadAgents(_ cluster: RedisClusterGroup) async throws -> [String] {
        var byNode: [Int: String] = [:]
        for index in 0..<200 where byNode.count < 3 {
            let name = "agent-\(index)"
            let owner = try await cluster.owner(of: ClusterSlots.slot(of: BusKeys.inbox(name)))
            if byNode[owner] == nil { byNode[owner] = name }
        }
        guard byNode.count == 3 else { throw TestSupportError("no three agents on three nodes") }
        return byNode.values.sorted()
    }

    @Test("a 3-master cluster: 300 messages over 10 channels and 3 agents, each delivered and answered once, in order per channel, with keys on all three nodes")
    func roundTripsOnACluster() async throws {
        try await RedisClusterGroup.with(label: "cluster-stack") { cluster in try await run(cluster) }
    }

    func run(_ cluster: RedisClusterGroup) async throws {
        let agents = try await spreadAgents(cluster)
        let environment = [
            "MUMEGA_BUS_URL": cluster.url, "TYPING_INDICATOR": "0", "UNANSWERED_NOTICE_AFTER": "0",
            "DISCORD_GLOBAL_RATE_LIMIT": "100000",
        ]
        try await ConnectorStack.with(label: "cluster-stack", environment: environment, simulatorArguments: ["--rate-limit", "100000/1"]) { stack in
            var channels: [String] = []
            for index in 0..<10 { channels.append(try await stack.simulator.createChannel(name: "cluster-\(index)")) }
            var map: [String: String] = [:]
            for (index, channel) in channels.enumerated() { map[channel] = agents[index % agents.count] }
            let mapped = ["MUMEGA_AGENT_MAP": try JSON.encodeString(map)]
            try stack.start("Ingest", environment: mapped)
            try stack.start("Dispatcher", environment: mapped)
            try stack.start("Replier", environment: mapped)
            try await stack.waitForGateway(sessions: 1)

            let total = 300
            for index in 0..<total {
                let channel = index % channels.count
                try await stack.simulator.inject(channelID: channels[channel], content: "c\(channel)-\(index / channels.count)")
            }
            let bus = RedisClient(url: try RedisURL(parsing: cluster.url), name: "cluster-test")
            let delivered = await eventually(timeout: .seconds(60)) { () -> [StreamEntry]? in
                var all: [StreamEntry] = []
                for agent in agents { all += (try? await bus.run(XRANGE(BusKeys.inbox(agent)))) ?? [] }
                return all.count >= total ? all : nil
            }
            let entries = try #require(delivered, "not every message reached an inbox: \(stack.logs())")
            let contents = entries.compactMap { $0.fields["content"] }
            #expect(contents.count == total)
            #expect(Set(contents).count == total)
            // Order per channel in the inboxes.
            for agent in agents {
                let inbox = try await bus.run(XRANGE(BusKeys.inbox(agent))).compactMap { $0.fields["content"] }
                for channel in 0..<channels.count {
                    let sequence = inbox.filter { $0.hasPrefix("c\(channel)-") }.compactMap { Int($0.split(separator: "-").last ?? "") }
                    #expect(sequence == sequence.sorted(), "channel \(channel) out of order in \(agent)'s inbox")
                }
            }

            // Each agent answers on its own outbox.
            for entry in entries {
                guard let request = entry.fields["request_id"], let content = entry.fields["content"], let agent = entry.fields["to"] else { continue }
                try await bus.run(XADD(BusKeys.outbox(agent), fields: [("to", "discord-connector"), ("text", "answer \(content)"), ("ack_for", request)]))
            }
            let posted = await eventually(timeout: .seconds(60)) { () -> [SimulatedPost]? in
                let posts = ((try? await stack.simulator.posts()) ?? []).filter { $0.content.hasPrefix("answer ") }
                return posts.count >= total ? posts : nil
            }
            let posts = try #require(posted, "not every answer was posted: \(stack.logs())")
            try await Task.sleep(for: .milliseconds(500))  // a quiet period: a doubled post would show by now
            let final = try await stack.simulator.posts().filter { $0.content.hasPrefix("answer ") }
            #expect(final.count == total)
            #expect(Set(final.map(\.content)).count == total)
            for (index, channel) in channels.enumerated() {
                let sequence = posts.filter { $0.channelID == channel }.compactMap { Int($0.content.split(separator: "-").last ?? "") }
                #expect(sequence == Array(0..<(total / channels.count)), "channel \(index) answers out of order or missing")
            }
            // The work is spread: every node holds keys, and the connector's own streams (inbound
            // and reply partitions) sit on more than one node.
            for node in cluster.nodes {
                #expect(try await cluster.client(port: node.port).send("DBSIZE").int ?? 0 > 0, "node \(node.port) holds no key")
            }
            let keys = BusKeys(connectorAgentName: "discord-connector", cluster: true)
            var inboundNodes: Set<Int> = [], replyNodes: Set<Int> = []
            var inboundEntries = 0
            for partition in 0..<4 {
                let length = try await bus.run(XLEN(keys.inbound(partition)))
                inboundEntries += length
                if length > 0 { inboundNodes.insert(try await cluster.owner(of: ClusterSlots.slot(of: keys.inbound(partition)))) }
            }
            for partition in 0..<8 where try await bus.run(XLEN(keys.replyPartition(partition))) > 0 {
                replyNodes.insert(try await cluster.owner(of: ClusterSlots.slot(of: keys.replyPartition(partition))))
            }
            #expect(inboundEntries == total)
            #expect(inboundNodes.count >= 2, "inbound partitions on \(inboundNodes)")
            #expect(replyNodes.count >= 2, "reply partitions on \(replyNodes)")
            #expect(try await bus.run(XLEN(keys.deadLetters)) == 0, "dead letters on the cluster")
        }
    }

    @Test("on a cluster, a SIGKILL of each stage (Ingest, Dispatcher, Replier) in the middle of traffic loses and doubles nothing")
    func killsOnACluster() async throws {
        try await RedisClusterGroup.with(label: "cluster-kills") { cluster in try await kills(cluster) }
    }

    func kills(_ cluster: RedisClusterGroup) async throws {
        let environment = [
            "MUMEGA_BUS_URL": cluster.url, "TYPING_INDICATOR": "0", "UNANSWERED_NOTICE_AFTER": "0",
            "DISCORD_GLOBAL_RATE_LIMIT": "100000", "CONSUMER_NAME": "only-copy",
        ]
        try await ConnectorStack.with(label: "cluster-kills", environment: environment, simulatorArguments: ["--rate-limit", "100000/1"]) { stack in
            try await stack.startServices()
            let bus = RedisClient(url: try RedisURL(parsing: cluster.url), name: "cluster-kills")
            let session = BusKeys(connectorAgentName: "discord-connector", cluster: true).gatewaySession(shard: 0)
            var sent = 0
            func send(_ count: Int) async throws {
                for _ in 0..<count {
                    try await stack.simulator.inject(channelID: DiscordSimulatorProcess.World.general, content: "k\(sent)", mentionBot: true)
                    sent += 1
                }
            }
            func kill(_ name: String) async throws {
                stack.services[name]?.signal(SIGKILL)
                _ = await stack.services[name]?.waitForExit(timeout: .seconds(5))
            }
            // Inbound: the Dispatcher, then Ingest (once its session is saved), killed mid-stream.
            try await send(20)
            try await kill("Dispatcher")
            try await send(20)
            try stack.start("Dispatcher")
            _ = await eventually { try? await bus.run(HGET(session, field: "session_id")) }
            try await send(10)
            try await kill("Ingest")
            try await send(20)
            try stack.start("Ingest")
            try await stack.waitForGateway(sessions: 2)
            try await send(10)
            let delivered = await eventually(timeout: .seconds(60)) { () -> [StreamEntry]? in
                let entries = (try? await bus.run(XRANGE("sos:inbox:kasra"))) ?? []
                return entries.count >= sent ? entries : nil
            }
            let entries = try #require(delivered, "not every message reached kasra: \(stack.logs())")
            try await Task.sleep(for: .milliseconds(500))  // a quiet period: a doubled delivery would show by now
            let contents = try await bus.run(XRANGE("sos:inbox:kasra")).compactMap { $0.fields["content"]?.split(separator: " ").last.map(String.init) }
            #expect(contents.count == sent)
            #expect(Set(contents) == Set((0..<sent).map { "k\($0)" }))

            // Replies: the Replier killed while they flow.
            for (index, entry) in entries.enumerated() {
                guard let request = entry.fields["request_id"], let content = entry.fields["content"]?.split(separator: " ").last else { continue }
                try await bus.run(XADD("sos:inbox:discord-connector", fields: [("from", "kasra"), ("to", "discord-connector"), ("text", "re \(content)"), ("ack_for", request)]))
                if index == sent / 2 {
                    try await kill("Replier")
                    try stack.start("Replier")
                }
            }
            let posted = await eventually(timeout: .seconds(60)) { () -> Int? in
                let posts = ((try? await stack.simulator.posts()) ?? []).filter { $0.content.hasPrefix("re k") }
                return Set(posts.map(\.content)).count >= sent ? posts.count : nil
            }
            #expect(posted != nil, "not every answer was posted: \(stack.logs())")
            try await Task.sleep(for: .milliseconds(500))
            let answers = try await stack.simulator.posts().filter { $0.content.hasPrefix("re k") }.map(\.content)
            #expect(answers.count == sent, "doubled answers: \(answers.count - Set(answers).count)")
        }
    }

    @Test("on a cluster, an inbound partition, the bookkeeping slot, an agent's inbox and a reply partition are migrated to other nodes while messages and answers flow (ASK, TRYAGAIN, then MOVED): nothing lost or doubled")
    func migrationUnderTraffic() async throws {
        try await RedisClusterGroup.with(label: "cluster-migrate") { cluster in try await migrateUnderTraffic(cluster) }
    }

    func migrateUnderTraffic(_ cluster: RedisClusterGroup) async throws {
        let environment = [
            "MUMEGA_BUS_URL": cluster.url, "TYPING_INDICATOR": "0", "UNANSWERED_NOTICE_AFTER": "0",
            "DISCORD_GLOBAL_RATE_LIMIT": "100000",
        ]
        try await ConnectorStack.with(label: "cluster-migrate", environment: environment, simulatorArguments: ["--rate-limit", "100000/1"]) { stack in
            try await stack.startServices()
            let bus = RedisClient(url: try RedisURL(parsing: cluster.url), name: "cluster-migrate")
            let total = 200
            // The agent answers whatever it receives, as it arrives.
            let agent = Task {
                var cursor = "0", answered = 0
                while answered < total, !Task.isCancelled {
                    guard let entries = try? await bus.run(XREAD("sos:inbox:kasra", after: cursor, count: 50, block: 500)) else { continue }
                    for entry in entries {
                        cursor = entry.id
                        guard let request = entry.fields["request_id"], let content = entry.fields["content"]?.split(separator: " ").last else { continue }
                        _ = try? await RedisClient.retrying(logger: .init(label: "agent"), what: "answering") { () throws(RedisError) in
                            try await bus.run(XADD("sos:outbox:kasra", fields: [("to", "discord-connector"), ("text", "ans \(content)"), ("ack_for", request)]))
                        }
                        answered += 1
                    }
                }
            }
            let sender = Task {
                for index in 0..<total {
                    try await stack.simulator.inject(channelID: DiscordSimulatorProcess.World.general, content: "mig\(index)", mentionBot: true)
                    try await Task.sleep(for: .milliseconds(15))
                }
            }
            try await Task.sleep(for: .milliseconds(600))
            // The general channel's inbound partition (with its seen-markers and group), the
            // connector's bookkeeping slot (discord:{bus}:...), kasra's inbox and the channel's
            // reply partition move.
            let keys = BusKeys(connectorAgentName: "discord-connector", cluster: true)
            let inbound = keys.inbound(BusKeys.partition(of: DiscordSimulatorProcess.World.general, count: 4))
            let replies = keys.replyPartition(BusKeys.partition(of: DiscordSimulatorProcess.World.general, count: 8))
            for key in [inbound, keys.cursors, "sos:inbox:kasra", replies] {
                let slot = ClusterSlots.slot(of: key)
                let owner = try await cluster.owner(of: slot)
                let target = try #require(cluster.nodes.first { $0.port != owner }?.port)
                try await cluster.migrate(slot: slot, to: target, batch: 5, pause: .milliseconds(30), hold: .milliseconds(300))
                #expect(try await cluster.owner(of: slot) == target)
            }
            try await sender.value
            let posted = await eventually(timeout: .seconds(60)) { () -> Int? in
                let posts = ((try? await stack.simulator.posts()) ?? []).filter { $0.content.hasPrefix("ans mig") }
                return Set(posts.map(\.content)).count >= total ? posts.count : nil
            }
            agent.cancel()
            #expect(posted != nil, "not every answer was posted: \(stack.logs())")
            try await Task.sleep(for: .milliseconds(500))  // a quiet period: a doubled post would show by now
            let inbox = try await bus.run(XRANGE("sos:inbox:kasra")).compactMap { $0.fields["content"]?.split(separator: " ").last.map(String.init) }
            #expect(inbox.count == total)
            #expect(Set(inbox) == Set((0..<total).map { "mig\($0)" }))
            let answers = try await stack.simulator.posts().filter { $0.content.hasPrefix("ans mig") }.map(\.content)
            #expect(answers.count == total, "doubled answers: \(answers.count - Set(answers).count)")
        }
    }
}
