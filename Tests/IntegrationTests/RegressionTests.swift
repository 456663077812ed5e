import Foundation
import Shared
import Testing
import TestSupport

/// The defects of issue 9, each as a user would see it, with the services as real processes.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct RegressionTests {
    typealias World = DiscordSimulatorProcess.World

    @Test("a wrong MUMEGA_BUS_TOKEN is logged as refused credentials naming the setting, not as 'Redis unreachable'")
    func wrongBusPassword() async throws {
        try await RedisServer.with(label: "wrong-password", password: "the-right-password-1234") { server in
            let directory = try makeScratchDirectory("wrong-password-run")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let dispatcher = try ChildProcess(
                name: "Dispatcher", executable: BuildProducts.path("Dispatcher"),
                environment: ["PATH": "/usr/bin:/bin", "MUMEGA_BUS_URL": server.url, "MUMEGA_BUS_TOKEN": "a-wrong-password-5678", "CTX_SIGNING_KEY": "k"],
                workingDirectory: directory, logPath: directory + "/Dispatcher.log"
            )
            let logged = await eventually(timeout: .seconds(10)) { dispatcher.log.contains("MUMEGA_BUS_TOKEN") ? true : nil }
            await dispatcher.stop()
            #expect(logged == true, "log: \(dispatcher.log)")
            #expect(dispatcher.log.contains("refused"))
            #expect(!dispatcher.log.contains("unreachable"))
            #expect(!dispatcher.log.contains("a-wrong-password"))
        }
    }

    @Test("CONSUMER_NAME in .env names the consumer, like every other setting")
    func consumerNameFromDotEnv() async throws {
        try await ConnectorStack.with(label: "consumer-name") { stack in
            try "CONSUMER_NAME=dispatcher-from-dotenv\n".write(toFile: stack.directory + "/.env", atomically: true, encoding: .utf8)
            try stack.start("Dispatcher")
            let names = await eventually(timeout: .seconds(10)) { () -> [String]? in
                guard let consumers = try? await stack.redis.client.send("XINFO", "CONSUMERS", "discord:inbound", "dispatcher").array, !consumers.isEmpty else { return nil }
                return consumers.compactMap { $0.replyMap["name"]?.string }
            }
            #expect(names == ["dispatcher-from-dotenv"])
        }
    }

    @Test("a catch-up over many channels stays within the global rate limit: no 429")
    func catchUpThroughLimiter() async throws {
        try await ConnectorStack.with(label: "catchup-limit", simulatorArguments: ["--global-limit", "10"]) { stack in
            // Twelve channels, created slowly enough for the simulator's limit.
            var channels: [String] = []
            for index in 0..<12 {
                channels.append(try await stack.simulator.createChannel(name: "project-\(index)"))
                try await Task.sleep(for: .milliseconds(120))
            }
            let map = "{" + channels.map { "\"\($0)\": \"builder\"" }.joined(separator: ",") + "}"
            let environment = ["MUMEGA_AGENT_MAP": map, "DISCORD_GLOBAL_RATE_LIMIT": "8"]
            let ingest = try stack.start("Ingest", environment: environment)
            try stack.start("Dispatcher", environment: environment)
            try await stack.waitForGateway(sessions: 1)
            let before = try await stack.simulator.stats()["global_rate_limited"]?.doubleValue ?? -1

            // Nobody is connected while a message lands in every channel, and the session expires.
            ingest.signal(SIGKILL)
            await ingest.waitForExit(timeout: .seconds(5))
            for (index, channel) in channels.enumerated() { try await stack.simulator.inject(channelID: channel, content: "while away \(index)") }
            _ = try await stack.simulator.control("POST", "/_sim/sessions/expire")
            try stack.start("Ingest", environment: environment)

            // Bounded generously: on a loaded CI machine (every suite's stack at once) the takeover
            // and the rate-limited catch-up have taken over 30 s; what this test checks is no 429.
            let caughtUp = await eventually(timeout: .seconds(90)) { () -> Int? in
                let count = (try? await stack.entries("sos:inbox:builder").count) ?? 0
                return count >= 12 ? count : nil
            }
            let delivered = (try? await stack.entries("sos:inbox:builder").count) ?? -1
            #expect(caughtUp == 12, "caught up \(delivered) of 12; Ingest's log:\n\(stack.services["Ingest"]?.log.suffix(3000) ?? "")")
            let after = try await stack.simulator.stats()["global_rate_limited"]?.doubleValue ?? -1
            #expect(before == 0)
            #expect(after == before, "the catch-up hit Discord's global limit \(after - before) times; Ingest's log:\n\(stack.services["Ingest"]?.log.suffix(4000) ?? "")")
        }
    }

    @Test("SIGTERM while a reply waits for its rate-limit slot: it is posted and acknowledged before the Replier exits")
    func gracefulShutdownFinishesPost() async throws {
        try await ConnectorStack.with(label: "drain") { stack in
            let replier = try stack.start("Replier")
            // The sixth post to one channel waits about 5 s for the channel's window (5 per 5 s).
            for index in 0..<6 {
                try await stack.redis.client.run(XADD("sos:inbox:discord-connector", fields: [("from", "kasra"), ("to", "discord-connector"), ("text", "drain-\(index)"), ("channel_id", World.general)]))
            }
            let five = await eventually(timeout: .seconds(15)) { (try? await stack.simulator.posts(channelID: World.general).count) == 5 ? true : nil }
            #expect(five == true)
            replier.signal(SIGTERM)
            let exited = await replier.waitForExit(timeout: .seconds(15))
            #expect(exited)
            #expect(replier.exitCode == 0)
            let posts = try await stack.simulator.posts(channelID: World.general).map(\.content)
            #expect(posts == (0..<6).map { "drain-\($0)" })
            // Nothing is left pending to be posted again by the next Replier.
            var pending = 0
            for partition in 0..<8 {
                pending += (try? await stack.redis.client.send("XPENDING", "discord:replies:\(partition)", "replier").array?.first?.int) ?? 0
            }
            #expect(pending == 0)
        }
    }
}
