import Crypto
import Foundation
import IngestCore
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
                logger: Logger(label: "sim-interactions-gateway"),
                onBatch: { batch in
                    for event in batch { await events.append(event) }
                    return batch.count
                }
            )
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

// MARK: - Message components, the click control call, HTTP delivery

extension SimulatorInteractionsTests {
    static var buttons: [String: Any] { ["type": 1, "components": [
        ["type": 2, "style": 3, "label": "Approve", "custom_id": "approve"],
        ["type": 2, "style": 4, "label": "Deny", "custom_id": "deny"],
        ["type": 2, "style": 2, "label": "Later", "custom_id": "later", "disabled": true],
        ["type": 2, "style": 5, "label": "Docs", "url": "https://example.com/docs"],
    ]] }
    static var select: [String: Any] { ["type": 1, "components": [[
        "type": 3, "custom_id": "env", "placeholder": "Where to?", "min_values": 1, "max_values": 2,
        "options": [["label": "Staging", "value": "staging"], ["label": "Production", "value": "prod"], ["label": "Dev", "value": "dev"]],
    ]]] }

    func createMessage(_ simulator: DiscordSimulatorProcess, _ http: HTTPClient, channelID: String = World.general, _ body: [String: Any]) async throws -> HTTPResponse {
        try await http.request(
            method: "POST", url: simulator.apiBase + "/channels/\(channelID)/messages",
            headers: ["Authorization": "Bot \(simulator.token)"], body: try Self.json(body)
        )
    }

    func editMessage(_ simulator: DiscordSimulatorProcess, _ http: HTTPClient, _ messageID: String, _ body: [String: Any]) async throws -> HTTPResponse {
        try await http.request(
            method: "PATCH", url: simulator.apiBase + "/channels/\(World.general)/messages/\(messageID)",
            headers: ["Authorization": "Bot \(simulator.token)"], body: try Self.json(body)
        )
    }

    /// Posts a bot message with the approve/deny buttons and the environment select; returns its id.
    func postWithComponents(_ simulator: DiscordSimulatorProcess, _ http: HTTPClient) async throws -> String {
        let created = try await createMessage(simulator, http, ["content": "Deploy?", "components": [Self.buttons, Self.select]])
        #expect(created.status == 200, "\(created.bodyText)")
        return try #require(Self.decode(created)?["id"]?.stringValue)
    }

    /// A gateway session that records every dispatch; cancel the task to end it.
    func connectGateway(_ simulator: DiscordSimulatorProcess) async throws -> (Events, Task<Void, any Error>) {
        let events = Events()
        let client = GatewayClient(
            token: simulator.token, gatewayURL: "ws://127.0.0.1:\(simulator.port)", store: NoStore(), resumable: nil,
            logger: Logger(label: "sim-components-gateway"),
            onBatch: { batch in
                for event in batch { await events.append(event) }
                return batch.count
            }
        )
        let task = Task { try await client.run() }
        let ready = await eventually(timeout: .seconds(10)) { await events.named("READY").isEmpty ? nil : true }
        if ready != true { task.cancel() }
        try #require(ready == true)
        return (events, task)
    }

