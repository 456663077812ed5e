import ArgumentParser
import Foundation
import Shared

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Streams, consumer groups, dead letters, counters and service heartbeats.",
        discussion: """
        Covers discord:inbound, the connector's inbox and every sos:inbox:* stream: per stream its \
        length, per consumer group its consumers, pending entries, lag and the age of the oldest \
        pending entry; the number of dead letters; the discord:stats counters; and each service's \
        last heartbeat (stale after 15 s).
        """
    )

    @OptionGroup var options: ConfigOptions
    @Flag(help: "Print one JSON object.") var json = false

    static let staleAfterMilliseconds = 15_000

    func run() async throws {
        try await reportingErrors("status") {
            let context = try BusContext(options)
            let report = try await StatusReport.collect(context)
            if json {
                try printJSON(report)
            } else {
                print(report.humanReadable)
            }
        }
    }
}

struct StatusReport: Encodable {
    struct Consumer: Encodable {
        var name: String
        var pending: Int
        var idleMs: Int

        enum CodingKeys: String, CodingKey {
            case name, pending
            case idleMs = "idle_ms"
        }
    }

    struct Group: Encodable {
        var name: String
        var consumers: Int
        var pending: Int
        /// Entries not yet delivered to the group; nil when Redis cannot tell (after deletions).
        var lag: Int?
        var lastDeliveredID: String
        var entriesRead: Int?
        var oldestPendingID: String?
        /// Now minus the oldest pending entry's id timestamp: how long it has waited in all.
        var oldestPendingAgeMs: Int?
        /// Since its last delivery.
        var oldestPendingIdleMs: Int?
        var oldestPendingDeliveries: Int?
        var oldestPendingConsumer: String?
        var consumerList: [Consumer]

        enum CodingKeys: String, CodingKey {
            case name, consumers, pending, lag
            case lastDeliveredID = "last_delivered_id"
            case entriesRead = "entries_read"
            case oldestPendingID = "oldest_pending_id"
            case oldestPendingAgeMs = "oldest_pending_age_ms"
            case oldestPendingIdleMs = "oldest_pending_idle_ms"
            case oldestPendingDeliveries = "oldest_pending_deliveries"
            case oldestPendingConsumer = "oldest_pending_consumer"
            case consumerList = "consumer_list"
        }

