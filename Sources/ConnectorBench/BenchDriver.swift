import Foundation
import Logging
import Shared
import TestSupport

/// Drives one running stack: plays the human through the simulator and the agent through Redis,
/// and times what happens in between.
struct BenchDriver {
    let stack: ConnectorStack
    let redis: RedisClient
    let reader: InboxReader
    static let dm = DiscordSimulatorProcess.World.dm

    /// The bus's keys (tagged on a Redis Cluster).
    let keys: BusKeys

    /// - Parameter busURL: the bus the services use, when it is not the stack's own redis-server
    ///   (a Redis Cluster).
    /// - Parameter inbox: the stream whose arrivals count as delivered (the agent's inbox).
    init(stack: ConnectorStack, busURL: String? = nil, inbox: String = BusKeys.inbox("kasra")) async throws {
        self.stack = stack
        let url = try RedisURL(parsing: busURL ?? stack.redis.url)
        self.redis = RedisClient(url: url, timeout: .seconds(30), name: "bench")
        self.keys = BusKeys(connectorAgentName: "discord-connector", cluster: url.isCluster)
        self.reader = try await InboxReader(url: busURL ?? stack.redis.url, stream: inbox)
    }

    func memory() -> [String: (rss: Double, peak: Double)] {
        stack.services.mapValues { Statistics.memory(pid: $0.pid) }
    }

    func memorySplit() -> [String: (anon: Double, file: Double)] {
        stack.services.mapValues { Statistics.memorySplit(pid: $0.pid) }
    }

    /// CPU seconds used so far by each service, the simulator and redis-server.
    func cpu() -> [String: Double] {
        var seconds = stack.services.mapValues { Statistics.cpuSeconds(pid: $0.pid) }
        seconds["simulator"] = Statistics.cpuSeconds(pid: stack.simulator.process.pid)
        seconds["redis-server"] = Statistics.cpuSeconds(pid: stack.redis.process.pid)
        return seconds
    }

    /// Simulator dispatch -> the record in the agent's inbox, one message at a time.
    func inboundLatency(samples: Int) async throws -> [Int] {
        var latencies: [Int] = []
        for index in 0..<samples {
            let content = "latency-\(index)"
            let response = try await stack.simulator.control("POST", "/_sim/messages", body: ["channel_id": Self.dm, "content": content])
            guard let dispatched = (try? JSON.decode(JSONValue.self, from: response.body))?["dispatched_at_us"]?.doubleValue else {
                throw TestSupportError("no dispatched_at_us in \(response.bodyText)")
            }
            guard let arrived = await reader.waitFor(content: content, timeout: .seconds(5)) else {
                throw TestSupportError("message \(content) did not reach the inbox")
            }
            latencies.append(arrived - Int(dispatched))
        }
        return latencies
    }

    /// The agent's record on the connector's inbox -> the simulator receives the POST, one at a time.
    func replyLatency(samples: Int) async throws -> [Int] {
        let requests = await reader.requestIDs(prefix: "latency-")
        guard requests.count >= samples else { throw TestSupportError("only \(requests.count) requests to answer") }
        var posted = try await postCount()
        var latencies: [Int] = []
        for index in 0..<samples {
            let sent = Statistics.nowMicros()
            try await redis.send("XADD", "sos:inbox:discord-connector", "*", "from", "kasra", "to", "discord-connector", "text", "reply-\(index)", "ack_for", requests[index])
            let post = try await waitForPost(index: posted, timeout: .seconds(5))
            latencies.append(post - sent)
            posted += 1
        }
        return latencies
    }

    /// Interactions: the simulator's dispatch of INTERACTION_CREATE -> its receipt of the
    /// callback (Ingest's deferral), one `/ask` at a time.
    func interactionAckLatency(samples: Int) async throws -> [Int] {
        var latencies: [Int] = []
        for index in 0..<samples {
            let created = try await stack.simulator.createInteraction(channelID: Self.dm, options: [["name": "prompt", "type": 3, "value": "ack-\(index)"]])
            guard let dispatched = created.dispatchedAtMicros else { throw TestSupportError("interaction \(created.id) was not dispatched") }
            let deadline = ContinuousClock.now + .seconds(5)
            var received: Int?
            while received == nil, ContinuousClock.now < deadline {
                let response = try await stack.simulator.control("GET", "/_sim/interactions/callbacks?interaction_id=\(created.id)")
                received = try JSON.decode(CallbackLog.self, from: response.body).callbacks.first { $0.interactionID == created.id }?.receivedAtMicros
                if received == nil { try await Task.sleep(for: .microseconds(500)) }
            }
            guard let received else { throw TestSupportError("interaction \(created.id) was not acknowledged within 5 s") }
            latencies.append(received - dispatched)
        }
        return latencies
    }