    @Test("a bot message's buttons and select are stored, returned, listed; PATCH keeps or removes them")
    func componentsStored() async throws {
        try await withSimulator { simulator, http in
            let created = try await createMessage(simulator, http, ["content": "Deploy?", "components": [Self.buttons, Self.select]])
            #expect(created.status == 200, "\(created.bodyText)")
            let body = try #require(Self.decode(created))
            let id = try #require(body["id"]?.stringValue)
            #expect(body["components"]?.array?.count == 2)
            #expect(body["components"]?.arrayFirst?["components"]?.array?.map { $0["custom_id"]?.stringValue } == ["approve", "deny", "later", nil])
            #expect(body["components"]?.array?.last?["components"]?.arrayFirst?["options"]?.array?.count == 3)

            let fetched = try await http.request(
                method: "GET", url: simulator.apiBase + "/channels/\(World.general)/messages/\(id)", headers: ["Authorization": "Bot \(simulator.token)"]
            )
            #expect(Self.decode(fetched)?["components"] == body["components"])
            let post = try #require(try await simulator.posts().first)
            #expect(post.components == body["components"])

            // Only a message with components: allowed, as Discord documents.
            let bare = try await createMessage(simulator, http, ["components": [Self.buttons]])
            #expect(bare.status == 200, "\(bare.bodyText)")

            // Multipart: `components` in payload_json.
            let payload = try JSONSerialization.data(withJSONObject: ["content": "with a file", "components": [Self.buttons]])
            let upload = try await http.request(
                method: "POST", url: simulator.apiBase + "/channels/\(World.general)/messages",
                headers: ["Authorization": "Bot \(simulator.token)"],
                body: .multipart([
                    MultipartPart(name: "payload_json", contentType: "application/json", data: payload),
                    MultipartPart(name: "files[0]", filename: "a.txt", contentType: "text/plain", data: Data("hello".utf8)),
                ])
            )
            #expect(upload.status == 200, "\(upload.bodyText)")
            #expect(Self.decode(upload)?["components"]?.arrayFirst?["components"]?.array?.count == 4)

            let contentOnly = try await editMessage(simulator, http, id, ["content": "Deploy now?"])
            #expect(contentOnly.status == 200, "\(contentOnly.bodyText)")
            #expect(Self.decode(contentOnly)?["components"] == body["components"])
            let removed = try await editMessage(simulator, http, id, ["components": []])
            #expect(removed.status == 200, "\(removed.bodyText)")
            #expect(Self.decode(removed)?["components"] == .array([]))
            #expect(Self.decode(removed)?["content"]?.stringValue == "Deploy now?")
            let listed = try #require(try await simulator.posts().first)
            #expect(listed.components == .array([]))
            #expect(listed.edits.map(\.content) == ["Deploy now?", "Deploy now?"])

            let invalidEdit = try await editMessage(simulator, http, id, ["components": [["type": 1, "components": []]]])
            #expect(invalidEdit.status == 400)
            #expect(Self.errorCode(invalidEdit) == 50035)
            let unknown = try await editMessage(simulator, http, "123456789012345678", ["content": "x"])
            #expect(unknown.status == 404)
            #expect(Self.errorCode(unknown) == 10008)
            let human = try await simulator.inject(channelID: World.general, content: "mine")
            let others = try await editMessage(simulator, http, human, ["content": "x"])
            #expect(others.status == 403)
            #expect(Self.errorCode(others) == 50005)
        }
    }

