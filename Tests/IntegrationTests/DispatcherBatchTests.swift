import Foundation
import Shared
import Testing
import TestSupport

/// The Dispatcher forwards what it reads as one pipelined batch (`InboxDelivery.deliver(batch:)`)
/// with the guarantees of one entry at a time: a poison entry in a batch is dead-lettered alone,
/// and a batch cut short by a crash is finished by the restarted Dispatcher, in order, once.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct DispatcherBatchTests {
    static let agent = "kasra"

    func message(_ index: Int) -> InboundMessage {
        InboundMessage(
            requestID: "request-\(index)", kind: .mention, guildID: DiscordSimulatorProcess.World.guildID,
            channelID: DiscordSimulatorProcess.World.general, threadID: "", messageID: String(1_300_000_000_000_000_000 + index),
            authorID: DiscordSimulatorProcess.World.human, authorName: "alice", content: "batch \(index)", timestamp: "2026-12-07T00:00:00.000Z"
        )
    }

    /// The `content` of every record in the agent's inbox, in stream order.
    func inbox(_ stack: ConnectorStack) async throws -> [String] {
        try await stack.entries(BusKeys.inbox(Self.agent)).compactMap { $0.fields["content"] }
    }

    @Test("a poison entry in the middle of a batch goes to discord:dead alone; the batch around it is delivered once, in order")
    func poisonInBatch() async throws {
        try await ConnectorStack.with(label: "dispatch-poison") { stack in
            let bus = stack.redis.client
            // Written before the Dispatcher starts: its first read takes all 40 as one batch.
            for index in 0..<40 {
                if index == 17 {
                    try await bus.run(XADD("discord:inbound", fields: [("garbage", "not an inbound record")]))
                } else {
                    try await bus.run(XADD("discord:inbound", fields: message(index).streamFields))
                }
            }
            try stack.start("Dispatcher")
            let expected = (0..<40).filter { $0 != 17 }.map { "batch \($0)" }
            let delivered = await eventually(timeout: .seconds(20)) { () -> [String]? in
                let contents = (try? await inbox(stack)) ?? []
                return contents.count >= expected.count ? contents : nil
            }
            #expect(delivered == expected, "\(stack.logs())")
            // The dead letter is written once the batch's deliveries are done: wait for it too.
            let dead = await eventually(timeout: .seconds(10)) { () -> [StreamEntry]? in
                let entries = (try? await stack.entries("discord:dead")) ?? []
                return entries.isEmpty ? nil : entries
            } ?? []
            #expect(dead.count == 1)
            #expect(dead.first?.fields["reason"]?.contains("unreadable inbound record") == true)
            #expect(dead.first?.fields["field:garbage"] == "not an inbound record")
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await inbox(stack) == expected)
            #expect(try await bus.run(XPENDING("discord:inbound", group: BusKeys.dispatcherGroup, count: 100)).isEmpty)
        }
    }

    @Test("a batch cut by a crash after 12 of its 30 moves: the restarted Dispatcher finishes the other 18, in order, each once")
    func batchCutByCrash() async throws {
        try await ConnectorStack.with(label: "dispatch-crash") { stack in
            let bus = stack.redis.client
            let consumer = "dispatcher-crashed"
            var ids: [String] = []
            for index in 0..<30 { ids.append(try await bus.run(XADD("discord:inbound", fields: message(index).streamFields))) }
            // The crashed Dispatcher had read the whole batch (all 30 pending to it) ...
            try await bus.run(XGROUPCREATE("discord:inbound", group: BusKeys.dispatcherGroup, start: "0"))
            let read = try await bus.run(XREADGROUP(group: BusKeys.dispatcherGroup, consumer: consumer, count: 30, stream: "discord:inbound", id: ">"))
            #expect(read.count == 30)
            // ... and its pipeline had run the first 12 forwarding scripts when it died.
            let signer = CtxSigner(key: "test-signing-key")
            for index in 0..<12 {
                let record = AgentInboxRecord(message: message(index), agent: Self.agent, connectorAgentName: "discord-connector", ctxBlock: signer.block(for: "request-\(index)"))
                let moved = try await bus.run(BusScripts.forwardToInbox.call(
                    keys: ["discord:inbound", BusKeys.inbox(Self.agent)],
                    arguments: [RedisBytes(BusKeys.dispatcherGroup), RedisBytes(ids[index]), RedisBytes(Self.agent)] + record.streamFields.flattened
                ))
                #expect(moved.int == 1)
            }
            // Restarted under the same name, it reads its own pending entries first.
            try stack.start("Dispatcher", environment: ["CONSUMER_NAME": consumer])
            let expected = (0..<30).map { "batch \($0)" }
            let delivered = await eventually(timeout: .seconds(20)) { () -> [String]? in
                let contents = (try? await inbox(stack)) ?? []
                return contents.count >= expected.count ? contents : nil
            }
            #expect(delivered == expected, "\(stack.logs())")
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await inbox(stack) == expected)
            #expect(try await bus.run(XPENDING("discord:inbound", group: BusKeys.dispatcherGroup, count: 100)).isEmpty)
            #expect(try await stack.entries("discord:dead").isEmpty)
        }
    }
}

/// Bursts through the whole inbound path, where every stage writes in batches.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct InboundBurstTests {
    @Test("a burst of 3,000 messages in three injections: each in the agent's inbox exactly once, in order")
    func burst() async throws {
        try await ConnectorStack.with(label: "burst", environment: ["TYPING_INDICATOR": "1", "UNANSWERED_NOTICE_AFTER": "0"], startingServices: true) { stack in
            let total = 3_000
            for start in stride(from: 0, to: total, by: 1_000) {
                let batch = (start..<(start + 1_000)).map { ["channel_id": DiscordSimulatorProcess.World.dm, "content": "burst-\($0)"] as [String: Any] }
                _ = try await stack.simulator.control("POST", "/_sim/messages/batch", body: ["messages": batch])
            }
            let delivered = await eventually(timeout: .seconds(60)) { () -> [String]? in
                let contents = ((try? await stack.entries("sos:inbox:kasra")) ?? []).compactMap { $0.fields["content"] }
                return contents.count >= total ? contents : nil
            }
            let inbound = try await stack.entries("discord:inbound").compactMap { $0.fields["content"] }
            let inbox = try await stack.entries("sos:inbox:kasra").compactMap { $0.fields["content"] }
            let missing = Set((0..<total).map { "burst-\($0)" }).subtracting(inbox)
            #expect(delivered != nil, "inbound \(inbound.count), inbox \(inbox.count), missing from the inbox: \(missing.sorted().prefix(10)), from inbound: \(Set((0..<total).map { "burst-\($0)" }).subtracting(inbound).sorted().prefix(10))\n\(stack.logs())")
            #expect(inbox == (0..<total).map { "burst-\($0)" })
            #expect(inbound.count == total)
        }
    }
}