    private struct CallbackLog: Decodable { var callbacks: [SimulatedInteractionCallback] }

    /// A click on a button kasra posted -> the click's record in kasra's inbox, one at a time.
    func clickLatency(samples: Int) async throws -> [Int] {
        try await redis.send("XADD", "sos:inbox:discord-connector", "*", "from", "kasra", "to", "discord-connector", "channel_id", Self.dm, "text", "bench question", "buttons", #"["Yes","No"]"#)
        let deadline = ContinuousClock.now + .seconds(10)
        var question: SimulatedPost?
        while question == nil, ContinuousClock.now < deadline {
            question = try await stack.simulator.posts(channelID: Self.dm).first { $0.content == "bench question" && $0.components != nil }
            if question == nil { try await Task.sleep(for: .milliseconds(5)) }
        }
        guard let question else { throw TestSupportError("the bench question with buttons was not posted") }
        var latencies: [Int] = []
        for _ in 0..<samples {
            let click = try await stack.simulator.click(messageID: question.id, label: "Yes")
            guard let dispatched = click.dispatchedAtMicros else { throw TestSupportError("click \(click.id) was not dispatched") }
            guard let arrived = await reader.waitFor(content: InboxReader.interactionKey(click.id), timeout: .seconds(5)) else {
                throw TestSupportError("click \(click.id) did not reach the inbox")
            }
            latencies.append(arrived - dispatched)
        }
        return latencies
    }

    /// Messages per second from the first dispatch to the last record in the inbox.
    func inboundThroughput(messages: Int) async throws -> Double {
        let before = await reader.count
        var firstDispatch: Int?
        var next = 0
        while next < messages {
            let batch = (next..<min(messages, next + 1_000)).map { ["channel_id": Self.dm, "content": "load-\($0)"] as [String: Any] }
            let response = try await stack.simulator.control("POST", "/_sim/messages/batch", body: ["messages": batch])
            if firstDispatch == nil {
                firstDispatch = (try? JSON.decode(JSONValue.self, from: response.body))?["dispatched_at_us"].flatMap { value -> Int? in
                    if case .array(let times) = value { return times.first?.doubleValue.map { Int($0) } }
                    return nil
                }
            }
            next += batch.count
        }
        guard let last = await reader.waitForCount(before + messages, timeout: .seconds(120)), let firstDispatch else {
            throw TestSupportError("inbound load did not drain: \(await reader.count - before) of \(messages)")
        }
        return Double(messages) / (Double(last - firstDispatch) / 1_000_000)
    }

    /// `count` round trips: a burst of messages in, then the agent's answer to each, posted.
    func roundTrips(_ count: Int) async throws {
        _ = try await inboundThroughput(messages: count)
        let requests = await reader.requestIDs(prefix: "load-")
        let base = try await postCount()
        try await sendReplies(Array(requests.suffix(count)))
        _ = try await waitForPost(index: base + count - 1, timeout: .seconds(180))
    }

    /// Replies per second with Discord's limits lifted: from the first record on the connector's
    /// inbox to the simulator receiving the last post.
    func replyThroughput(replies: Int, channels: Int) async throws -> Double {
        let targets = try await makeChannels(channels, paced: false)
        let requests = try await seedRequests(replies, channels: targets)
        let base = try await postCount()
        let started = Statistics.nowMicros()
        try await sendReplies(requests)
        let last = try await waitForPost(index: base + replies - 1, timeout: .seconds(180))
        return Double(replies) / (Double(last - started) / 1_000_000)
    }

    struct MemoryResult {
        var roundTrips: Int
        /// Redis `used_memory` grown per round trip, with nothing trimmed.
        var bytesKept: Double
        /// The same once the janitor has trimmed with the retention windows passed.
        var bytesAfterTrim: Double
        /// `MEMORY USAGE` per round trip of each stream, before trimming.
        var perStream: [(String, Double)]
        /// The streams' `MEMORY USAGE` per round trip, summed, before and after trimming.
        var streamsBefore: Double
        var streamsAfterTrim: Double
    }

    /// Redis memory a full round trip (message in, agent's answer out) leaves behind: `count`
    /// round trips, then one janitor sweep as if the retention windows (but not `PENDING_TTL`)
    /// had passed.
    func memoryPerRoundTrip(count: Int) async throws -> MemoryResult {
        try await Task.sleep(for: .seconds(1))
        let before = try await usedMemory()
        _ = try await inboundThroughput(messages: count)
        let requests = await reader.requestIDs(prefix: "load-")
        let base = try await postCount()
        try await sendReplies(Array(requests.prefix(count)))
        _ = try await waitForPost(index: base + count - 1, timeout: .seconds(120))
        try await Task.sleep(for: .seconds(2))
        let kept = try await usedMemory() - before
        let streams = [keys.inbound(0), BusKeys.inbox("kasra"), keys.replyInbox]
        let partitionStreams = (0..<8).map { keys.replyPartition($0) }
        func streamBytes(_ names: [String]) async throws -> Double {
            var bytes = 0
            for name in names { bytes += try await redis.run(MEMORYUSAGE(name)) ?? 0 }
            return Double(bytes) / Double(count)
        }
        var perStream: [(String, Double)] = []
        for stream in streams { perStream.append((stream, try await streamBytes([stream]))) }
        perStream.append(("discord:replies:*", try await streamBytes(partitionStreams)))
        // The janitor, as it runs once ACKED_RETENTION and STREAM_RETENTION (here 1 s) have passed.
        let config = try ConnectorConfig(environment: ["MUMEGA_BUS_URL": stack.redis.url, "ACKED_RETENTION": "1", "STREAM_RETENTION": "1"])
        _ = try await Janitor(config: config, logger: Logger(label: "bench-janitor")).sweep(redis: redis)
        try await Task.sleep(for: .milliseconds(500))
        let after = try await usedMemory() - before
        return MemoryResult(
            roundTrips: count, bytesKept: Double(kept) / Double(count), bytesAfterTrim: Double(after) / Double(count), perStream: perStream,
            streamsBefore: perStream.reduce(0) { $0 + $1.1 }, streamsAfterTrim: try await streamBytes(streams + partitionStreams)
        )
    }

    private func usedMemory() async throws -> Int {
        let info = try await redis.send("INFO", "memory").string ?? ""
        let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("used_memory:") }
        return Int(line?.dropFirst("used_memory:".count) ?? "") ?? 0
    }