    /// Invalid component sets and where Discord's error tree points for each.
    static var invalidComponents: [(name: String, components: [Any], path: [String])] {
        let button: [String: Any] = ["type": 2, "style": 1, "label": "B", "custom_id": "b"]
        func row(_ children: [[String: Any]]) -> [String: Any] { ["type": 1, "components": children] }
        func numbered(_ count: Int) -> [[String: Any]] {
            (0..<count).map { ["type": 2, "style": 1, "label": "B\($0)", "custom_id": "b\($0)"] }
        }
        return [
            ("6 action rows", (0..<6).map { row([["type": 2, "style": 1, "label": "B", "custom_id": "row\($0)"]]) }, ["_errors"]),
            ("6 buttons in a row", [row(numbered(6))], ["0", "components", "_errors"]),
            ("an empty row", [row([])], ["0", "components", "_errors"]),
            ("a button without custom_id", [row([["type": 2, "style": 1, "label": "B"]])], ["0", "components", "0", "custom_id"]),
            ("a duplicate custom_id", [row([button]), row([button])], ["1", "components", "0", "custom_id"]),
            ("a label of 81 characters", [row([["type": 2, "style": 1, "label": String(repeating: "x", count: 81), "custom_id": "b"]])], ["0", "components", "0", "label"]),
            ("a custom_id of 101 characters", [row([["type": 2, "style": 1, "label": "B", "custom_id": String(repeating: "x", count: 101)]])], ["0", "components", "0", "custom_id"]),
            ("a link button with a custom_id", [row([["type": 2, "style": 5, "label": "L", "url": "https://example.com", "custom_id": "l"]])], ["0", "components", "0", "custom_id"]),
            ("a link button without url", [row([["type": 2, "style": 5, "label": "L"]])], ["0", "components", "0", "url"]),
            ("a select beside a button", [row([button, ["type": 3, "custom_id": "s", "options": [["label": "A", "value": "a"]]]])], ["0", "components", "_errors"]),
            ("a select with 26 options", [row([["type": 3, "custom_id": "s", "options": (0..<26).map { ["label": "O\($0)", "value": "o\($0)"] }]])], ["0", "components", "0", "options", "_errors"]),
            ("a select max_values of 26", [row([["type": 3, "custom_id": "s", "max_values": 26, "options": [["label": "A", "value": "a"]]]])], ["0", "components", "0", "max_values"]),
            ("an option value of 101 characters", [row([["type": 3, "custom_id": "s", "options": [["label": "A", "value": String(repeating: "v", count: 101)]]]])], ["0", "components", "0", "options", "0", "value"]),
            ("a text input (modals only)", [row([["type": 4, "custom_id": "t", "style": 1, "label": "T"]])], ["0", "components", "0", "type"]),
            ("a button outside a row", [button], ["0", "type"]),
        ]
    }

    @Test("invalid components are 400 Invalid Form Body, 50035, with Discord's nested errors")
    func componentsValidated() async throws {
        try await withSimulator { simulator, http in
            for invalid in Self.invalidComponents {
                let response = try await createMessage(simulator, http, ["content": "x", "components": invalid.components])
                #expect(response.status == 400, "\(invalid.name): \(response.bodyText)")
                #expect(Self.errorCode(response) == 50035, "\(invalid.name)")
                var node = Self.decode(response)?["errors"]?["components"]
                for key in invalid.path { node = node?[key] }
                #expect(node != nil, "\(invalid.name): no error at components.\(invalid.path.joined(separator: ".")) in \(response.bodyText)")
            }
            #expect(try await simulator.posts().isEmpty)

            // The interaction paths check them the same way.
            let interaction = try await simulator.createInteraction(deliver: "none")
            let callback = try await callback(simulator, http, interaction, ["type": 4, "data": ["content": "x", "components": Self.invalidComponents[0].components]])
            #expect(callback.status == 400)
            #expect(Self.errorCode(callback) == 50035)
        }
    }

