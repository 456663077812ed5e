import Foundation
import Shared
import Testing
import TestSupport

/// How the services behave at their edges: configuration checks, a wrong token, gateway
/// reconnects and restarts, and the reply path's off switches.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ServiceBehaviourTests {
    typealias World = DiscordSimulatorProcess.World

    func withStack(_ body: (ConnectorStack) async throws -> Void) async throws {
        try await ConnectorStack.with(label: "behaviour", body)
    }

    func inboxCount(_ stack: ConnectorStack, _ agent: String = "kasra") async throws -> Int {
        try await stack.entries(BusKeys.inbox(agent)).count
    }

    @Test("--check prints the configuration with the token redacted and touches no network")
    func checkRedactsToken() async throws {
        let token = "MTIzNDU2Nzg5.fake-token-for-check.abcdWXYZ"
        // The bus URL points at a closed port: --check must not try to connect.
        let result = try await runToCompletion("Ingest", arguments: ["--check"], environment: [
            "DISCORD_BOT_TOKEN": token, "MUMEGA_BUS_URL": "redis://:bus-secret-9876@127.0.0.1:1",
        ])
        #expect(result.code == 0)
        #expect(result.output.contains("DISCORD_BOT_TOKEN=****WXYZ"))
        #expect(!result.output.contains(token))
        #expect(!result.output.contains("bus-secret-9876"))
        #expect(result.output.contains("MUMEGA_DEFAULT_AGENT=kasra"))
    }

    @Test("a malformed variable stops a service at start-up with a message naming it", arguments: [
        ("Dispatcher", "MUMEGA_AGENT_MAP", "{not json"),
        ("Replier", "PENDING_TTL", "a day"),
        ("Ingest", "MUMEGA_BUS_URL", "http://localhost:6379"),
        ("Replier", "DRY_RUN", "maybe"),
    ])
    func malformedConfiguration(product: String, variable: String, value: String) async throws {
        let result = try await runToCompletion(product, arguments: ["--check"], environment: [
            "DISCORD_BOT_TOKEN": "token-for-config-tests", variable: value,
        ])
        #expect(result.code == 2)
        #expect(result.output.contains("configuration error: \(variable)"))
        #expect(!result.output.contains("Fatal error"))  // a message, not a crash trace
    }

    @Test("Ingest and Replier without a token refuse to start and say which variable is missing")
    func missingToken() async throws {
        for product in ["Ingest", "Replier"] {
            let result = try await runToCompletion(product, arguments: [], environment: ["MUMEGA_BUS_URL": "redis://127.0.0.1:1"])
            #expect(result.code == 2)
            #expect(result.output.contains("DISCORD_BOT_TOKEN"))
        }
    }

    @Test("a token Discord rejects stops Ingest with a message about the token, without logging it")
    func rejectedTokenStopsIngest() async throws {
        try await withStack { stack in
            let wrong = "wrong-token-value-abcd1234"
            let ingest = try stack.start("Ingest", environment: ["DISCORD_BOT_TOKEN": wrong])
            #expect(await ingest.waitForExit(timeout: .seconds(15)))
            #expect(ingest.exitCode == 1)
            #expect(ingest.log.contains("DISCORD_BOT_TOKEN"))
            #expect(!ingest.log.contains(wrong))
        }
    }

    @Test("after Discord asks for a reconnect (op 7), Ingest resumes and no message is lost or doubled")
    func reconnectResumes() async throws {
        try await withStack { stack in
            try await stack.startServices()
            try await stack.simulator.inject(channelID: World.general, content: "before the reconnect", mentionBot: true)
            _ = try await stack.simulator.control("POST", "/_sim/gateway/reconnect")
            try await stack.simulator.inject(channelID: World.general, content: "during the reconnect", mentionBot: true)
            try await stack.waitForGateway(sessions: 2)
            try await stack.simulator.inject(channelID: World.general, content: "after the reconnect", mentionBot: true)
            let count = await eventually { () -> Int? in
                let count = (try? await inboxCount(stack)) ?? 0
                return count >= 3 ? count : nil
            }
            #expect(count == 3)
            try await Task.sleep(for: .milliseconds(500))  // quiet period: a doubled message would show up by now
            let contents = try await stack.entries(BusKeys.inbox("kasra")).compactMap { $0.fields["content"] }
            #expect(contents.count == 3)
            #expect(Set(contents).count == 3)
            #expect(try await stack.simulator.stats()["resumes"]?.doubleValue == 1)
        }
    }

    @Test("a killed Ingest, restarted, resumes its session and delivers what was sent meanwhile")
    func restartedIngestResumes() async throws {
        try await withStack { stack in
            try await stack.startServices()
            // Killed once its session is saved (saves are coalesced to one per 250 ms; on a loaded
            // machine the identify can come well before): there is a session to resume.
            let saved = await eventually { try? await stack.redis.client.run(HGET(BusKeys(connectorAgentName: "discord-connector").gatewaySession(shard: 0), field: "session_id")) }
            #expect(saved != nil, "Ingest never saved its gateway session")
            stack.services["Ingest"]?.signal(SIGKILL)
            #expect(await stack.services["Ingest"]?.waitForExit(timeout: .seconds(5)) == true)
            try await stack.simulator.inject(channelID: World.dm, content: "sent while Ingest was down")
            try await stack.start("Ingest")
            try await stack.waitForGateway(sessions: 2)
            let count = await eventually { () -> Int? in
                let count = (try? await inboxCount(stack)) ?? 0
                return count >= 1 ? count : nil
            }
            #expect(count == 1)
            let stats = try await stack.simulator.stats()
            #expect(stats["identifies"]?.doubleValue == 1)
            #expect(stats["resumes"]?.doubleValue == 1)
        }
    }

    @Test("ENABLE_REPLY_LOOP=0 turns the reply path off and says so; the reply stays queued")
    func replyLoopDisabled() async throws {
        try await withStack { stack in
            let replier = try stack.start("Replier", environment: ["ENABLE_REPLY_LOOP": "0"])
            try await stack.redis.client.send("XADD", "sos:inbox:discord-connector", "*", "from", "kasra", "to", "discord-connector", "text", "hello {ack_for:00000000-0000-4000-8000-000000000000}")
            let logged = await eventually { replier.log.contains("ENABLE_REPLY_LOOP=0") ? true : nil }
            #expect(logged == true)
            try await Task.sleep(for: .milliseconds(500))  // quiet period: a reply posted or dead-lettered anyway would show up by now
            #expect(try await stack.simulator.posts().isEmpty)
            #expect(try await stack.entries("discord:dead").isEmpty)
        }
    }

    @Test("DRY_RUN=1 logs the reply instead of posting it")
    func dryRunLogsInsteadOfPosting() async throws {
        try await withStack { stack in
            try stack.start("Ingest")
            try stack.start("Dispatcher")
            let replier = try stack.start("Replier", environment: ["DRY_RUN": "1"])
            try await stack.waitForGateway(sessions: 1)
            try await stack.simulator.inject(channelID: World.general, content: "dry run please", mentionBot: true)
            let entry = try #require(await eventually { try? await stack.entries(BusKeys.inbox("kasra")).first })
            let requestID = try #require(entry.fields["request_id"])
            try await stack.redis.client.send("XADD", "sos:inbox:discord-connector", "*", "from", "kasra", "to", "discord-connector", "text", "dry answer {ack_for:\(requestID)}")
            let logged = await eventually { replier.log.contains("DRY_RUN: would post to channel \(World.general): dry answer") ? true : nil }
            #expect(logged == true)
            #expect(try await stack.simulator.posts().isEmpty)
        }
    }

    @Test("a gateway close with 4014 stops Ingest and says to enable the Message Content intent")
    func disallowedIntentsStopIngest() async throws {
        try await withStack { stack in
            let ingest = try stack.start("Ingest")
            try await stack.waitForGateway(sessions: 1)
            _ = try await stack.simulator.control("POST", "/_sim/gateway/close?code=4014")
            #expect(await ingest.waitForExit(timeout: .seconds(10)))
            #expect(ingest.exitCode == 1)
            #expect(ingest.log.contains("Message Content intent"))
        }
    }

    @Test("a reply answered with 429 and then 500 is retried and posted exactly once")
    func replyRetriedThrough429And500() async throws {
        try await withStack { stack in
            try await stack.startServices()
            try await stack.simulator.inject(channelID: World.general, content: "flaky discord", mentionBot: true)
            let entry = try #require(await eventually { try? await stack.entries(BusKeys.inbox("kasra")).first })
            let requestID = try #require(entry.fields["request_id"])
            try await stack.simulator.injectFaults(messageCreate: [429, 500, 500])
            try await stack.redis.client.send("XADD", "sos:inbox:discord-connector", "*", "from", "kasra", "to", "discord-connector", "text", "made it {ack_for:\(requestID)}")
            let posts = try #require(await eventually { () -> [SimulatedPost]? in
                let posts = try? await stack.simulator.posts(channelID: World.general)
                return posts?.isEmpty == false ? posts : nil
            })
            try await Task.sleep(for: .milliseconds(500))  // quiet period: a second post of the retried reply would show up by now
            #expect(try await stack.simulator.posts(channelID: World.general).count == 1)
            #expect(posts.first?.content == "made it")
            #expect(try await stack.simulator.stats()["rate_limited"]?.doubleValue == 1)
            let pending = try await stack.redis.client.send("XPENDING", "sos:inbox:discord-connector", "replier").array?.first?.int
            #expect(pending == 0)
        }
    }
}
