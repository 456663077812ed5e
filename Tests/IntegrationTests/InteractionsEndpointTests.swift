import Crypto
import Foundation
import InteractionsCore
import Shared
import Testing
import TestSupport

/// The Interactions Endpoint as a real process: Discord's signed POSTs in, deferrals out, the
/// command on the agent's inbox (through a real Dispatcher).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct InteractionsEndpointTests {
    typealias World = DiscordSimulatorProcess.World

    /// The application's key pair; the endpoint knows only the public half.
    static let secret: [UInt8] = (0..<32).map { UInt8(($0 * 37 + 11) % 256) }
    static var key: Curve25519.Signing.PrivateKey { try! Curve25519.Signing.PrivateKey(rawRepresentation: secret) }

    struct Endpoint {
        let url: String
        let http = HTTPClient(name: "interactions-test")

        /// POSTs `body` signed as Discord does (or with the given headers).
        func post(_ body: String, timestamp: String = String(Int(Date().timeIntervalSince1970)), signature: String? = nil, signedBody: String? = nil) async throws -> (status: Int, json: JSONValue?) {
            let signed = try signature ?? hexString(InteractionsEndpointTests.key.signature(for: Data((timestamp + (signedBody ?? body)).utf8)))
            let response = try await http.request(
                method: "POST", url: url + "/interactions",
                headers: ["X-Signature-Ed25519": signed, "X-Signature-Timestamp": timestamp], body: .json(Data(body.utf8))
            )
            return (response.status, try? JSON.decode(JSONValue.self, from: response.body))
        }
    }

    static func command(id: String, prompt: String, agent: String? = nil, user: String = World.human) -> String {
        let agentOption = agent.map { #",{"name":"agent","type":3,"value":"\#($0)"}"# } ?? ""
        return #"{"id":"\#(id)","application_id":"\#(World.botUserID)","type":2,"token":"token-\#(id)","version":1,"guild_id":"\#(World.guildID)","channel_id":"\#(World.general)","member":{"user":{"id":"\#(user)","username":"alice"}},"data":{"id":"1","name":"ask","type":1,"options":[{"name":"prompt","type":3,"value":"\#(prompt)"}\#(agentOption)]}}"#
    }

    func withEndpoint(_ environment: [String: String] = [:], _ body: (Endpoint, ConnectorStack) async throws -> Void) async throws {
        let port = try freeLoopbackPort()
        let env = [
            "INTERACTIONS_PORT": String(port), "INTERACTIONS_HOST": "127.0.0.1",
            "DISCORD_PUBLIC_KEY": hexString(Self.key.publicKey.rawRepresentation),
            "MUMEGA_AGENT_MAP": #"{"\#(World.agents)": "builder"}"#,
        ].merging(environment) { _, new in new }
        try await ConnectorStack.with(label: "interactions", environment: env) { stack in
            let process = try stack.start("Interactions")
            try stack.start("Dispatcher")
            let endpoint = Endpoint(url: "http://127.0.0.1:\(port)")
            let up = await eventually(timeout: .seconds(15)) { () -> Bool? in
                if process.hasExited { return false }
                return (try? await endpoint.http.request(method: "GET", url: endpoint.url + "/healthz").status) == 200 ? true : nil
            }
            guard up == true else { throw TestSupportError("the Interactions Endpoint did not start:\n\(process.log)") }
            try await body(endpoint, stack)
        }
    }

    @Test("PING is answered with PONG; bad, tampered, stale or missing signatures are 401")
    func signatures() async throws {
        try await withEndpoint { endpoint, _ in
            let ping = #"{"id":"1","application_id":"2","type":1,"token":"t","version":1}"#
            let pong = try await endpoint.post(ping)
            #expect(pong.status == 200)
            #expect(pong.json?["type"]?.intValue == 1)
            #expect(try await endpoint.post(ping, signedBody: #"{"id":"1","application_id":"2","type":2,"token":"t","version":1}"#).status == 401)
            #expect(try await endpoint.post(ping, signature: String(repeating: "0", count: 128)).status == 401)
            #expect(try await endpoint.post(ping, signature: "not hex").status == 401)
            let old = String(Int(Date().timeIntervalSince1970) - 3600)
            #expect(try await endpoint.post(ping, timestamp: old).status == 401)
            let unsigned = try await endpoint.http.request(method: "POST", url: endpoint.url + "/interactions", body: .json(Data(ping.utf8)))
            #expect(unsigned.status == 401)
            let huge = try await endpoint.post(String(repeating: " ", count: InteractionEndpoint.maxBodyBytes + 10) + ping)
            #expect(huge.status == 413)
        }
    }

    @Test("a signed /ask is deferred and reaches the agent once, with kind=command and its prompt")
    func commandRoundTrip() async throws {
        try await withEndpoint { endpoint, stack in
            let first = try await endpoint.post(Self.command(id: "910000000000000001", prompt: "summarise today's deploys"))
            #expect(first.status == 200)
            #expect(first.json?["type"]?.intValue == 5)
            // Discord (or a proxy) repeating the same interaction: deferred again, delivered once.
            #expect(try await endpoint.post(Self.command(id: "910000000000000001", prompt: "summarise today's deploys")).json?["type"]?.intValue == 5)
            let named = try await endpoint.post(Self.command(id: "910000000000000002", prompt: "build it", agent: "builder"))
            #expect(named.json?["type"]?.intValue == 5)

            let kasra = await eventually { () -> [StreamEntry]? in
                guard let entries = try? await stack.entries("sos:inbox:kasra"), !entries.isEmpty else { return nil }
                return entries
            }
            let builder = await eventually { () -> [StreamEntry]? in
                guard let entries = try? await stack.entries("sos:inbox:builder"), !entries.isEmpty else { return nil }
                return entries
            }
            let record = try #require(kasra?.first)
            #expect(record.fields["kind"] == "command")
            #expect(record.fields["command"] == "ask")
            #expect(record.fields["content"] == "summarise today's deploys")
            #expect(record.fields["author_id"] == World.human)
            #expect(record.fields["channel_id"] == World.general)
            #expect(record.fields["text"]?.contains("Discord command /ask from alice") == true)
            #expect(builder?.first?.fields["content"] == "build it")
            // The answer's route is kept with the request: the interaction's token, for 15 minutes.
            let context = try await stack.redis.client.run(HGETALL("discord:pending:\(record.fields["request_id"] ?? "")"))
            #expect(context["interaction_token"] == "token-910000000000000001")
            #expect(context["application_id"] == World.botUserID)
            try await Task.sleep(for: .milliseconds(300))  // a quiet period: a second copy would show by now
            #expect(try await stack.entries("sos:inbox:kasra").count == 1)
            #expect(try await stack.entries("discord:inbound").count == 2)
        }
    }

    @Test("someone the allowlists refuse gets an ephemeral refusal, and nothing reaches an agent")
    func allowlistRefusal() async throws {
        try await withEndpoint(["ALLOWED_USERS": World.human]) { endpoint, stack in
            let refused = try await endpoint.post(Self.command(id: "920000000000000001", prompt: "let me in", user: "499999999999999999"))
            #expect(refused.status == 200)
            #expect(refused.json?["type"]?.intValue == 4)
            #expect(refused.json?["data"]?["flags"]?.intValue == 64)
            #expect(try await stack.entries("discord:inbound").isEmpty)
        }
    }

    @Test("with Redis down the answer still comes within 3 s: an ephemeral 'try again', not a silent loss")
    func redisDown() async throws {
        try await withEndpoint { endpoint, stack in
            await stack.redis.stop()
            let started = ContinuousClock.now
            let answer = try await endpoint.post(Self.command(id: "930000000000000001", prompt: "anyone there?"))
            let elapsed = ContinuousClock.now - started
            #expect(answer.status == 200)
            #expect(answer.json?["type"]?.intValue == 4)
            #expect(answer.json?["data"]?["content"]?.stringValue?.contains("try again") == true)
            #expect(elapsed < .seconds(3))
        }
    }

    static let signingKey = "endpoint-test-signing-key"

    static func click(id: String, customID: String) -> String {
        #"{"id":"\#(id)","application_id":"\#(World.botUserID)","type":3,"token":"token-\#(id)","version":1,"guild_id":"\#(World.guildID)","channel_id":"\#(World.general)","member":{"user":{"id":"\#(World.human)","username":"alice"}},"message":{"id":"510000000000000001","channel_id":"\#(World.general)"},"data":{"custom_id":"\#(customID)","component_type":2}}"#
    }

    @Test("a signed click is acknowledged with a deferred update and reaches the agent that posted the buttons; a forged one and one on expired buttons reach nobody")
    func clicks() async throws {
        try await withEndpoint(["CTX_SIGNING_KEY": Self.signingKey]) { endpoint, stack in
            // The buttons a Replier posted for loom: their set, as it keeps it.
            let context = ComponentContext(agent: "loom", answersRequest: "", channelID: World.general, items: [.init(customID: "approve", label: "Approve")])
            try await stack.redis.client.run(HSET("discord:components:1733250000000-0", fields: context.streamFields))
            let signer = ComponentIDSigner(key: Self.signingKey)

            let answer = try await endpoint.post(Self.click(id: "950000000000000001", customID: signer.sign(.init(set: "1733250000000-0", index: 0))))
            #expect(answer.json?["type"]?.intValue == 6)
            let delivered = try #require(await eventually { try? await stack.entries("sos:inbox:loom").first })
            #expect(delivered.fields["kind"] == "component")
            #expect(delivered.fields["custom_id"] == "approve")
            #expect(delivered.fields["message_id"] == "510000000000000001")

            let forged = try await endpoint.post(Self.click(id: "950000000000000002", customID: "approve"))
            #expect(forged.json?["type"]?.intValue == 4)
            #expect(forged.json?["data"]?["flags"]?.intValue == 64)
            let expired = try await endpoint.post(Self.click(id: "950000000000000003", customID: signer.sign(.init(set: "1733250000999-0", index: 0))))
            #expect(expired.json?["type"]?.intValue == 4)
            #expect(expired.json?["data"]?["content"]?.stringValue?.contains("expired") == true)
            try await Task.sleep(for: .milliseconds(300))  // a quiet period: a stray delivery would show by now
            #expect(try await stack.entries("discord:inbound").count == 1)
        }
    }

    @Test("SIGKILL between receipt and the bus write: no deferral went out and nothing is on the bus, so the person sees the failure and asks again; the restarted endpoint takes that once")
    func killedBeforeTheWrite() async throws {
        try await withEndpoint { endpoint, stack in
            // Hold every write: the endpoint has the request and waits on Redis when it dies.
            try await stack.redis.client.send("CLIENT", "PAUSE", "10000", "WRITE")
            let inFlight = Task { try? await endpoint.post(Self.command(id: "960000000000000001", prompt: "are you there?")) }
            try await Task.sleep(for: .milliseconds(500))  // a quiet period: the request is in the endpoint by now
            let process = try #require(stack.services["Interactions"])
            process.signal(SIGKILL)
            let answer = await inFlight.value
            #expect(answer == nil, "the killed endpoint answered \(String(describing: answer))")
            try await stack.redis.client.send("CLIENT", "UNPAUSE")
            try await Task.sleep(for: .milliseconds(500))  // a quiet period: a write left behind would show by now
            #expect(try await stack.entries("discord:inbound").isEmpty)

            let restarted = try stack.start("Interactions")
            let up = await eventually(timeout: .seconds(15)) { () -> Bool? in
                if restarted.hasExited { return false }
                return (try? await endpoint.http.request(method: "GET", url: endpoint.url + "/healthz").status) == 200 ? true : nil
            }
            try #require(up == true)
            let retry = try await endpoint.post(Self.command(id: "960000000000000002", prompt: "are you there?"))
            #expect(retry.json?["type"]?.intValue == 5)
            let delivered = await eventually { () -> [StreamEntry]? in
                guard let entries = try? await stack.entries("sos:inbox:kasra"), !entries.isEmpty else { return nil }
                return entries
            }
            #expect(delivered?.count == 1)
            #expect(delivered?.first?.fields["content"] == "are you there?")
        }
    }
}

