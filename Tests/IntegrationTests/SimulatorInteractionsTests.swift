import Foundation
import Logging
import Shared
import Testing
import TestSupport

/// The simulator's interactions, against the simulator process alone: the control call that
/// creates one, the callback (deadline, double acknowledgement), the interaction webhook
/// (`@original`, follow-ups, token lifetime) and application command registration.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SimulatorInteractionsTests {
    typealias World = DiscordSimulatorProcess.World

    func withSimulator(arguments: [String] = ["--no-rate-limit"], _ body: (DiscordSimulatorProcess, HTTPClient) async throws -> Void) async throws {
        let directory = try makeScratchDirectory("sim-interactions")
        let simulator = try await DiscordSimulatorProcess(directory: directory, arguments: arguments)
        do {
            try await body(simulator, HTTPClient(timeout: .seconds(10), name: "sim-interactions-test"))
        } catch {
            await simulator.stop()
            throw error
        }
        await simulator.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static func json(_ object: Any) throws -> HTTPBody {
        .json(try JSONSerialization.data(withJSONObject: object))
    }

    static func decode(_ response: HTTPResponse) -> JSONValue? {
        try? JSON.decode(JSONValue.self, from: response.body)
    }

    static func errorCode(_ response: HTTPResponse) -> Int? {
        decode(response)?["code"]?.intValue
    }

    func callback(_ simulator: DiscordSimulatorProcess, _ http: HTTPClient, _ interaction: SimulatedInteraction, _ body: [String: Any], query: String = "") async throws -> HTTPResponse {
        try await http.request(
            method: "POST", url: simulator.apiBase + "/interactions/\(interaction.id)/\(interaction.token)/callback" + query,
            body: try Self.json(body)
        )
    }

    func webhook(_ simulator: DiscordSimulatorProcess, _ token: String, _ suffix: String = "") -> String {
        simulator.apiBase + "/webhooks/\(World.botUserID)/\(token)" + suffix
    }

    @Test("a created interaction has Discord's shape: member in a guild, user in a DM, a unique token")
    func interactionShape() async throws {
        try await withSimulator { simulator, _ in
            let guildOne = try await simulator.createInteraction(
                channelID: World.general, options: [["name": "prompt", "type": 3, "value": "hello"]], deliver: "none"
            )
            let object = guildOne.interaction
            #expect(object["id"]?.stringValue == guildOne.id)
            #expect(object["token"]?.stringValue == guildOne.token)
            #expect(object["application_id"]?.stringValue == World.botUserID)
            #expect(object["type"]?.intValue == 2)
            #expect(object["version"]?.intValue == 1)
            #expect(object["guild_id"]?.stringValue == World.guildID)
            #expect(object["channel_id"]?.stringValue == World.general)
            #expect(object["channel"]?["id"]?.stringValue == World.general)
            #expect(object["member"]?["user"]?["id"]?.stringValue == World.human)
            #expect(object["user"] == nil)
            #expect(object["app_permissions"]?.stringValue != nil)
            #expect(object["locale"]?.stringValue == "en-US")
            #expect(object["data"]?["name"]?.stringValue == "ask")
            #expect(object["data"]?["type"]?.intValue == 1)
            #expect(object["data"]?["options"] == .array([.object(["name": .string("prompt"), "type": .number(3), "value": .string("hello")])]))
            #expect(guildOne.dispatchedAtMicros == nil)

            let dm = try await simulator.createInteraction(channelID: World.dm, deliver: "none")
            #expect(dm.interaction["user"]?["id"]?.stringValue == World.human)
            #expect(dm.interaction["member"] == nil)
            #expect(dm.interaction["guild_id"] == nil)
            #expect(dm.token != guildOne.token)

            let thread = try await simulator.createInteraction(channelID: World.thread, deliver: "none")
            #expect(thread.interaction["channel"]?["parent_id"]?.stringValue == World.agents)
            #expect(thread.interaction["channel"]?["type"]?.intValue == 11)

            // Delivered over the gateway (no session here): still answers when it was dispatched.
            let delivered = try await simulator.createInteraction(channelID: World.general)
            #expect(delivered.dispatchedAtMicros != nil)

            let component = try await simulator.createInteraction(
                type: 3, channelID: World.general, customID: "pick", componentType: 3, values: ["a", "b"], deliver: "none"
            )
            #expect(component.interaction["data"]?["custom_id"]?.stringValue == "pick")
            #expect(component.interaction["data"]?["component_type"]?.intValue == 3)
            #expect(component.interaction["data"]?["values"] == .array([.string("a"), .string("b")]))
        }
    }

    @Test("defer, a second callback, @original, a follow-up, and the posts list")
    func deferEditFollowup() async throws {
        try await withSimulator { simulator, http in
            let interaction = try await simulator.createInteraction(deliver: "none")

            // Editing @original before any response: Unknown Message.
            let early = try await http.request(method: "PATCH", url: webhook(simulator, interaction.token, "/messages/@original"), body: try Self.json(["content": "too early"]))
            #expect(early.status == 404)
            #expect(Self.errorCode(early) == 10008)

            let deferred = try await callback(simulator, http, interaction, ["type": 5])
            #expect(deferred.status == 204, "\(deferred.bodyText)")

            let again = try await callback(simulator, http, interaction, ["type": 4, "data": ["content": "twice"]])
            #expect(again.status == 400)
            #expect(Self.errorCode(again) == 40060)
            #expect(Self.decode(again)?["message"]?.stringValue == "Interaction has already been acknowledged.")

            // The placeholder: loading, empty.
            let placeholder = try #require(try await simulator.posts().first)
            #expect(placeholder.kind == "original")
            #expect(placeholder.interactionID == interaction.id)
            #expect(placeholder.flags & 128 != 0)
            #expect(placeholder.content.isEmpty)

            let edit = try await http.request(
                method: "PATCH", url: webhook(simulator, interaction.token, "/messages/@original"),
                body: try Self.json(["content": "the answer", "components": [["type": 1, "components": [["type": 2, "style": 1, "label": "More", "custom_id": "more"]]]]])
            )
            #expect(edit.status == 200, "\(edit.bodyText)")
            let edited = try #require(Self.decode(edit))
            #expect(edited["content"]?.stringValue == "the answer")
            #expect(edited["id"]?.stringValue == placeholder.id)
            #expect((edited["flags"]?.intValue ?? -1) & 128 == 0)
            #expect(edited["interaction_metadata"]?["id"]?.stringValue == interaction.id)
            #expect(edited["components"]?.arrayFirst?["components"]?.arrayFirst?["custom_id"]?.stringValue == "more")

            let original = try await http.request(method: "GET", url: webhook(simulator, interaction.token, "/messages/@original"))
            #expect(original.status == 200)
            #expect(Self.decode(original)?["content"]?.stringValue == "the answer")

            let followup = try await http.request(method: "POST", url: webhook(simulator, interaction.token, "?wait=true"), body: try Self.json(["content": "one more thing"]))
            #expect(followup.status == 200, "\(followup.bodyText)")
            let followupId = try #require(Self.decode(followup)?["id"]?.stringValue)
            #expect(Self.decode(followup)?["interaction_metadata"]?["original_response_message_id"]?.stringValue == placeholder.id)

            let patchFollowup = try await http.request(method: "PATCH", url: webhook(simulator, interaction.token, "/messages/\(followupId)"), body: try Self.json(["content": "one more thing, edited"]))
            #expect(patchFollowup.status == 200, "\(patchFollowup.bodyText)")

            let posts = try await simulator.posts(channelID: World.general)
            #expect(posts.count == 2)
            let first = try #require(posts.first)
            #expect(first.kind == "original")
            #expect(first.content == "the answer")
            #expect(first.edited == 1)
            #expect(first.flags & 128 == 0)
            let second = try #require(posts.last)
            #expect(second.kind == "followup")
            #expect(second.id == followupId)
            #expect(second.interactionID == interaction.id)
            #expect(second.content == "one more thing, edited")
            #expect(second.edits.map(\.content) == ["one more thing, edited"])

            let callbacks = try await simulator.interactionCallbacks()
            #expect(callbacks.map(\.accepted) == [true, false])
            #expect(callbacks.first?.type == 5)
            #expect(callbacks.last?.code == 40060)
            #expect((callbacks.first?.latencyMicros ?? -1) >= 0)
        }
    }

    @Test("a type 4 answer, ephemeral follow-ups, with_response")
    func messageCallbackAndEphemeral() async throws {
        try await withSimulator { simulator, http in
            let interaction = try await simulator.createInteraction(channelID: World.agents, deliver: "none")
            let response = try await callback(simulator, http, interaction, ["type": 4, "data": ["content": "right away"]], query: "?with_response=true")
            #expect(response.status == 200, "\(response.bodyText)")
            let body = try #require(Self.decode(response))
            #expect(body["interaction"]?["id"]?.stringValue == interaction.id)
            #expect(body["resource"]?["type"]?.intValue == 4)
            #expect(body["resource"]?["message"]?["content"]?.stringValue == "right away")

            let ephemeral = try await http.request(method: "POST", url: webhook(simulator, interaction.token), body: try Self.json(["content": "only you", "flags": 64]))
            #expect(ephemeral.status == 200, "\(ephemeral.bodyText)")

            let posts = try await simulator.posts(channelID: World.agents)
            #expect(posts.map(\.kind) == ["original", "followup"])
            #expect(posts.map { $0.flags & 64 } == [0, 64])
        }
    }

    @Test("a callback later than 3 s is Unknown interaction")
    func callbackDeadline() async throws {
        try await withSimulator { simulator, http in
            let interaction = try await simulator.createInteraction(deliver: "none")
            try await Task.sleep(for: .milliseconds(3200))
            let late = try await callback(simulator, http, interaction, ["type": 5])
            #expect(late.status == 404)
            #expect(Self.errorCode(late) == 10062)
            #expect(Self.decode(late)?["message"]?.stringValue == "Unknown interaction")
            let callbacks = try await simulator.interactionCallbacks()
            #expect(callbacks.count == 1)
            #expect(callbacks.first?.accepted == false)
            #expect((callbacks.first?.latencyMicros ?? 0) >= 3_200_000)
        }
    }

    @Test("unknown ids and tokens, and an expired token")
    func tokenErrors() async throws {
        try await withSimulator(arguments: ["--no-rate-limit", "--interaction-token-ttl", "1"]) { simulator, http in
            let unknownCallback = try await http.request(
                method: "POST", url: simulator.apiBase + "/interactions/123456789012345678/nope/callback", body: try Self.json(["type": 5])
            )
            #expect(unknownCallback.status == 404)
            #expect(Self.errorCode(unknownCallback) == 10062)

            let unknownWebhook = try await http.request(method: "POST", url: webhook(simulator, "not-a-token"), body: try Self.json(["content": "x"]))
            #expect(unknownWebhook.status == 404)
            #expect(Self.errorCode(unknownWebhook) == 10015)
            #expect(Self.decode(unknownWebhook)?["message"]?.stringValue == "Unknown Webhook")

            let interaction = try await simulator.createInteraction(deliver: "none")
            let deferred = try await callback(simulator, http, interaction, ["type": 5])
            #expect(deferred.status == 204)
            try await Task.sleep(for: .milliseconds(1500))
            let expired = try await http.request(method: "POST", url: webhook(simulator, interaction.token), body: try Self.json(["content": "too late"]))
            #expect(expired.status == 401)
            #expect(Self.errorCode(expired) == 50027)
            #expect(Self.decode(expired)?["message"]?.stringValue == "Invalid Webhook Token")
        }
    }

    @Test("the expire control call invalidates one token at once")
    func expireControl() async throws {
        try await withSimulator { simulator, http in
            let interaction = try await simulator.createInteraction(deliver: "none")
            #expect(try await callback(simulator, http, interaction, ["type": 5]).status == 204)
            try await simulator.expireInteraction(interaction.id)
            let edit = try await http.request(method: "PATCH", url: webhook(simulator, interaction.token, "/messages/@original"), body: try Self.json(["content": "x"]))
            #expect(edit.status == 401)
            #expect(Self.errorCode(edit) == 50027)
        }
    }

    @Test("a component's type 7 callback edits the message it is on")
    func componentUpdate() async throws {
        try await withSimulator { simulator, http in
            let command = try await simulator.createInteraction(deliver: "none")
            #expect(try await callback(simulator, http, command, ["type": 4, "data": ["content": "pick one"]]).status == 204)
            let messageId = try #require(try await simulator.posts().first?.id)

            let click = try await simulator.createInteraction(type: 3, customID: "yes", componentType: 2, messageID: messageId, deliver: "none")
            #expect(click.interaction["message"]?["id"]?.stringValue == messageId)
            // A command cannot take type 7; a component can.
            let update = try await callback(simulator, http, click, ["type": 7, "data": ["content": "picked yes", "components": []]])
            #expect(update.status == 204, "\(update.bodyText)")
            let post = try #require(try await simulator.posts().first)
            #expect(post.content == "picked yes")
            #expect(post.edited == 1)

            let other = try await simulator.createInteraction(deliver: "none")
            let invalid = try await callback(simulator, http, other, ["type": 7, "data": ["content": "no"]])
            #expect(invalid.status == 400)
            #expect(Self.errorCode(invalid) == 50035)
        }
    }

    @Test("command registration: bulk overwrite twice, listed, counted, validated")
    func commandRegistration() async throws {
        try await withSimulator { simulator, http in
            let auth = ["Authorization": "Bot \(simulator.token)"]
            let url = simulator.apiBase + "/applications/\(World.botUserID)/commands"
            let commands: [[String: Any]] = [[
                "name": "ask", "description": "Ask the agent", "type": 1,
                "options": [["name": "prompt", "description": "What to ask", "type": 3, "required": true]],
            ]]
            let first = try await http.request(method: "PUT", url: url, headers: auth, body: try Self.json(commands))
            #expect(first.status == 200, "\(first.bodyText)")
            let firstId = try #require(Self.decode(first)?.arrayFirst?["id"]?.stringValue)
            let second = try await http.request(method: "PUT", url: url, headers: auth, body: try Self.json(commands))
            #expect(second.status == 200)
            #expect(Self.decode(second)?.arrayFirst?["id"]?.stringValue == firstId)

            let listed = try await http.request(method: "GET", url: url, headers: auth)
            #expect(listed.status == 200)
            #expect(Self.decode(listed)?.arrayFirst?["name"]?.stringValue == "ask")
            #expect(Self.decode(listed)?.arrayFirst?["application_id"]?.stringValue == World.botUserID)

            let stats = try await simulator.stats()
            #expect(stats["command_puts"]?.intValue == 2)

            // An interaction for the registered command carries its id.
            let interaction = try await simulator.createInteraction(deliver: "none")
            #expect(interaction.interaction["data"]?["id"]?.stringValue == firstId)

            let unauthenticated = try await http.request(method: "GET", url: url)
            #expect(unauthenticated.status == 401)

            let bad = try await http.request(method: "PUT", url: url, headers: auth, body: try Self.json([["name": "Ask Me", "description": ""]]))
            #expect(bad.status == 400)
            #expect(Self.errorCode(bad) == 50035)
            #expect(Self.decode(bad)?["errors"]?["0"]?["name"] != nil)
            #expect(Self.decode(bad)?["errors"]?["0"]?["description"] != nil)
            #expect(try await simulator.stats()["command_puts"]?.intValue == 2)

            let guildURL = simulator.apiBase + "/applications/\(World.botUserID)/guilds/\(World.guildID)/commands"
            let guildPut = try await http.request(method: "PUT", url: guildURL, headers: auth, body: try Self.json(commands))
            #expect(guildPut.status == 200)
            #expect(Self.decode(guildPut)?.arrayFirst?["guild_id"]?.stringValue == World.guildID)
        }
    }

    @Test("callbacks and webhooks need no bot token and are outside the global limit")
    func outsideGlobalLimit() async throws {
        try await withSimulator(arguments: ["--no-rate-limit", "--global-limit", "1"]) { simulator, http in
            let interaction = try await simulator.createInteraction(deliver: "none")
            #expect(try await callback(simulator, http, interaction, ["type": 5]).status == 204)
            for index in 0..<5 {
                let followup = try await http.request(method: "POST", url: webhook(simulator, interaction.token), body: try Self.json(["content": "follow-up \(index)"]))
                #expect(followup.status == 200, "\(followup.bodyText)")
            }
            #expect(try await simulator.stats()["global_rate_limited"]?.intValue == 0)
        }
    }
}

