import Foundation
import Logging
import Shared
import Testing
import TestSupport
@testable import IngestCore

/// The gateway client's skip at the read (`skipsUnread`), against the simulator's gateway: the
/// bot's own echoes cost no hand-over while the handler is idle, and nothing else changes.
@Suite(.serialized, .timeLimit(.minutes(1)))
struct GatewaySkipTests {
    typealias World = DiscordSimulatorProcess.World

    actor Recorder: GatewaySessionStore {
        private(set) var events: [GatewayFrame.EventRef] = []
        private(set) var saved: GatewaySession.Resumable?
        func append(_ batch: [GatewayFrame.EventRef]) { events += batch }
        func load() async -> GatewaySession.Resumable? { nil }
        func save(_ resumable: GatewaySession.Resumable?) async { saved = resumable }
        func contents(_ name: String = "MESSAGE_CREATE") -> [String] {
            events.filter { $0.name == name }.compactMap { try? JSON.decode(JSONValue.self, from: $0.data)["content"]?.stringValue }
        }
    }

    @Test("echoes are skipped while the handler is idle; every other event arrives in order; one frame per 250 ms still goes through and its commit covers the skipped ones")
    func skipsEchoes() async throws {
        let directory = try makeScratchDirectory("gateway-skip")
        let simulator = try await DiscordSimulatorProcess(directory: directory, arguments: ["--no-rate-limit"])
        let http = HTTPClient(timeout: .seconds(10), name: "gateway-skip-test")
        let recorder = Recorder()
        let client = GatewayClient(
            token: simulator.token, gatewayURL: "ws://127.0.0.1:\(simulator.port)", store: recorder, resumable: nil,
            skipsUnread: { event in event.name == "MESSAGE_CREATE" && String(decoding: event.data, as: UTF8.self).contains("\"content\":\"echo ") },
            logger: Logger(label: "gateway-skip"),
            onBatch: { batch in
                await recorder.append(batch)
                return batch.count
            }
        )
        let task = Task { try await client.run() }
        do {
            let ready = await eventually(timeout: .seconds(10)) { await recorder.events.contains { $0.name == "READY" } ? true : nil }
            try #require(ready == true)
            func echo(_ text: String) async throws {
                let posted = try await http.request(
                    method: "POST", url: simulator.apiBase + "/channels/\(World.general)/messages",
                    headers: ["Authorization": "Bot \(simulator.token)"], body: .json(try JSONSerialization.data(withJSONObject: ["content": text]))
                )
                #expect(posted.status == 200, "\(posted.bodyText)")
            }
            // 60 echoes with a person's message after every tenth.
            for index in 0..<60 {
                try await echo("echo \(index)")
                if index % 10 == 9 { try await simulator.inject(channelID: World.general, content: "keep \(index / 10)") }
            }
            let keeps = (0..<6).map { "keep \($0)" }
            let arrived = await eventually(timeout: .seconds(10)) { await recorder.contents().filter { $0.hasPrefix("keep") } == keeps ? true : nil }
            let contents = await recorder.contents()
            #expect(arrived == true, "\(contents)")
            let handedEchoes = await recorder.contents().filter { $0.hasPrefix("echo") }.count
            #expect(handedEchoes < 60, "every echo was handed to the handler")

            // After a quiet spell the next echo goes through, and its commit covers the skipped ones.
            try await Task.sleep(for: .milliseconds(400))
            try await echo("echo last")
            let last = await eventually(timeout: .seconds(5)) { await recorder.events.last { $0.name == "MESSAGE_CREATE" && String(decoding: $0.data, as: UTF8.self).contains("echo last") } }
            let lastEcho = try #require(last)
            let highest = await recorder.events.map(\.sequence).max() ?? 0
            #expect(lastEcho.sequence == highest)
            task.cancel()
            _ = try? await task.value
            #expect(await recorder.saved?.sequence == lastEcho.sequence)
        } catch {
            task.cancel()
            await simulator.stop()
            throw error
        }
        await simulator.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}