    struct FileResult {
        var postsPerSecond: Double
        var megabytesPerSecond: Double
        var posted: Int
        var fileBytes: Int
    }

    /// Replies that each upload one file of `bytes` bytes (multipart), limits lifted: from the first
    /// record on the connector's inbox to the simulator receiving the last post.
    func fileReplyThroughput(replies: Int, bytes: Int, channels: Int) async throws -> FileResult {
        let targets = try await makeChannels(channels, paced: false)
        let requests = try await seedRequests(replies, channels: targets)
        let base = try await postCount()
        let file = RedisBytes(Array((0..<bytes).map { UInt8(truncatingIfNeeded: $0 &* 31) }))
        let started = Statistics.nowMicros()
        // A few at a time: each carries a whole file.
        try await pipelined(requests.enumerated().map { index, id in
            var fields: StreamFields = [("from", "kasra"), ("to", "discord-connector"), ("text", "bench file \(index)"), ("ack_for", id)]
            fields.append("file:report-\(index).bin", bytes: file)
            return XADD("sos:inbox:discord-connector", fields: fields).request
        }, batch: 8)
        let last = try await waitForPost(index: base + replies - 1, timeout: .seconds(300))
        let seconds = Double(last - started) / 1_000_000
        let uploaded = try await stack.simulator.posts(afterIndex: base).filter { $0.attachments.first?.size == bytes }.count
        return FileResult(postsPerSecond: Double(replies) / seconds, megabytesPerSecond: Double(replies * bytes) / 1_048_576 / seconds, posted: uploaded, fileBytes: bytes)
    }

    struct ProgressResult {
        var requests: Int
        var progressRecords: Int
        var edits: Int
        var editsPerSecond: Double
        var seconds: Double
        var statusMessages: Int
        var deleted: Int
    }