/// The serverless path end to end: no gateway session at all. The simulator POSTs signed
/// interactions to the Interactions service as Discord does; the echo agent answers through the
/// Replier and the interaction's webhook.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ServerlessInteractionsTests {
    typealias World = DiscordSimulatorProcess.World

    @Test("with only the endpoint: Discord's PING is answered, /ask is deferred and answered, buttons on the answer are clicked and the click is answered by an update")
    func serverlessRoundTrip() async throws {
        try await ConnectorStack.with(label: "serverless") { stack in
            let port = try freeLoopbackPort()
            let endpoint = try stack.start("Interactions", environment: [
                "INTERACTIONS_PORT": String(port), "INTERACTIONS_HOST": "127.0.0.1",
                "DISCORD_PUBLIC_KEY": try await stack.simulator.applicationVerifyKey(),
            ])
            try stack.start("Dispatcher")
            try stack.start("Replier")
            try stack.start("EchoAgent")
            let http = HTTPClient(name: "serverless-test")
            let up = await eventually(timeout: .seconds(15)) { () -> Bool? in
                if endpoint.hasExited { return false }
                let healthy = (try? await http.request(method: "GET", url: "http://127.0.0.1:\(port)/healthz").status) == 200
                let echoReady = (try? await stack.redis.client.run(XINFOGROUPS("sos:inbox:kasra")))?.isEmpty == false
                return healthy && echoReady ? true : nil
            }
            try #require(up == true, "the endpoint or the echo agent did not start:\n\(endpoint.log)")
            try await stack.simulator.setInteractionsEndpoint("http://127.0.0.1:\(port)/interactions")

            // Saving the URL in the Developer Portal: Discord PINGs it first.
            let ping = try await stack.simulator.createInteraction(type: 1, deliver: "http")
            #expect(ping.httpDelivery?.status == 200)
            #expect(ping.httpDelivery?.body?["type"]?.intValue == 1)

            let asked = try await stack.simulator.createInteraction(options: SlashCommandTests.prompt("show me the buttons"), deliver: "http")
            #expect(asked.httpDelivery?.status == 200)
            #expect(asked.httpDelivery?.body?["type"]?.intValue == 5)
            #expect((asked.httpDelivery?.latencyMicros ?? .max) < 3_000_000)
            let answer = try #require(await eventually(timeout: .seconds(15)) { () -> SimulatedPost? in
                try? await stack.simulator.posts().first { $0.interactionID == asked.id && $0.content.hasPrefix("echo from kasra: show me the buttons") }
            })
            #expect(answer.kind == "original")
            #expect(answer.components != nil)

            let click = try await stack.simulator.click(messageID: answer.id, label: "Approve", deliver: "http")
            #expect(click.httpDelivery?.body?["type"]?.intValue == 6)
            let updated = await eventually(timeout: .seconds(15)) { () -> SimulatedPost? in
                try? await stack.simulator.posts().first { $0.id == answer.id && $0.content.contains("chose Approve") }
            }
            #expect(updated?.content.hasPrefix("echo from kasra: Alice chose Approve") == true, "\(updated?.content ?? "not updated")")
            #expect(updated.map { $0.components == nil || $0.components == .array([]) } == true)
        }
    }
}