extension SimulatorInteractionsTests {
    actor Events {
        var all: [GatewayFrame.EventRef] = []
        func append(_ event: GatewayFrame.EventRef) { all.append(event) }
        func named(_ name: String) -> [GatewayFrame.EventRef] { all.filter { $0.name == name } }
    }

    struct NoStore: GatewaySessionStore {
        func load() async -> GatewaySession.Resumable? { nil }
        func save(_ resumable: GatewaySession.Resumable?) async {}
    }

    @Test("deliver gateway dispatches INTERACTION_CREATE; answers dispatch MESSAGE_CREATE and MESSAGE_UPDATE")
    func gatewayDelivery() async throws {
        try await withSimulator { simulator, http in
            let events = Events()
            let client = GatewayClient(
                token: simulator.token, gatewayURL: "ws://127.0.0.1:\(simulator.port)", store: NoStore(), resumable: nil,
                logger: Logger(label: "sim-interactions-gateway")
            ) { event in
                await events.append(event)
                return true
            }
            let task = Task { try await client.run() }
            defer { task.cancel() }
            let ready = await eventually(timeout: .seconds(10)) { await events.named("READY").isEmpty ? nil : true }
            #expect(ready == true)

            let interaction = try await simulator.createInteraction(channelID: World.general)
            let created = await eventually(timeout: .seconds(5)) { await events.named("INTERACTION_CREATE").first }
            let payload = try #require(created.map { try JSON.decode(JSONValue.self, from: $0.data) })
            #expect(payload["id"]?.stringValue == interaction.id)
            #expect(payload["token"]?.stringValue == interaction.token)
            #expect(payload["member"]?["user"]?["id"]?.stringValue == World.human)

            #expect(try await callback(simulator, http, interaction, ["type": 5]).status == 204)
            let edit = try await http.request(method: "PATCH", url: webhook(simulator, interaction.token, "/messages/@original"), body: try Self.json(["content": "done"]))
            #expect(edit.status == 200)
            let update = await eventually(timeout: .seconds(5)) { await events.named("MESSAGE_UPDATE").first }
            let updated = try #require(update.map { try JSON.decode(JSONValue.self, from: $0.data) })
            #expect(updated["content"]?.stringValue == "done")
            #expect(updated["guild_id"]?.stringValue == World.guildID)
            let messageCreates = await events.named("MESSAGE_CREATE")
            #expect(messageCreates.count == 1)  // the deferred placeholder
        }
    }
}

extension JSONValue {
    fileprivate var arrayFirst: JSONValue? {
        if case .array(let values) = self { return values.first }
        return nil
    }
}