    @Test("a click by custom_id or by label is a type 3 interaction with the message, over the gateway")
    func clickOverGateway() async throws {
        try await withSimulator { simulator, http in
            let (events, task) = try await connectGateway(simulator)
            defer { task.cancel() }
            let messageID = try await postWithComponents(simulator, http)
            let echoed = await eventually(timeout: .seconds(5)) { await events.named("MESSAGE_CREATE").first }
            let echo = try #require(echoed.map { try JSON.decode(JSONValue.self, from: $0.data) })
            #expect(echo["components"]?.array?.count == 2)

            let byID = try await simulator.click(messageID: messageID, customID: "approve")
            #expect(byID.interaction["type"]?.intValue == 3)
            #expect(byID.interaction["data"]?["custom_id"]?.stringValue == "approve")
            #expect(byID.interaction["data"]?["component_type"]?.intValue == 2)
            #expect(byID.interaction["data"]?["values"] == nil)
            #expect(byID.interaction["message"]?["id"]?.stringValue == messageID)
            #expect(byID.interaction["message"]?["components"]?.array?.count == 2)
            #expect(byID.interaction["member"]?["user"]?["id"]?.stringValue == World.human)
            #expect(byID.dispatchedAtMicros != nil)
            #expect(byID.httpDelivery == nil)

            let byLabel = try await simulator.click(messageID: messageID, label: "Deny")
            #expect(byLabel.interaction["data"]?["custom_id"]?.stringValue == "deny")
            let picked = try await simulator.click(messageID: messageID, customID: "env", values: ["prod", "staging"])
            #expect(picked.interaction["data"]?["component_type"]?.intValue == 3)
            #expect(picked.interaction["data"]?["values"] == .array([.string("prod"), .string("staging")]))

            let dispatched = await eventually(timeout: .seconds(5)) { () -> [GatewayFrame.EventRef]? in
                let created = await events.named("INTERACTION_CREATE")
                return created.count == 3 ? created : nil
            }
            let payloads = try #require(dispatched).map { try JSON.decode(JSONValue.self, from: $0.data) }
            #expect(payloads.map { $0["id"]?.stringValue } == [byID.id, byLabel.id, picked.id])
            #expect(payloads.map { $0["data"]?["custom_id"]?.stringValue } == ["approve", "deny", "env"])
            #expect(payloads.allSatisfy { $0["message"]?["id"]?.stringValue == messageID })

            // A type 7 answer replaces the message's components.
            let update = try await callback(simulator, http, byID, ["type": 7, "data": ["content": "Approved", "components": []]])
            #expect(update.status == 204, "\(update.bodyText)")
            let updated = await eventually(timeout: .seconds(5)) { await events.named("MESSAGE_UPDATE").first }
            let payload = try #require(updated.map { try JSON.decode(JSONValue.self, from: $0.data) })
            #expect(payload["components"] == .array([]))
            #expect(try await simulator.posts().first?.components == .array([]))
        }
    }

    @Test("click errors: unknown message or component 404; link, disabled, bad select values 400")
    func clickErrors() async throws {
        try await withSimulator { simulator, http in
            let messageID = try await postWithComponents(simulator, http)
            let noMessage = try await simulator.clickResponse(messageID: "123456789012345678", customID: "approve", deliver: "none")
            #expect(noMessage.status == 404)
            #expect(Self.errorCode(noMessage) == 10008)
            let noComponent = try await simulator.clickResponse(messageID: messageID, customID: "missing", deliver: "none")
            #expect(noComponent.status == 404)
            #expect(Self.decode(noComponent)?["message"]?.stringValue != nil)
            #expect(try await simulator.clickResponse(messageID: messageID, label: "Nope", deliver: "none").status == 404)
            #expect(try await simulator.clickResponse(messageID: messageID, label: "Docs", deliver: "none").status == 400)
            #expect(try await simulator.clickResponse(messageID: messageID, customID: "later", deliver: "none").status == 400)
            let notAnOption = try await simulator.clickResponse(messageID: messageID, customID: "env", values: ["qa"], deliver: "none")
            #expect(notAnOption.status == 400, "\(notAnOption.bodyText)")
            #expect(try await simulator.clickResponse(messageID: messageID, customID: "env", values: [], deliver: "none").status == 400)
            #expect(try await simulator.clickResponse(messageID: messageID, customID: "env", values: ["prod", "staging", "dev"], deliver: "none").status == 400)
            #expect(try await simulator.clickResponse(messageID: messageID, customID: "approve", deliver: "carrier-pigeon").status == 400)
            let interactions = try JSON.decode(JSONValue.self, from: try await simulator.control("GET", "/_sim/interactions").body)
            #expect(interactions["interactions"]?.array?.isEmpty == true)
        }
    }

