import Foundation
import Logging
import Shared
import Testing
import TestSupport

/// `DiscordClient.perform` against the simulator process: the one retry policy every route gets,
/// the shared limiter in front of it, and files uploaded byte for byte.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct DiscordClientTests {
    typealias World = DiscordSimulatorProcess.World

    struct Created: Decodable {
        var id: String
        var content: String
        var attachments: [SimulatedAttachment]
    }

    func withClient(_ simulatorArguments: [String] = [], _ body: (DiscordClient, DiscordSimulatorProcess) async throws -> Void) async throws {
        try await withClient(simulatorArguments) { client, simulator, _ in try await body(client, simulator) }
    }

    /// The client, the simulator, and the redis-server its limiter uses.
    func withClient(_ simulatorArguments: [String] = [], _ body: (DiscordClient, DiscordSimulatorProcess, RedisServer) async throws -> Void) async throws {
        let directory = try makeScratchDirectory("discord-client")
        let redis = try await RedisServer(directory: directory)
        let simulator: DiscordSimulatorProcess
        do {
            simulator = try await DiscordSimulatorProcess(directory: directory, arguments: simulatorArguments)
        } catch {
            await redis.stop()
            throw error
        }
        let logger = Logger(label: "discord-client-test")
        let limiter = SharedRateLimiter(redis: redis.client, logger: logger)
        let client = DiscordClient(apiBase: simulator.apiBase, token: simulator.token, limiter: limiter, logger: logger)
        do {
            try await body(client, simulator, redis)
        } catch {
            await simulator.stop()
            await redis.stop()
            throw error
        }
        await simulator.stop()
        await redis.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    static let message = MessageCreate(content: "the report", allowedMentions: .init(repliedUser: false))

    @Test("a file goes up as multipart and comes back byte for byte")
    func uploadsBinaryFile() async throws {
        let bytes = Data((0...255).map { UInt8($0) } + [0, 0, 13, 10, 45, 45] + (0...255).reversed().map { UInt8($0) })
        try await withClient { client, simulator in
            let created = try await client.perform(
                .createMessage(channel: World.general, Self.message, files: [DiscordFile(filename: "report.bin", data: bytes)]), as: Created.self
            )
            #expect(created.content == "the report")
            let attachment = try #require(created.attachments.first)
            #expect(attachment.filename == "report.bin")
            #expect(attachment.size == bytes.count)
            let download = try await HTTPClient(name: "download").request(method: "GET", url: attachment.url)
            #expect(download.status == 200)
            #expect(download.body == bytes)
            #expect(try await simulator.posts(channelID: World.general).first?.attachments.first?.size == bytes.count)
        }
    }

    @Test("deferred records: a routine answer's record waits for the caller's writes or the next reservation; 5 per 5 s still holds, with no 429")
    func deferredRecords() async throws {
        try await withClient { client, simulator, redis in
            let started = ContinuousClock.now
            for index in 0..<7 {
                var message = Self.message
                message.content = "post \(index)"
                _ = try await client.perform(.createMessage(channel: World.general, message, files: []), retries: .untilCancelled, deferRecord: true)
                // The first answer teaches the bucket and the fifth empties the window: both
                // recorded at once. The others are routine, their records left to the caller.
                if [0, 4].contains(index) {
                    #expect(client.takeDeferredRecords().isEmpty, "after post \(index)")
                } else if index.isMultiple(of: 2) {
                    // The caller sends it with its own writes (as the Replier's bookkeeping does).
                    let left = client.takeDeferredRecords()
                    #expect(left.count == 1, "after post \(index)")
                    _ = try await redis.client.pipeline(left.map(\.request) + [SET("caller:write", "1").request])
                }
                // Odd posts: left in the client, sent with the next reservation.
            }
            #expect(ContinuousClock.now - started >= .seconds(4), "the sixth post waited for the window")
            #expect(try await simulator.posts(channelID: World.general).count == 7)
            #expect(try await simulator.stats()["rate_limited"]?.doubleValue == 0)
        }
    }

    @Test("prefetched reservations: made in the caller's round trip and used by the next post, each send counted once; 5 per 5 s holds, no 429")
    func prefetchedReservations() async throws {
        try await withClient { client, simulator, redis in
            func endpoint(_ index: Int) -> DiscordEndpoint {
                var message = Self.message
                message.content = "post \(index)"
                return .createMessage(channel: World.general, message)
            }
            // Nothing to reserve ahead until the first answer teaches the route's bucket.
            #expect(client.prefetch(for: endpoint(0)) == nil)
            let started = ContinuousClock.now
            _ = try await client.perform(endpoint(0), retries: .untilCancelled, deferRecord: true)
            var reservedAhead: [Int] = []
            var firstFive: Duration = .zero
            for index in 1..<7 {
                // As the Replier's bookkeeping does: the last post's record, then the next post's reservation.
                let prefetch = try #require(client.prefetch(for: endpoint(index)))
                let answers = try await redis.client.pipeline(client.takeDeferredRecords().map(\.request) + [prefetch.call.request])
                if answers.last?.array != nil { reservedAhead.append(index) }
                client.prefetched(prefetch, answer: try #require(answers.last))
                _ = try await client.perform(endpoint(index), retries: .untilCancelled, deferRecord: true)
                if index == 4 { firstFive = ContinuousClock.now - started }
            }
            // Posts 1-4 went on their reservations made ahead: had each also reserved on its own,
            // the window of 5 would have been full at the third post.
            #expect(reservedAhead.starts(with: [1, 2, 3, 4]))
            #expect(firstFive < .milliseconds(2_500), "the first five posts waited: \(firstFive)")
            // The sixth found the window full ahead of time, reserved as usual, and waited.
            #expect(!reservedAhead.contains(5))
            #expect(ContinuousClock.now - started >= .seconds(4), "the sixth post waited for the window")
            #expect(try await simulator.posts(channelID: World.general).map(\.content) == (0..<7).map { "post \($0)" })
            #expect(try await simulator.stats()["rate_limited"]?.doubleValue == 0)
        }
    }

    @Test("429 and 5xx are retried until Discord accepts; the post happens once")
    func retriesTransientFailures() async throws {
        try await withClient { client, simulator in
            try await simulator.injectFaults(messageCreate: [429, 500, 503])
            let created = try await client.perform(.createMessage(channel: World.general, Self.message), retries: .untilCancelled, as: Created.self)
            #expect(created.content == "the report")
            #expect(try await simulator.posts(channelID: World.general).count == 1)
        }
    }

    @Test("a 4xx other than 429 is final, with Discord's status and error code")
    func rejectsFinalErrors() async throws {
        try await withClient { client, _ in
            let failure = await #expect(throws: DiscordFailure.self) {
                try await client.perform(.createMessage(channel: "399999999999999999", Self.message), retries: .untilCancelled)
            }
            guard case .rejected(let error)? = failure else { Issue.record("expected a rejection, got \(String(describing: failure))"); return }
            #expect(error.status == 404)
            #expect(error.code == 10003)  // Unknown Channel
        }
    }

    @Test("look-ups give up after their attempts while Discord keeps failing")
    func givesUp() async throws {
        try await withClient { client, simulator in
            try await simulator.injectFaults(messageCreate: [502, 502, 502])
            let failure = await #expect(throws: DiscordFailure.self) {
                try await client.perform(.createMessage(channel: World.general, Self.message), retries: .attempts(2))
            }
            guard case .gaveUp? = failure else { Issue.record("expected gaveUp, got \(String(describing: failure))"); return }
        }
    }

    @Test("an upload over the limit is 413 with code 40005, final")
    func uploadTooLarge() async throws {
        try await withClient(["--max-upload-bytes", "1024"]) { client, _ in
            let failure = await #expect(throws: DiscordFailure.self) {
                try await client.perform(.createMessage(channel: World.general, Self.message, files: [DiscordFile(filename: "big.bin", data: Data(count: 4096))]))
            }
            #expect(failure?.status == 413)
            guard case .rejected(let error)? = failure else { return }
            #expect(error.code == 40005)
        }
    }
}