    /// `progress=1` records in bursts: `perRequest` status records for each of `requests` requests,
    /// then each request's answer. Coalescing makes at most one edit a second per status message,
    /// so the edits/s is bounded by the number of requests; the result says how many edits were
    /// made in all and whether every status message was removed by its answer.
    func progressEdits(requests count: Int, perRequest: Int, channels: Int) async throws -> ProgressResult {
        let targets = try await makeChannels(channels, paced: false)
        let requests = try await seedRequests(count, channels: targets)
        let base = try await postCount()
        let started = Statistics.nowMicros()
        for step in 1...perRequest {
            var commands: [RedisRequest] = []
            for (index, id) in requests.enumerated() {
                commands.append(XADD("sos:inbox:discord-connector", fields: [("from", "kasra"), ("to", "discord-connector"), ("text", "status \(index) step \(step)/\(perRequest)"), ("ack_for", id), ("progress", "1")]).request)
            }
            _ = try await redis.pipeline(commands)
            try await Task.sleep(for: .milliseconds(300))
        }
        var finals: [RedisRequest] = []
        for (index, id) in requests.enumerated() {
            finals.append(XADD("sos:inbox:discord-connector", fields: [("from", "kasra"), ("to", "discord-connector"), ("text", "answer \(index)"), ("ack_for", id)]).request)
        }
        _ = try await redis.pipeline(finals)
        // Every status message posted once, then every answer: 2 posts per request.
        _ = try await waitForPost(index: base + 2 * count - 1, timeout: .seconds(120))
        let deadline = ContinuousClock.now + .seconds(30)
        var posts = try await stack.simulator.posts(afterIndex: base)
        while posts.filter({ $0.content.hasPrefix("status ") && $0.deleted }).count < count, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
            posts = try await stack.simulator.posts(afterIndex: base)
        }
        let status = posts.filter { $0.content.hasPrefix("status ") }
        let edits = status.reduce(0) { $0 + $1.edits.count }
        let seconds = Double(Statistics.nowMicros() - started) / 1_000_000
        return ProgressResult(
            requests: count, progressRecords: count * perRequest, edits: edits, editsPerSecond: Double(edits) / seconds,
            seconds: seconds, statusMessages: status.count, deleted: status.filter(\.deleted).count
        )
    }

    struct LimitedResult {
        /// Over the whole run, from the first post to the last.
        var postsPerSecond: Double
        /// The posts in the first `steadySeconds` after the first, per second: while the backlog
        /// (at least 5 s of it left) keeps the global limit the binding one.
        var steadyPostsPerSecond: Double
        var steadySeconds: Int
        var allowedPerSecond: Double
        var rateLimited: Int
        var posted: Int
    }

    /// With Discord's limits on: posts per second achieved, and 429s received. At the end of the
    /// run the few channels still holding posts each post at their own 5 per 5 s, below the global
    /// limit, so the rate the limiter reaches is read while the backlog lasts (`steady`).
    func limitedRun(replies: Int, channels: Int, allowedPerSecond: Double) async throws -> LimitedResult {
        let targets = try await makeChannels(channels, paced: true)
        try await Task.sleep(for: .milliseconds(1_200))  // the channel creates count against the global limit too
        let requests = try await seedRequests(replies, channels: targets)
        let base = try await postCount()
        try await sendReplies(requests)
        let timeout = Duration.seconds(Int64(Double(replies) / allowedPerSecond) + 60)
        _ = try await waitForPost(index: base + replies - 1, timeout: timeout)
        let posts = try await stack.simulator.posts(afterIndex: base)
        let times = posts.compactMap(\.receivedAtMicros).sorted()
        let span = Double((times.last ?? 0) - (times.first ?? 0)) / 1_000_000
        let steadySeconds = max(1, Int(Double(replies) / allowedPerSecond) - 5)
        let steadyPosts = times.filter { $0 - (times.first ?? 0) < steadySeconds * 1_000_000 }.count
        let stats = try await stack.simulator.stats()
        return LimitedResult(
            postsPerSecond: Double(times.count - 1) / max(span, 0.001),
            steadyPostsPerSecond: Double(steadyPosts) / Double(steadySeconds),
            steadySeconds: steadySeconds,
            allowedPerSecond: allowedPerSecond,
            rateLimited: Int(stats["rate_limited"]?.doubleValue ?? -1),
            posted: times.count
        )
    }

    // MARK: Helpers

    private func makeChannels(_ count: Int, paced: Bool) async throws -> [String] {
        var ids: [String] = []
        for index in 0..<count {
            ids.append(try await stack.simulator.createChannel(name: "bench-\(index)-\(UUID().uuidString.prefix(4).lowercased())"))
            if paced { try await Task.sleep(for: .milliseconds(25)) }
        }
        return ids
    }

    /// Pending contexts written as Ingest would, spread over the channels.
    private func seedRequests(_ count: Int, channels: [String]) async throws -> [String] {
        var ids: [String] = []
        var commands: [RedisRequest] = []
        for index in 0..<count {
            let id = UUID().uuidString.lowercased()
            ids.append(id)
            let context = PendingContext(InboundMessage(
                requestID: id, kind: .mention, guildID: DiscordSimulatorProcess.World.guildID, channelID: channels[index % channels.count],
                threadID: "", messageID: "1", authorID: DiscordSimulatorProcess.World.human, authorName: "alice", content: "", timestamp: ""
            ))
            commands.append(HSET(keys.pending(id), fields: context.streamFields).request)
        }
        try await pipelined(commands)
        return ids
    }

    private func sendReplies(_ requests: [String]) async throws {
        try await pipelined(requests.enumerated().map { index, id in
            XADD("sos:inbox:discord-connector", fields: [("from", "kasra"), ("to", "discord-connector"), ("text", "bench reply \(index)"), ("ack_for", id)]).request
        })
    }

    /// Sends `commands` in pipelines of `batch`.
    private func pipelined(_ commands: [RedisRequest], batch: Int = 500) async throws {
        var start = 0
        while start < commands.count {
            _ = try await redis.pipeline(Array(commands[start..<min(start + batch, commands.count)]))
            start += batch
        }
    }

    private func postCount() async throws -> Int {
        let response = try await stack.simulator.control("GET", "/_sim/posts?summary=1")
        return Int((try? JSON.decode(JSONValue.self, from: response.body))?["count"]?.doubleValue ?? 0)
    }

    /// Waits for the post with this creation index and returns when the simulator received it.
    private func waitForPost(index: Int, timeout: Duration) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await postCount() > index, let post = try await stack.simulator.posts(afterIndex: index).first, let received = post.receivedAtMicros {
                return received
            }
            try await Task.sleep(for: .milliseconds(1))
        }
        throw TestSupportError("post \(index) did not arrive within \(timeout)")
    }
}