    /// A stub endpoint that checks the signature with `verifyKey` (401 if bad, as a real one
    /// must) and otherwise answers `answer`.
    static func signatureCheckingEndpoint(verifyKey: String, answer: @escaping @Sendable (JSONValue) -> InteractionsEndpointStub.Reply) async throws -> InteractionsEndpointStub {
        let keyBytes = try #require(Hex.decode(verifyKey))
        return try await InteractionsEndpointStub { request in
            guard let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: keyBytes),
                let signature = request.header("X-Signature-Ed25519").flatMap(Hex.decode),
                let timestamp = request.header("X-Signature-Timestamp"),
                publicKey.isValidSignature(signature, for: Data(timestamp.utf8) + request.body),
                let body = try? JSON.decode(JSONValue.self, from: request.body)
            else {
                return .json(status: 401, #"{"error":"invalid request signature"}"#)
            }
            return answer(body)
        }
    }

    @Test("deliver http: a signed POST to the endpoint, whose answer is the callback; PING gets PONG")
    func httpDelivery() async throws {
        let seed = String(repeating: "5a", count: 32)
        try await withSimulator(arguments: ["--no-rate-limit", "--interactions-private-key", seed]) { simulator, http in
            let verifyKey = try await simulator.applicationVerifyKey()
            let expectedKey = try Curve25519.Signing.PrivateKey(rawRepresentation: try #require(Hex.decode(seed))).publicKey.rawRepresentation
            #expect(verifyKey == hexString(expectedKey))
            let application = try await http.request(method: "GET", url: simulator.apiBase + "/applications/@me", headers: ["Authorization": "Bot \(simulator.token)"])
            #expect(application.status == 200)
            let app = try #require(Self.decode(application))
            #expect(app["id"]?.stringValue == World.botUserID)
            #expect(app["verify_key"]?.stringValue == verifyKey)
            #expect(app["bot_public"] == .bool(true))
            #expect(app["bot_require_code_grant"] == .bool(false))
            #expect(app["flags"]?.intValue != nil)
            #expect(app["name"]?.stringValue != nil)
            #expect(app["description"]?.stringValue != nil)
            #expect(try await http.request(method: "GET", url: simulator.apiBase + "/applications/@me").status == 401)

            let endpoint = try await Self.signatureCheckingEndpoint(verifyKey: verifyKey) { body in
                body["type"]?.intValue == 1 ? .json(status: 200, #"{"type":1}"#) : .json(status: 200, #"{"type":6}"#)
            }
            do {
                // Without an endpoint URL, deliver http is refused.
                let messageID = try await postWithComponents(simulator, http)
                #expect(try await simulator.clickResponse(messageID: messageID, customID: "approve", deliver: "http").status == 400)
                try await simulator.setInteractionsEndpoint(endpoint.url)

                let ping = try await simulator.createInteraction(type: 1, name: nil, deliver: "http")
                #expect(ping.interaction["type"]?.intValue == 1)
                #expect(ping.httpDelivery?.status == 200)
                #expect(ping.httpDelivery?.body?["type"]?.intValue == 1)

                let click = try await simulator.click(messageID: messageID, customID: "approve", deliver: "http")
                let delivery = try #require(click.httpDelivery)
                #expect(delivery.status == 200)
                #expect(delivery.body == .object(["type": .number(6)]))
                #expect(delivery.latencyMicros > 0 && delivery.latencyMicros < 3_000_000)

                let received = await endpoint.received()
                #expect(received.count == 2)
                let request = try #require(received.last)
                #expect(request.method == "POST")
                #expect(request.path == "/interactions")
                #expect(request.header("Content-Type") == "application/json")
                #expect(request.header("User-Agent") == "Discord-Interactions/1.0 (+https://discord.com)")
                let timestamp = try #require(request.header("X-Signature-Timestamp").flatMap(Int.init))
                #expect(abs(timestamp - Int(Date().timeIntervalSince1970)) < 30)
                let sent = try JSON.decode(JSONValue.self, from: request.body)
                #expect(sent["id"]?.stringValue == click.id)
                #expect(sent["token"]?.stringValue == click.token)
                #expect(sent["data"]?["custom_id"]?.stringValue == "approve")
                #expect(sent["message"]?["id"]?.stringValue == messageID)

                let callbacks = try await simulator.interactionCallbacks()
                #expect(callbacks.map(\.interactionID) == [ping.id, click.id])
                #expect(callbacks.map(\.accepted) == [true, true])
                #expect(callbacks.map(\.type) == [1, 6])
                #expect(callbacks.map(\.via) == ["endpoint", "endpoint"])
                #expect(callbacks.allSatisfy { $0.latencyMicros >= 0 && $0.latencyMicros < 3_000_000 })
                // Acknowledged: a second answer through the callback route is 40060.
                let again = try await callback(simulator, http, click, ["type": 6])
                #expect(Self.errorCode(again) == 40060)

                // A new key signs differently: the stub refuses it and the interaction fails.
                let otherEndpoint = try await Self.signatureCheckingEndpoint(verifyKey: hexString(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)) { _ in
                    .json(status: 200, #"{"type":6}"#)
                }
                try await simulator.setInteractionsEndpoint(otherEndpoint.url)
                let refused = try await simulator.click(messageID: messageID, customID: "deny", deliver: "http")
                #expect(refused.httpDelivery?.status == 401)
                await otherEndpoint.stop()
            } catch {
                await endpoint.stop()
                throw error
            }
            await endpoint.stop()
        }
    }

    @Test("deliver http: an endpoint answering 500, or nothing within 3 s, fails the interaction")
    func httpDeliveryFailures() async throws {
        try await withSimulator { simulator, http in
            let endpoint = try await InteractionsEndpointStub { request in
                let body = try? JSON.decode(JSONValue.self, from: request.body)
                return body?["data"]?["custom_id"]?.stringValue == "deny" ? .silence(.seconds(5)) : .json(status: 500, #"{"message":"boom"}"#)
            }
            do {
                try await simulator.setInteractionsEndpoint(endpoint.url)
                let messageID = try await postWithComponents(simulator, http)

                let failing = try await simulator.click(messageID: messageID, customID: "approve", deliver: "http")
                #expect(failing.httpDelivery?.status == 500)
                #expect(failing.httpDelivery?.body?["message"]?.stringValue == "boom")

                let started = ContinuousClock.now
                let silent = try await simulator.click(messageID: messageID, customID: "deny", deliver: "http")
                let waited = ContinuousClock.now - started
                #expect(silent.httpDelivery?.status == 0)
                #expect(silent.httpDelivery?.body == nil)
                #expect(waited >= .milliseconds(2900) && waited < .milliseconds(4500), "\(waited)")

                let callbacks = try await simulator.interactionCallbacks()
                #expect(callbacks.map(\.interactionID) == [failing.id, silent.id])
                #expect(callbacks.map(\.accepted) == [false, false])
                #expect(callbacks.map(\.status) == [500, 0])
                #expect(callbacks.map(\.via) == ["endpoint", "endpoint"])

                // A failed interaction takes no callback any more.
                let late = try await callback(simulator, http, failing, ["type": 6])
                #expect(late.status == 404)
                #expect(Self.errorCode(late) == 10062)
                let summaries = try JSON.decode(JSONValue.self, from: try await simulator.control("GET", "/_sim/interactions").body)
                #expect(summaries["interactions"]?.array?.map { $0["failed"] } == [.bool(true), .bool(true)])

                // Clearing the URL turns deliver http off again.
                try await simulator.setInteractionsEndpoint("")
                #expect(try await simulator.clickResponse(messageID: messageID, customID: "approve", deliver: "http").status == 400)
            } catch {
                await endpoint.stop()
                throw error
            }
            await endpoint.stop()
        }
    }
}

extension JSONValue {
    fileprivate var array: [JSONValue]? {
        if case .array(let values) = self { return values }
        return nil
    }
}
