import Foundation
import Logging
import Shared
import Testing
import TestSupport

/// Several copies behaving as one well-mannered Discord client: shared rate limits, order per
/// channel with several Repliers, and shards with exactly one owner each.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct ScaleOutTests {
    typealias World = DiscordSimulatorProcess.World
    static let route = "POST /channels/{channel.id}/messages"

    /// Queues an outbound message (CONTRACT section 4) for a channel, as an agent would.
    func send(_ stack: ConnectorStack, channel: String, text: String) async throws {
        try await stack.redis.client.send("XADD", "sos:inbox:discord-connector", "*", "from", "kasra", "to", "discord-connector", "text", text, "channel_id", channel)
    }

    func startRepliers(_ stack: ConnectorStack, count: Int) throws {
        for index in 0..<count {
            try stack.start("Replier", as: "Replier-\(index)", environment: ["CONSUMER_NAME": "replier-\(index)"])
        }
    }

    /// Waits until the simulator holds at least `count` bot posts.
    func waitForPosts(_ stack: ConnectorStack, count: Int, timeout: Duration) async throws -> [SimulatedPost] {
        let posts = await eventually(timeout: timeout) { () -> [SimulatedPost]? in
            guard let posts = try? await stack.simulator.posts(), posts.count >= count else { return nil }
            return posts
        }
        if let posts { return posts }
        return try await stack.simulator.posts()
    }

    @Test("three Repliers sharing one channel never exceed 5 posts per 5 s and get no 429")
    func perChannelLimitAcrossRepliers() async throws {
        try await ConnectorStack.with(label: "channel-limit") { stack in
            try startRepliers(stack, count: 3)
            for index in 0..<12 { try await send(stack, channel: World.general, text: "limited-\(index)") }
            let posts = try await waitForPosts(stack, count: 12, timeout: .seconds(30))
            #expect(posts.count == 12)
            #expect(posts.map(\.content) == (0..<12).map { "limited-\($0)" })
            let times = posts.compactMap(\.receivedAtMicros).sorted()
            print("per-channel post times (ms):", times.map { ($0 - times[0]) / 1000 })
            #expect(times.count == 12)
            // Any six consecutive posts span at least 5 s: never more than 5 in a 5-second window.
            for index in 0..<(times.count - 5) {
                #expect(times[index + 5] - times[index] >= 5_000_000, "posts \(index)...\(index + 5) within 5 s")
            }
            #expect(try await stack.simulator.stats()["rate_limited"]?.doubleValue == 0)
        }
    }

    @Test("the global limit holds across three Replier processes, with no 429")
    func globalLimitAcrossRepliers() async throws {
        try await ConnectorStack.with(label: "global-limit", environment: ["DISCORD_GLOBAL_RATE_LIMIT": "10"], simulatorArguments: ["--global-limit", "10"]) { stack in
            try startRepliers(stack, count: 3)
            var targets: [String] = []
            for index in 0..<30 {
                targets.append(try await stack.simulator.createChannel(name: "load-\(index)"))
                try await Task.sleep(for: .milliseconds(120))  // the simulator's global limit counts these too
            }
            try await Task.sleep(for: .milliseconds(1_100))  // and the connector's limiter does not know of them
            for round in 0..<2 {
                for channel in targets { try await send(stack, channel: channel, text: "global-\(round)-\(channel)") }
            }
            let posts = try await waitForPosts(stack, count: 60, timeout: .seconds(40))
            #expect(posts.count == 60)
            let times = posts.compactMap(\.receivedAtMicros).sorted()
            // Never more than 10 in any one second.
            for index in 0..<(times.count - 10) {
                #expect(times[index + 10] - times[index] >= 1_000_000, "posts \(index)...\(index + 10) within 1 s")
            }
            let stats = try await stack.simulator.stats()
            #expect(stats["rate_limited"]?.doubleValue == 0)
            #expect(stats["global_rate_limited"]?.doubleValue == 0)
        }
    }

    @Test("a 429 pauses only the scope it names: its bucket, or everything when global")
    func rateLimit429PausesItsScope() async throws {
        let directory = try makeScratchDirectory("ratelimit")
        let redis = try await RedisServer(directory: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let limiter = SharedRateLimiter(redis: redis.client, logger: .init(label: "test"))
            #expect(try await limiter.reserve(route: Self.route, major: "A") == 0)
            #expect(try await limiter.reserve(route: Self.route, major: "B") == 0)
            // Channel A's bucket answers 429 (scope user) with retry_after 2 s.
            await limiter.record(route: Self.route, major: "A", reservation: nil, status: 429, info: RateLimitInfo(
                headers: ["x-ratelimit-scope": "user", "x-ratelimit-bucket": "abc"],
                body: .object(["retry_after": .number(2), "global": .bool(false)])
            ))
            #expect(try await limiter.reserve(route: Self.route, major: "A") > 1_500)
            #expect(try await limiter.reserve(route: Self.route, major: "B") == 0)
            // A bucket not learned yet starts cold: 5 per 5 s per channel.
            for _ in 0..<5 { #expect(try await limiter.reserve(route: Self.route, major: "D") == 0) }
            #expect(try await limiter.reserve(route: Self.route, major: "D") > 3_000)
            // A global 429 pauses every bucket.
            await limiter.record(route: Self.route, major: "B", reservation: nil, status: 429, info: RateLimitInfo(
                headers: ["x-ratelimit-scope": "global", "x-ratelimit-global": "true"],
                body: .object(["retry_after": .number(1), "global": .bool(true)])
            ))
            #expect(try await limiter.reserve(route: Self.route, major: "C") > 500)
            // Invalid requests are counted per 10 minutes.
            let invalid = try await redis.client.send(["KEYS", "discord:ratelimit:invalid:*"]).array?.count ?? 0
            #expect(invalid == 1)
        } catch {
            await redis.stop()
            throw error
        }
        await redis.stop()
    }

    @Test("a request slower than the window counts from its answer, though another caller's reservation trimmed it meanwhile")
    func slowRequestCountsFromItsAnswer() async throws {
        try await RedisServer.with(label: "ratelimit-slow") { redis in
            let limiter = SharedRateLimiter(redis: redis.client, settings: .init(globalPerSecond: 2), logger: .init(label: "test"))
            guard case .reserved(let slow) = try await limiter.attempt(route: Self.route, major: "A") else {
                Issue.record("the first request was not reserved")
                return
            }
            // The slow request is still on its way when another caller reserves (and trims the
            // reservations older than the global window).
            try await Task.sleep(for: .milliseconds(1_100))
            #expect(try await limiter.reserve(route: Self.route, major: "B") == 0)
            // Its answer comes now: it reached Discord no earlier than this, and counts from now.
            await limiter.record(route: Self.route, major: "A", reservation: slow, status: 200, info: RateLimitInfo(headers: [:], body: nil))
            // Two sends in the last second: the global limit of 2 a second is full.
            #expect(try await limiter.reserve(route: Self.route, major: "C") > 0)
        }
    }

    @Test("replies to each channel post in the order the agents sent them, with three Repliers")
    func orderPerChannelWithThreeRepliers() async throws {
        try await ConnectorStack.with(label: "order", simulatorArguments: ["--no-rate-limit"]) { stack in
            try startRepliers(stack, count: 3)
            // A fixed wait, kept on purpose: no Redis state marks the end of the rebalancing. The
            // lease keys look spread out while the first Replier is still handing partitions over;
            // LeaseSet now stops surplus workers together (not one blocked read after another), so
            // its kept leases no longer lapse meanwhile, but that was seen under load only and this
            // test does not yet prove it; see the issue 9 note.
            try await Task.sleep(for: .seconds(2))  // let the partitions spread out
            let channels = [World.general, World.agents, World.ops, World.thread]
            for index in 0..<80 {
                try await send(stack, channel: channels[index % channels.count], text: "ordered-\(index)")
            }
            let posts = try await waitForPosts(stack, count: 80, timeout: .seconds(30))
            #expect(posts.count == 80)
            for channel in channels {
                let sent = (0..<80).filter { channels[$0 % channels.count] == channel }.map { "ordered-\($0)" }
                #expect(posts.filter { $0.channelID == channel }.map(\.content) == sent)
            }
            // The partitions really were shared out among the three.
            let holders = Set(try await (0..<8).asyncCompactMap { try await stack.redis.client.send("GET", "discord:replier:partition:\($0)").string })
            #expect(holders.count == 3)
        }
    }

    @Test("shard claiming gives each shard exactly one owner as copies come and go")
    func shardLeasesHaveOneOwner() async throws {
        let directory = try makeScratchDirectory("leases")
        let redis = try await RedisServer(directory: directory)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let running = Running()
        var copies: [(LeaseSet, Task<Void, any Error>)] = []
        func startCopy(_ name: String) -> (LeaseSet, Task<Void, any Error>) {
            let set = LeaseSet(redis: RedisClient(url: try! RedisURL(parsing: redis.url), name: name), keyPrefix: "test:shard:", membersKey: "test:members", count: 6, ttl: .milliseconds(1500), owner: name, logger: .init(label: name))
            let task = Task {
                try await set.run { shard in
                    await running.start(shard, by: name)
                    while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(50)) }  // the shard's "work": idle until cancelled
                    await running.stop(shard, by: name)
                }
            }
            return (set, task)
        }
        copies.append(startCopy("a"))
        let allHeld = await eventually(timeout: .seconds(10)) { await running.owners.count == 6 ? true : nil }
        #expect(allHeld == true)  // one copy holds every shard
        copies.append(startCopy("b"))
        copies.append(startCopy("c"))
        let spread = await eventually(timeout: .seconds(10)) { () -> Bool? in
            let perOwner = Dictionary(grouping: await running.owners.values, by: { $0 }).mapValues(\.count)
            return perOwner.count == 3 && perOwner.values.allSatisfy { $0 == 2 } ? true : nil
        }
        #expect(spread == true)
        copies[0].1.cancel()  // a copy goes away
        _ = try? await copies[0].1.value
        let taken = await eventually(timeout: .seconds(10)) { () -> Bool? in
            let owners = await running.owners
            return owners.count == 6 && !owners.values.contains("a") ? true : nil
        }
        #expect(taken == true)
        #expect(await running.maxConcurrentOwners == 1)  // never two owners of one shard
        for copy in copies { copy.1.cancel() }
        for copy in copies { _ = try? await copy.1.value }
        await redis.stop()
    }

    @Test("two Ingest copies with SHARD_COUNT=2 each hold one shard, within max_concurrency")
    func ingestShards() async throws {
        try await ConnectorStack.with(label: "shards", environment: ["SHARD_COUNT": "2", "GATEWAY_LEASE_MS": "2000"], simulatorArguments: ["--shards", "2", "--guilds", "4"]) { stack in
            try stack.start("Ingest", as: "Ingest-a")
            try stack.start("Ingest", as: "Ingest-b")
            try stack.start("Dispatcher")
            let spread = await eventually(timeout: .seconds(20)) { () -> Bool? in
                let stats = try? await stack.simulator.stats()
                return stats?["sessions_by_shard"]?["0"]?.doubleValue == 1 && stats?["sessions_by_shard"]?["1"]?.doubleValue == 1 ? true : nil
            }
            #expect(spread == true)
            // Each copy holds one shard once the shares have settled (a copy that started first
            // may hold both for a moment, then hand one over).
            let holders = await eventually(timeout: .seconds(10)) { () -> Set<String>? in
                let owners = Set(((try? await [0, 1].asyncCompactMap { try await stack.redis.client.send("GET", "discord:gateway:lease:\($0)").string }) ?? []))
                return owners.count == 2 ? owners : nil
            }
            #expect(holders?.count == 2)
            // A message in each guild's channel arrives once, whichever shard carries it.
            try await stack.simulator.inject(channelID: World.general, content: "shard message 0", mentionBot: true)
            for guild in 1...3 {
                try await stack.simulator.inject(channelID: String(310_000_000_000_000_000 + guild), content: "shard message \(guild)", mentionBot: true)
            }
            let arrived = await eventually(timeout: .seconds(10)) { () -> Int? in
                let count = (try? await stack.entries("sos:inbox:kasra").count) ?? 0
                return count >= 4 ? count : nil
            }
            #expect(arrived == 4)
            let stats = try await stack.simulator.stats()
            #expect(stats["identify_violations"]?.doubleValue == 0)
            #expect(stats["max_active_sessions_per_shard"]?.doubleValue == 1)
        }
    }

    @Test("compose.yaml validates against docker-compose and the compose-spec schema")
    func composeValidates() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        let result = try await runToCompletion("/bin/bash", arguments: ["\(root)/scripts/validate-compose.sh", "\(root)/compose.yaml"], environment: ProcessInfo.processInfo.environment, timeout: .seconds(240))
        #expect(result.code == 0, "\(result.output)")
        #expect(result.output.contains("is valid"))
    }
}

/// Which copy runs which shard, and the most owners any shard ever had at once.
actor Running {
    private(set) var owners: [Int: String] = [:]
    private var active: [Int: Int] = [:]
    private(set) var maxConcurrentOwners = 0

    func start(_ shard: Int, by owner: String) {
        owners[shard] = owner
        active[shard, default: 0] += 1
        maxConcurrentOwners = max(maxConcurrentOwners, active[shard] ?? 0)
    }

    func stop(_ shard: Int, by owner: String) {
        active[shard, default: 1] -= 1
        if owners[shard] == owner { owners[shard] = nil }
    }
}

extension Sequence where Element: Sendable {
    func asyncCompactMap<T>(_ transform: (Element) async throws -> T?) async rethrows -> [T] {
        var result: [T] = []
        for element in self { if let value = try await transform(element) { result.append(value) } }
        return result
    }
}
