import Foundation
import Logging
import Shared
import Testing
import TestSupport

/// `/metrics`, `/healthz`, `/readyz` and `LOG_FORMAT=json`, with real processes: each service
/// gets its own `METRICS_PORT` on 127.0.0.1; the test plays the human (through the simulator)
/// and the agent (through Redis), and scrapes the services in between.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct ObservabilityTests {
    typealias World = DiscordSimulatorProcess.World
    static let services = ["Ingest", "Dispatcher", "Replier"]

    /// Starts the three services, each serving HTTP on its own free loopback port.
    func startServices(_ stack: ConnectorStack, environment: [String: String] = [:]) async throws -> [String: Int] {
        var ports: [String: Int] = [:]
        for service in Self.services {
            let port = try freeLoopbackPort()
            ports[service] = port
            try stack.start(service, environment: environment.merging(["METRICS_HOST": "127.0.0.1", "METRICS_PORT": String(port)]) { _, new in new })
        }
        try await stack.waitForGateway(sessions: 1)
        for (service, port) in ports {
            let up = await eventually { try? await get(port, "/healthz").status == 200 ? true : nil }
            #expect(up == true, "\(service) does not serve /healthz on port \(port)")
        }
        return ports
    }

    func get(_ port: Int, _ path: String) async throws -> HTTPResponse {
        try await HTTPClient(timeout: .seconds(5), name: "scrape").request(method: "GET", url: "http://127.0.0.1:\(port)\(path)")
    }

    /// The samples of one scrape: metric name (with its labels, if any) -> value.
    func scrape(_ port: Int) async throws -> [String: Double] {
        let response = try await get(port, "/metrics")
        #expect(response.status == 200)
        #expect(response.headers["content-type"]?.hasPrefix("text/plain") == true)
        var samples: [String: Double] = [:]
        for line in response.bodyText.split(separator: "\n") where !line.hasPrefix("#") {
            let parts = line.split(separator: " ")
            guard parts.count >= 2, let value = Double(parts[1]) else { continue }
            samples[String(parts[0])] = value
        }
        return samples
    }

    /// Waits until `metric` on `port` reaches `value`; returns what it last was.
    func waitFor(_ metric: String, on port: Int, toReach value: Double) async throws -> Double? {
        var last: Double?
        _ = try await eventually(timeout: .seconds(10)) { () -> Bool? in
            last = try await scrape(port)[metric]
            return (last ?? -1) >= value ? true : nil
        }
        return last
    }

    @Test("/metrics exposes per-stage counters that move when messages flow")
    func countersMoveWithMessages() async throws {
        try await ConnectorStack.with(label: "observability") { stack in
            let ports = try await startServices(stack)
            let ingest = try #require(ports["Ingest"]), dispatcher = try #require(ports["Dispatcher"]), replier = try #require(ports["Replier"])

            // Every stage's counters are there from the start, at 0.
            let ingestBefore = try await scrape(ingest)
            let dispatcherBefore = try await scrape(dispatcher)
            let replierBefore = try await scrape(replier)
            for name in ["connector_ingest_messages_accepted_total", "connector_ingest_messages_refused_total", "connector_ingest_messages_dropped_total", "connector_redis_errors_total"] {
                #expect(ingestBefore[name] == 0, "Ingest: \(name) is \(String(describing: ingestBefore[name]))")
            }
            for name in ["connector_dispatcher_messages_delivered_total", "connector_dispatcher_dead_letters_total"] {
                #expect(dispatcherBefore[name] == 0, "Dispatcher: \(name) is \(String(describing: dispatcherBefore[name]))")
            }
            for name in ["connector_replier_replies_routed_total", "connector_replier_replies_posted_total", "connector_replier_dead_letters_total", "connector_replier_replies_unroutable_total"] {
                #expect(replierBefore[name] == 0, "Replier: \(name) is \(String(describing: replierBefore[name]))")
            }

            // Three mentions and one chatter line nobody asked the bot about.
            for index in 1...3 {
                try await stack.simulator.inject(channelID: World.general, content: "question \(index)", mentionBot: true)
            }
            try await stack.simulator.inject(channelID: World.general, content: "just chatting")
            let inbox = try #require(try await eventually { () -> [StreamEntry]? in
                let entries = try await stack.entries(BusKeys.inbox("kasra"))
                return entries.count >= 3 ? entries : nil
            })
            #expect(try await waitFor("connector_ingest_messages_accepted_total", on: ingest, toReach: 3) == 3)
            #expect(try await waitFor("connector_ingest_messages_dropped_total", on: ingest, toReach: 1) == 1)
            #expect(try await waitFor("connector_dispatcher_messages_delivered_total", on: dispatcher, toReach: 3) == 3)

            // The agent answers two of them, and sends one answer that names no request.
            for entry in inbox.prefix(2) {
                let record = try AgentInboxRecord(fields: entry.fields)
                try await stack.redis.client.run(XADD(BusKeys.inbox("discord-connector"), fields: [
                    ("from", "kasra"), ("to", "discord-connector"), ("text", "answer"), ("ack_for", record.message.requestID),
                ]))
            }
            try await stack.redis.client.run(XADD(BusKeys.inbox("discord-connector"), fields: [
                ("from", "kasra"), ("to", "discord-connector"), ("text", "an answer to nothing"),
            ]))
            #expect(try await waitFor("connector_replier_replies_posted_total", on: replier, toReach: 2) == 2)
            #expect(try await waitFor("connector_replier_dead_letters_total", on: replier, toReach: 1) == 1)
            let posts = try await stack.simulator.posts(channelID: World.general)
            #expect(posts.count == 2)

            let ingestAfter = try await scrape(ingest)
            let dispatcherAfter = try await scrape(dispatcher)
            let replierAfter = try await scrape(replier)
            #expect(ingestAfter["connector_ingest_messages_accepted_total"] == 3)
            #expect(ingestAfter["connector_ingest_messages_refused_total"] == 0)
            #expect(dispatcherAfter["connector_dispatcher_messages_delivered_total"] == 3)
            #expect(dispatcherAfter["connector_dispatcher_dead_letters_total"] == 0)
            #expect(replierAfter["connector_replier_replies_routed_total"] == 2)
            #expect(replierAfter["connector_replier_replies_posted_total"] == 2)
            #expect(replierAfter["connector_replier_replies_unroutable_total"] == 1)
            #expect(replierAfter["connector_replier_dead_letters_total"] == 1)
            // Each process exposes its own stage only.
            #expect(dispatcherAfter["connector_ingest_messages_accepted_total"] == nil)

            for (service, port) in ports {
                let health = try await get(port, "/healthz")
                #expect(health.status == 200, "\(service) /healthz")
                let ready = try await get(port, "/readyz")
                #expect(ready.status == 200, "\(service) /readyz: \(ready.bodyText)")
                #expect(try await get(port, "/nothing-here").status == 404)
            }
        }
    }

    @Test("/readyz answers 503 while Redis is down, and 200 once it is back; /healthz stays 200")
    func readinessFollowsRedis() async throws {
        try await ConnectorStack.with(label: "observability-ready") { stack in
            let port = try freeLoopbackPort()
            try stack.start("Dispatcher", environment: ["METRICS_HOST": "127.0.0.1", "METRICS_PORT": String(port)])
            #expect(await eventually { try? await get(port, "/readyz").status == 200 ? true : nil } == true)

            stack.redis.process.signal(SIGKILL)
            _ = await stack.redis.process.waitForExit(timeout: .seconds(5))
            let notReady = try #require(await eventually { () -> HTTPResponse? in
                guard let response = try? await get(port, "/readyz"), response.status == 503 else { return nil }
                return response
            })
            #expect(notReady.bodyText.contains("Redis"))
            #expect(try await get(port, "/healthz").status == 200)

            try await stack.redis.restart(downtime: .zero)
            #expect(await eventually { try? await get(port, "/readyz").status == 200 ? true : nil } == true)
            #expect(try await waitFor("connector_redis_errors_total", on: port, toReach: 1) ?? 0 >= 1)
        }
    }

    @Test("LOG_FORMAT=json: every line a service writes is one JSON object with ts, level, label and message")
    func jsonLogs() async throws {
        try await ConnectorStack.with(label: "observability-json") { stack in
            let ports = try await startServices(stack, environment: ["LOG_FORMAT": "json"])
            try await stack.simulator.inject(channelID: World.general, content: "log me \"quoted\"\nand a second line", mentionBot: true)
            let dispatcher = try #require(ports["Dispatcher"])
            #expect(try await waitFor("connector_dispatcher_messages_delivered_total", on: dispatcher, toReach: 1) == 1)
            // Stopping adds the shutdown lines too.
            for process in stack.services.values { await process.stop(grace: .seconds(5)) }

            for service in Self.services {
                let log = try #require(stack.services[service]?.log)
                let lines = log.split(separator: "\n", omittingEmptySubsequences: true)
                #expect(lines.count >= 3, "\(service) wrote only \(lines.count) lines")
                for line in lines {
                    let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                    #expect(object != nil, "\(service): not a JSON object: \(line)")
                    guard let object else { continue }
                    for key in ["ts", "level", "label", "message"] {
                        #expect(object[key] is String, "\(service): no \(key) in \(line)")
                    }
                }
                #expect(log.contains("\"label\":\"\(service)\""))
                #expect(!log.contains(stack.simulator.token), "\(service) logged the bot token")
            }
            // Metadata become fields of their own.
            #expect(stack.services["Dispatcher"]?.log.contains("\"metrics_port\":\"\(dispatcher)\"") == true)
        }
    }

    @Test("METRICS_PORT and LOG_FORMAT are validated; --healthcheck checks the running service")
    func configurationAndHealthcheck() async throws {
        let base = ["PATH": "/usr/bin:/bin", "MUMEGA_BUS_URL": "redis://127.0.0.1:1"]
        for (variable, bad) in [("METRICS_PORT", "http"), ("METRICS_PORT", "70000"), ("LOG_FORMAT", "xml")] {
            let (code, output) = try await runToCompletion("Dispatcher", arguments: ["--check"], environment: base.merging([variable: bad]) { _, new in new })
            #expect(code == 2, "\(variable)=\(bad) exited with \(String(describing: code))")
            #expect(output.contains(variable), "\(output)")
        }
        let (code, output) = try await runToCompletion("Dispatcher", arguments: ["--check"], environment: base.merging(["METRICS_PORT": "9464", "LOG_FORMAT": "json"]) { _, new in new })
        #expect(code == 0)
        #expect(output.contains("METRICS_PORT=9464") && output.contains("LOG_FORMAT=json") && output.contains("METRICS_HOST=0.0.0.0"))

        // No endpoint configured, or nothing listening: the health check fails.
        #expect(try await runToCompletion("Dispatcher", arguments: ["--healthcheck"], environment: base).code == 1)
        let idle = try freeLoopbackPort()
        #expect(try await runToCompletion("Dispatcher", arguments: ["--healthcheck"], environment: base.merging(["METRICS_PORT": String(idle)]) { _, new in new }).code == 1)

        try await ConnectorStack.with(label: "observability-healthcheck") { stack in
            let port = try freeLoopbackPort()
            try stack.start("Replier", environment: ["METRICS_PORT": String(port)])  // METRICS_HOST defaults to 0.0.0.0
            #expect(await eventually { try? await get(port, "/healthz").status == 200 ? true : nil } == true)
            let (code, output) = try await runToCompletion("Replier", arguments: ["--healthcheck"], environment: stack.environment.merging(["METRICS_PORT": String(port)]) { _, new in new })
            #expect(code == 0, "\(output)")
            #expect(output.contains("/healthz: 200"))
        }
    }

    @Test("the JSON log handler escapes what it writes and keeps metadata as fields")
    func jsonHandlerEscapes() throws {
        final class Lines: @unchecked Sendable {
            let lock = NSLock()
            var all: [String] = []
            func append(_ line: String) { lock.withLock { all.append(line) } }
        }
        let lines = Lines()
        var handler = JSONLogHandler(label: "Replier", write: { lines.append($0) })
        handler.logLevel = .debug
        handler[metadataKey: "request_id"] = "abc"
        let logger = Logger(label: "Replier") { _ in handler }
        logger.debug("a \"quoted\" word,\na newline, a tab\t, a bell \u{07} and ünïcödé", metadata: [
            "message": "shadowing", "nested": ["list": ["1", "2"], "n": .stringConvertible(42)],
        ])
        logger.trace("below the level")
        #expect(lines.all.count == 1)
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "debug")
        #expect(object["label"] as? String == "Replier")
        #expect(object["message"] as? String == "a \"quoted\" word,\na newline, a tab\t, a bell \u{07} and ünïcödé")
        #expect(object["meta_message"] as? String == "shadowing")
        #expect(object["request_id"] as? String == "abc")
        let nested = try #require(object["nested"] as? [String: Any])
        #expect(nested["list"] as? [String] == ["1", "2"])
        #expect(nested["n"] as? String == "42")
        let ts = try #require(object["ts"] as? String)
        #expect(ISO8601DateFormatter.withFractions.date(from: ts) != nil, "\(ts)")
    }
}