        // Every key is always present (null when unknown), so scripts see a stable shape.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(consumers, forKey: .consumers)
            try container.encode(pending, forKey: .pending)
            try container.encode(lag, forKey: .lag)
            try container.encode(lastDeliveredID, forKey: .lastDeliveredID)
            try container.encode(entriesRead, forKey: .entriesRead)
            try container.encode(oldestPendingID, forKey: .oldestPendingID)
            try container.encode(oldestPendingAgeMs, forKey: .oldestPendingAgeMs)
            try container.encode(oldestPendingIdleMs, forKey: .oldestPendingIdleMs)
            try container.encode(oldestPendingDeliveries, forKey: .oldestPendingDeliveries)
            try container.encode(oldestPendingConsumer, forKey: .oldestPendingConsumer)
            try container.encode(consumerList, forKey: .consumerList)
        }
    }

    struct Stream: Encodable {
        var stream: String
        /// What the stream is: `inbound`, `connector-inbox`, `connector-internal` (another
        /// `discord:*` stream, such as the Replier's partitions) or `agent-inbox`.
        var role: String
        var exists: Bool
        var length: Int
        /// `MEMORY USAGE`: the bytes the stream takes in Redis.
        var memoryBytes: Int?
        var groups: [Group]

        enum CodingKeys: String, CodingKey {
            case stream, role, exists, length, groups
            case memoryBytes = "memory_bytes"
        }
    }

    struct Heartbeat: Encodable {
        var service: String
        var instance: String
        var lastHeartbeatMs: Int
        var ageMs: Int
        var stale: Bool

        enum CodingKeys: String, CodingKey {
            case service, instance, stale
            case lastHeartbeatMs = "last_heartbeat_ms"
            case ageMs = "age_ms"
        }
    }

    var redis: String
    var nowMs: Int
    var streams: [Stream]
    var deadLetters: Int
    var deadLetterStream: String
    var stats: [String: Int]
    var services: [Heartbeat]
    var staleAfterMs: Int

    enum CodingKeys: String, CodingKey {
        case redis, streams, stats, services
        case nowMs = "now_ms"
        case deadLetters = "dead_letters"
        case deadLetterStream = "dead_letter_stream"
        case staleAfterMs = "stale_after_ms"
    }

    static func collect(_ context: BusContext) async throws(RedisError) -> StatusReport {
        let redis = context.redis
        let keys = context.keys
        let inbound = keys.inboundStreams(count: context.config.inboundPartitions)
        var names = inbound + [keys.replyInbox]
        var roles = [keys.replyInbox: "connector-inbox"]
        for stream in inbound { roles[stream] = "inbound" }
        // Every other stream of the connector (e.g. the Replier's partitions), then the agents' inboxes.
        for (pattern, role) in [("discord:*", "connector-internal"), (BusKeys.outboxPrefix + "*", "agent-outbox"), (BusKeys.inbox("*"), "agent-inbox")] {
            for key in try await scanKeys(pattern, type: "stream", redis: redis).sorted() where !names.contains(key) && key != keys.deadLetters {
                names.append(key)
                roles[key] = role
            }
        }

        let now = nowMilliseconds()
        var streams: [Stream] = []
        for name in names {
            streams.append(try await stream(name, role: roles[name] ?? "agent-inbox", redis: redis, now: now))
        }

        let deadLetters = try await redis.send("XLEN", keys.deadLetters).int ?? 0
        var stats: [String: Int] = [:]
        for (key, value) in try await redis.send("HGETALL", keys.stats).fieldMap {
            if let number = Int(value) { stats[key] = number }
        }
        var services: [Heartbeat] = []
        for (field, value) in try await redis.send("HGETALL", keys.heartbeats).fieldMap {
            guard let beat = Int(value) else { continue }
            let parts = field.split(separator: "@", maxSplits: 1)
            let age = max(0, now - beat)
            services.append(Heartbeat(
                service: String(parts.first ?? ""),
                instance: parts.count > 1 ? String(parts[1]) : "",
                lastHeartbeatMs: beat,
                ageMs: age,
                stale: age > Status.staleAfterMilliseconds
            ))
        }
        services.sort { ($0.service, $0.instance) < ($1.service, $1.instance) }

        return StatusReport(
            redis: context.config.busURL.description,
            nowMs: now,
            streams: streams,
            deadLetters: deadLetters,
            deadLetterStream: keys.deadLetters,
            stats: stats,
            services: services,
            staleAfterMs: Status.staleAfterMilliseconds
        )
    }

    private static func stream(_ name: String, role: String, redis: RedisClient, now: Int) async throws(RedisError) -> Stream {
        let exists = try await redis.send("EXISTS", name).int == 1
        guard exists else { return Stream(stream: name, role: role, exists: false, length: 0, groups: []) }
        let length = try await redis.send("XLEN", name).int ?? 0
        let memory = try? await redis.run(MEMORYUSAGE(name))
        var groups: [Group] = []
        for item in try await redis.send("XINFO", "GROUPS", name).array ?? [] {
            let info = item.replyMap
            guard let groupName = info["name"]?.string else { continue }
            var group = Group(
                name: groupName,
                consumers: info["consumers"]?.int ?? 0,
                pending: info["pending"]?.int ?? 0,
                lag: info["lag"]?.int,
                lastDeliveredID: info["last-delivered-id"]?.string ?? "",
                entriesRead: info["entries-read"]?.int,
                consumerList: []
            )
            if group.pending > 0 {
                // Extended XPENDING with COUNT 1: the smallest pending id, its consumer, idle time
                // and delivery count.
                let oldest = try await redis.send("XPENDING", name, groupName, "-", "+", "1").array?.first?.array ?? []
                if oldest.count >= 4, let id = oldest[0].string {
                    group.oldestPendingID = id
                    group.oldestPendingConsumer = oldest[1].string
                    group.oldestPendingIdleMs = oldest[2].int
                    group.oldestPendingDeliveries = oldest[3].int
                    group.oldestPendingAgeMs = streamIDMilliseconds(id).map { max(0, now - $0) }
                }
            }
            for consumer in try await redis.send("XINFO", "CONSUMERS", name, groupName).array ?? [] {
                let details = consumer.replyMap
                group.consumerList.append(Consumer(
                    name: details["name"]?.string ?? "",
                    pending: details["pending"]?.int ?? 0,
                    idleMs: details["idle"]?.int ?? 0
                ))
            }
            group.consumerList.sort { $0.name < $1.name }
            groups.append(group)
        }
        groups.sort { $0.name < $1.name }
        return Stream(stream: name, role: role, exists: true, length: length, memoryBytes: memory ?? nil, groups: groups)
    }

    /// Slash commands and clicks, from the `interactions_*` counters (`InteractionLedger`).
    var interactionsLine: String {
        func count(_ counter: BusCounter) -> Int { stats[counter.field] ?? 0 }
        let received = count(.interactionsReceived)
        guard received > 0 else { return "Interactions: none received yet" }
        var line = "Interactions: \(received) received, \(count(.interactionsAckLate)) acknowledged late (over \(InteractionLedger.lateAfter.wholeMilliseconds) ms), \(count(.interactionsFailed)) failed"
        if count(.interactionsComponentsExpired) > 0 { line += ", \(count(.interactionsComponentsExpired)) on expired buttons" }
        if count(.interactionsFailed) > 0 { line += "  (failed: people saw \"This interaction failed\"; see the Ingest or Interactions log)" }
        return line
    }

    var humanReadable: String {
        var out = ["Bus \(redis)", ""]
        var table = TextTable(["STREAM", "LENGTH", "MEMORY", "GROUP", "CONSUMERS", "PENDING", "LAG", "OLDEST PENDING"], rightAligned: [1, 2, 4, 5, 6])
        for stream in streams {
            let length = stream.exists ? String(stream.length) : "-"
            let memory = stream.memoryBytes.map(formatBytes) ?? "-"
            if stream.groups.isEmpty {
                table.add([stream.stream, length, memory, stream.exists ? "(no group)" : "(missing)", "", "", "", ""])
            }
            for (index, group) in stream.groups.enumerated() {
                var oldest = "-"
                if let age = group.oldestPendingAgeMs {
                    oldest = formatDuration(milliseconds: age) + " old"
                    var detail: [String] = []
                    if let consumer = group.oldestPendingConsumer { detail.append(consumer) }
                    if let deliveries = group.oldestPendingDeliveries { detail.append(deliveries == 1 ? "1 delivery" : "\(deliveries) deliveries") }
                    if !detail.isEmpty { oldest += " (\(detail.joined(separator: ", ")))" }
                }
                table.add([
                    index == 0 ? stream.stream : "",
                    index == 0 ? length : "",
                    index == 0 ? memory : "",
                    group.name,
                    String(group.consumers),
                    String(group.pending),
                    group.lag.map(String.init) ?? "?",
                    oldest,
                ])
            }
        }
        out.append(table.rendered)
        out.append("")
        out.append("Dead letters: \(deadLetters) in \(deadLetterStream)" + (deadLetters > 0 ? " (see `connector dead list`)" : ""))
        let counters = stats.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        out.append("Counters: " + (counters.isEmpty ? "(none yet)" : counters.joined(separator: ", ")))
        out.append(interactionsLine)
        out.append("")
        if services.isEmpty {
            out.append("Services: no heartbeats (no service is running, or none has started since the upgrade)")
        } else {
            var beats = TextTable(["SERVICE", "INSTANCE", "LAST HEARTBEAT"])
            for beat in services {
                beats.add([beat.service, beat.instance, formatDuration(milliseconds: beat.ageMs) + " ago" + (beat.stale ? "  STALE" : "")])
            }
            out.append(beats.rendered)
        }
        return out.joined(separator: "\n")
    }
}