/// Reads an agent's inbox as it fills, stamping each record's arrival time.
actor InboxReader {
    private var arrivals: [String: Int] = [:]
    private var requests: [(content: String, id: String)] = []
    private(set) var count = 0
    private(set) var lastArrival = 0
    private var task: Task<Void, Never>?

    init(url: String, stream: String) async throws {
        let client = RedisClient(url: try RedisURL(parsing: url), timeout: .seconds(5), name: "bench-reader")
        // Everything after the stream's newest entry now, read or not yet: "$" in the first XREAD
        // would skip what arrives before that XREAD is sent (a fast first message).
        let start = try await client.run(XRANGE(stream, count: 1, reversed: true)).first?.id ?? "0-0"
        task = Task { [weak self] in
            var last = start
            while !Task.isCancelled {
                guard let entries = try? await client.run(XREAD(stream, after: last, count: 1000, block: 1000)) else { continue }
                let now = Statistics.nowMicros()
                if let newest = entries.last?.id { last = newest }
                await self?.record(entries, at: now)
            }
        }
    }

    deinit { task?.cancel() }

    private func record(_ entries: [StreamEntry], at time: Int) {
        for entry in entries {
            let content = entry.fields["content"] ?? ""
            arrivals[content] = time
            if let interaction = entry.fields["interaction_id"] { arrivals[Self.interactionKey(interaction)] = time }
            if let id = entry.fields["request_id"] { requests.append((content, id)) }
        }
        count += entries.count
        lastArrival = time
    }

    /// The key an interaction's record arrives under (commands and clicks).
    static func interactionKey(_ id: String) -> String { "interaction:" + id }

    func requestIDs(prefix: String) -> [String] {
        requests.filter { $0.content.hasPrefix(prefix) }.map(\.id)
    }

    func waitFor(content: String, timeout: Duration) async -> Int? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let time = arrivals[content] { return time }
            try? await Task.sleep(for: .microseconds(200))
        }
        return nil
    }

    /// Waits until `target` records have arrived and returns when the last of them did.
    func waitForCount(_ target: Int, timeout: Duration) async -> Int? {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if count >= target { return lastArrival }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return nil
    }
}
