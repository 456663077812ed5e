import Foundation
import Shared
import Testing
import TestSupport

/// CONTRACT section 9's retention, with the services as processes and small retention settings:
/// the janitor trims what every group has, keeps what a lagging group has not read or
/// acknowledged, and nothing is lost or doubled while it works.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct RetentionTests {
    typealias World = DiscordSimulatorProcess.World
    static let environment = ["STREAM_RETENTION": "3", "ACKED_RETENTION": "1", "DEAD_LETTER_RETENTION": "2", "JANITOR_INTERVAL": "1"]

    /// Injects `count` mentions and answers each once as kasra; returns when all are posted.
    func roundTrips(_ stack: ConnectorStack, from first: Int, count: Int) async throws {
        for index in first..<(first + count) {
            _ = try await stack.simulator.inject(channelID: World.general, content: "question \(index)", mentionBot: true)
        }
        var answered: Set<String> = []
        let deadline = ContinuousClock.now + .seconds(30)
        var cursor = "0"
        while answered.count < count, ContinuousClock.now < deadline {
            // Read kasra's inbox as an agent without a group would (XREAD), answering each once.
            let entries = try await stack.redis.client.run(XREAD("sos:inbox:kasra", after: cursor, count: 100, block: 500))
            for entry in entries {
                cursor = entry.id
                guard let content = entry.fields["content"], let request = entry.fields["request_id"], !answered.contains(content) else { continue }
                let index = content.split(separator: " ").last.map(String.init) ?? ""
                guard let number = Int(index), (first..<(first + count)).contains(number) else { continue }
                answered.insert(content)
                try await stack.redis.client.run(XADD("sos:inbox:discord-connector", fields: [("from", "kasra"), ("to", "discord-connector"), ("text", "answer \(number)"), ("ack_for", request)]))
            }
        }
        try #require(answered.count == count, "only \(answered.count) of \(count) requests reached kasra")
        let posted = await eventually(timeout: .seconds(30)) { () -> Int? in
            let posts = (try? await stack.simulator.posts()) ?? []
            let done = (first..<(first + count)).allSatisfy { number in posts.contains { $0.content == "answer \(number)" } }
            return done ? posts.count : nil
        }
        try #require(posted != nil, "not every answer was posted")
    }

    @Test("small retention: the connector's streams are trimmed once every group has them, an agent's inbox keeps what a lagging group has not read or acknowledged, dead letters expire, and every message is delivered and answered once")
    func trimsWithoutLosing() async throws {
        try await ConnectorStack.with(label: "retention", environment: Self.environment) { stack in
            // A lagging consumer group on kasra's inbox, from its start.
            try await stack.redis.client.send("XGROUP", "CREATE", "sos:inbox:kasra", "lagging", "0", "MKSTREAM")
            try await stack.startServices()
            try await roundTrips(stack, from: 0, count: 20)
            let inbox = try await stack.entries("sos:inbox:kasra")
            #expect(inbox.count == 20)
            // The lagging group reads five and acknowledges three: the 4th and 5th stay pending.
            let read = try StreamEntry.fromRead(try await stack.redis.client.send("XREADGROUP", "GROUP", "lagging", "slow", "COUNT", "5", "STREAMS", "sos:inbox:kasra", ">"))
            #expect(read.count == 5)
            try await stack.redis.client.send(["XACK", "sos:inbox:kasra", "lagging"] + read.prefix(3).map(\.id))
            // An unroutable reply becomes a dead letter.
            try await stack.redis.client.run(XADD("sos:inbox:discord-connector", fields: [("from", "kasra"), ("to", "discord-connector"), ("text", "no request named")]))
            _ = try #require(await eventually { try? await stack.entries("discord:dead").first })

            // The janitor trims: the connector's streams to nothing (all acknowledged, older than
            // 1 s), kasra's inbox to the lagging group's oldest pending entry (older than 3 s).
            let trimmed = await eventually(timeout: .seconds(20)) { () -> Bool? in
                guard let inbound = try? await stack.entries("discord:inbound"), inbound.isEmpty,
                      let replies = try? await stack.entries("sos:inbox:discord-connector"), replies.isEmpty,
                      let kasra = try? await stack.entries("sos:inbox:kasra"), kasra.first?.id == read[3].id,
                      let dead = try? await stack.entries("discord:dead"), dead.isEmpty else { return nil }
                return true
            }
            let shown = try await lengths(stack)
            #expect(trimmed == true, "streams: \(shown)")
            // What the lagging group has not read yet is all there.
            let kept = try await stack.entries("sos:inbox:kasra")
            #expect(kept.map(\.id) == inbox.dropFirst(3).map(\.id))
            let rest = try StreamEntry.fromRead(try await stack.redis.client.send("XREADGROUP", "GROUP", "lagging", "slow", "COUNT", "100", "STREAMS", "sos:inbox:kasra", ">"))
            #expect(rest.map(\.id) == inbox.dropFirst(5).map(\.id))
            let partitions = try await (0..<8).asyncMap { try await stack.entries("discord:replies:\($0)").count }
            #expect(partitions.allSatisfy { $0 == 0 }, "\(partitions)")

            // Traffic while the janitor keeps sweeping: still once each.
            try await roundTrips(stack, from: 20, count: 20)
            let posts = try await stack.simulator.posts().map(\.content).filter { $0.hasPrefix("answer ") }
            #expect(posts.count == 40)
            #expect(Set(posts).count == 40)

            // connector status shows each stream's length and memory.
            let status = try await runToCompletion("connector", arguments: ["status", "--json"], environment: stack.environment)
            #expect(status.code == 0, "\(status.output)")
            let report = try JSON.decode(JSONValue.self, from: Data(status.output.utf8))
            let kasra = report["streams"]?.arrayValue?.first { $0["stream"]?.stringValue == "sos:inbox:kasra" }
            #expect((kasra?["memory_bytes"]?.doubleValue ?? 0) > 0, "\(status.output.prefix(2000))")
            #expect(stack.services["Dispatcher"].map { $0.log.contains("retention: trimmed") } == true)
        }
    }

    func lengths(_ stack: ConnectorStack) async throws -> String {
        var out: [String] = []
        for stream in ["discord:inbound", "sos:inbox:discord-connector", "sos:inbox:kasra", "discord:dead"] {
            out.append("\(stream)=\(try await stack.entries(stream).count)")
        }
        return out.joined(separator: " ")
    }
}

extension Sequence {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var results: [T] = []
        for element in self { results.append(try await transform(element)) }
        return results
    }
}

extension JSONValue {
    var arrayValue: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}
