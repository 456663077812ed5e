import Foundation
import Shared
import Testing
import TestSupport

/// Buttons and selects end to end (CONTRACT sections 6 and 7): an agent's reply carries them,
/// a person clicks in the simulator, the click reaches the agent that posted them (over the
/// gateway, through Ingest and the Dispatcher), and the agent's answer edits the clicked message.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ComponentTests {
    typealias World = DiscordSimulatorProcess.World
    static let connectorInbox = "sos:inbox:discord-connector"

    /// A human's request in #general, delivered to kasra (the default agent): its request id.
    func request(_ stack: ConnectorStack, _ text: String) async throws -> String {
        let before = try await stack.entries("sos:inbox:kasra").count
        try await stack.simulator.inject(channelID: World.general, content: text, mentionBot: true)
        let entry = try #require(await eventually { () -> StreamEntry? in
            let entries = try? await stack.entries("sos:inbox:kasra")
            return (entries?.count ?? 0) > before ? entries?.last : nil
        })
        return try #require(entry.fields["request_id"])
    }

    /// The agent's reply record on the connector's inbox.
    func reply(_ stack: ConnectorStack, from agent: String = "kasra", _ fields: [(String, String)]) async throws {
        try await stack.redis.client.run(XADD(Self.connectorInbox, fields: StreamFields([("from", agent), ("to", "discord-connector")] + fields)))
    }

    func post(_ stack: ConnectorStack, where match: @escaping @Sendable (SimulatedPost) -> Bool) async -> SimulatedPost? {
        await eventually(timeout: .seconds(15)) { try? await stack.simulator.posts().first(where: match) }
    }

    /// The `kind=component` records in an agent's inbox.
    func clicks(_ stack: ConnectorStack, agent: String = "kasra") async throws -> [StreamEntry] {
        try await stack.entries("sos:inbox:\(agent)").filter { $0.fields["kind"] == "component" }
    }

    static func customIDs(_ post: SimulatedPost) -> [String] {
        guard case .array(let rows)? = post.components else { return [] }
        return rows.flatMap { row -> [String] in
            guard case .array(let children)? = row["components"] else { return [] }
            return children.compactMap { $0["custom_id"]?.stringValue }
        }
    }

    @Test("Approve/Deny: the buttons are posted with signed ids, a click reaches the posting agent once with its own custom_id, update=1 edits the message and removes the buttons")
    func approve() async throws {
        try await ConnectorStack.with(label: "buttons") { stack in
            try await stack.startServices()
            let requestID = try await request(stack, "deploy 1.4.2?")
            try await reply(stack, [("text", "Deploy 1.4.2 to prod?"), ("ack_for", requestID), ("buttons", #"["Approve","Deny"]"#)])
            let question = try #require(await post(stack) { $0.content == "Deploy 1.4.2 to prod?" })
            let ids = Self.customIDs(question)
            #expect(ids.count == 2)
            // What Discord sees is the connector's signed id, never the agent's own.
            #expect(!ids.contains("Approve") && ids.allSatisfy { $0.hasPrefix("c1:") })

            let click = try await stack.simulator.click(messageID: question.id, label: "Approve")
            let acknowledged = await eventually { try? await stack.simulator.interactionCallbacks().first { $0.interactionID == click.id } }
            #expect(acknowledged?.type == 6)
            #expect(acknowledged?.accepted == true)
            #expect((acknowledged?.latencyMicros ?? .max) < 3_000_000)

            let delivered = try #require(await eventually { try? await clicks(stack).first })
            #expect(delivered.fields["custom_id"] == "Approve")
            #expect(delivered.fields["component_label"] == "Approve")
            #expect(delivered.fields["values"] == "[]")
            #expect(delivered.fields["answers_request"] == requestID)
            #expect(delivered.fields["message_id"] == question.id)
            #expect(delivered.fields["author_id"] == World.human)
            #expect(delivered.fields["channel_id"] == World.general)
            let clickRequest = try #require(delivered.fields["request_id"])
            #expect(clickRequest != requestID)

            try await reply(stack, [("text", "Approved by alice - deploying"), ("ack_for", clickRequest), ("update", "1")])
            let updated = try #require(await post(stack) { $0.id == question.id && $0.content == "Approved by alice - deploying" })
            #expect(Self.customIDs(updated).isEmpty)
            // Edited in place: no new message for the answer.
            #expect(try await stack.simulator.posts().filter { $0.content.contains("Approved") }.count == 1)
            // Once: the Dispatcher delivered the click a single time.
            #expect(try await clicks(stack).count == 1)

            // The operator sees the click counted (a command would be too; messages are not interactions).
            let status = await eventually { () -> String? in
                let run = try? await runToCompletion("connector", arguments: ["status"], environment: ["MUMEGA_BUS_URL": stack.redis.url])
                return run?.output.contains("Interactions: 1 received, 0 acknowledged late") == true ? run?.output : nil
            }
            #expect(status?.contains("0 failed") == true, "\(status ?? "no Interactions line")")
        }
    }

    @Test("a forged or tampered custom_id reaches nobody and gets an ephemeral refusal")
    func forged() async throws {
        try await ConnectorStack.with(label: "buttons-forged") { stack in
            try await stack.startServices()
            let requestID = try await request(stack, "ship it?")
            try await reply(stack, [("text", "Ship?"), ("ack_for", requestID), ("buttons", #"["Ship"]"#)])
            let question = try #require(await post(stack) { $0.content == "Ship?" })
            let signed = try #require(Self.customIDs(question).first)
            let forgeries = ["Ship", signed.replacingOccurrences(of: ":0:", with: ":1:"), String(signed.dropLast()) + (signed.last == "A" ? "B" : "A")]
            for forged in forgeries {
                let interaction = try await stack.simulator.createInteraction(type: 3, customID: forged, componentType: 2, messageID: question.id)
                let callback = await eventually { try? await stack.simulator.interactionCallbacks().first { $0.interactionID == interaction.id } }
                #expect(callback?.type == 4, "\(forged)")
                let refusal = await post(stack) { $0.interactionID == interaction.id }
                #expect(refusal?.flags == 64)
            }
            // The Dispatcher had every chance to deliver them: the genuine click after them arrives alone.
            _ = try await stack.simulator.click(messageID: question.id, customID: signed)
            let delivered = await eventually { () -> [StreamEntry]? in
                let found = try? await clicks(stack)
                return found?.isEmpty == false ? found : nil
            }
            #expect(delivered?.count == 1)
            #expect(delivered?.first?.fields["custom_id"] == "Ship")
        }
    }

    @Test("a select delivers its values; an outbound message's buttons reach the agent that sent them, though no mapping names it")
    func selectAndOutbound() async throws {
        try await ConnectorStack.with(label: "buttons-select") { stack in
            try await stack.startServices()
            let select = #"[{"type":1,"components":[{"type":3,"custom_id":"region","placeholder":"Region","options":[{"label":"EU","value":"eu"},{"label":"US","value":"us"}],"max_values":2}]}]"#
            try await reply(stack, from: "planner", [("text", "Where to?"), ("channel_id", World.general), ("components", select)])
            let question = try #require(await post(stack) { $0.content == "Where to?" })
            let signed = try #require(Self.customIDs(question).first)
            _ = try await stack.simulator.click(messageID: question.id, customID: signed, values: ["eu", "us"])
            let delivered = try #require(await eventually { try? await clicks(stack, agent: "planner").first })
            #expect(delivered.fields["custom_id"] == "region")
            #expect(delivered.fields["values"] == #"["eu","us"]"#)
            #expect(delivered.fields["answers_request"] == "")
            #expect(delivered.fields["to"] == "planner")
        }
    }

    @Test("an update after the click's token expired edits the message through the channel; invalid components are dead-lettered with the reason")
    func expiredUpdateAndInvalid() async throws {
        try await ConnectorStack.with(label: "buttons-expired") { stack in
            try await stack.startServices()
            let requestID = try await request(stack, "restart?")
            try await reply(stack, [("text", "Restart the cluster?"), ("ack_for", requestID), ("buttons", #"["Yes","No"]"#)])
            let question = try #require(await post(stack) { $0.content == "Restart the cluster?" })
            let click = try await stack.simulator.click(messageID: question.id, label: "No")
            let delivered = try #require(await eventually { try? await clicks(stack).first })
            try await stack.simulator.expireInteraction(click.id)
            try await reply(stack, [("text", "Not restarting."), ("ack_for", delivered.fields["request_id"] ?? ""), ("update", "1")])
            let updated = try #require(await post(stack) { $0.id == question.id && $0.content == "Not restarting." })
            #expect(Self.customIDs(updated).isEmpty)

            try await reply(stack, [("text", "Too many"), ("ack_for", requestID), ("buttons", #"["1","2","3","4","5","6"]"#)])
            let dead = await eventually { try? await stack.entries("discord:dead").first { $0.fields["reason"]?.contains("buttons") == true } }
            #expect(dead?.fields["reason"]?.contains("1 to 5 labels") == true)
            #expect(try await stack.simulator.posts().contains { $0.content == "Too many" } == false)
        }
    }
}
