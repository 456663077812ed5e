import CoreMetrics
import Foundation
import Prometheus

/// The connector's counters (docs/OBSERVABILITY.md lists them), recorded through swift-metrics
/// and exposed in Prometheus' text format on `/metrics` when `METRICS_PORT` is set.
///
/// The services use them with `import Shared` alone: `ConnectorMetrics.ingestAccepted.increment()`.
/// Until `bootstrap(service:)` runs (always the case without `METRICS_PORT`, and in unit tests) every
/// counter is swift-metrics' no-op, so counting costs next to nothing.
public enum ConnectorMetrics {
    // MARK: Ingest
    /// A message written to `discord:inbound` (with its pending context), exactly once.
    public static let ingestAccepted = StageCounter("connector_ingest_messages_accepted_total")
    /// A message refused by `ALLOWED_GUILDS` / `ALLOWED_CHANNELS` / `ALLOWED_USERS`.
    public static let ingestRefused = StageCounter("connector_ingest_messages_refused_total")
    /// A message that is not for the bot (no mention, unmapped channel, a bot's own message).
    public static let ingestDropped = StageCounter("connector_ingest_messages_dropped_total")
    /// A message seen again (resume, catch-up, a second Ingest) and not forwarded twice.
    public static let ingestDuplicates = StageCounter("connector_ingest_messages_duplicate_total")

    // MARK: Dispatcher
    /// An inbound message written to its agent's inbox (`sos:inbox:<agent>`).
    public static let dispatcherDelivered = StageCounter("connector_dispatcher_messages_delivered_total")
    /// An inbound entry moved to `discord:dead`.
    public static let dispatcherDeadLetters = StageCounter("connector_dispatcher_dead_letters_total")

    // MARK: Replier
    /// A reply resolved to its channel and moved to that channel's partition stream.
    public static let replierRouted = StageCounter("connector_replier_replies_routed_total")
    /// A reply Discord accepted (every part of it).
    public static let replierPosted = StageCounter("connector_replier_replies_posted_total")
    /// A reply or outbound record moved to `discord:dead`.
    public static let replierDeadLetters = StageCounter("connector_replier_dead_letters_total")
    /// A notice posted for a request no agent answered within `UNANSWERED_NOTICE_AFTER`.
    public static let replierUnansweredNotices = StageCounter("connector_replier_unanswered_notices_total")

    /// The Replier's `discord:stats` counters that are refusals, mirrored as
    /// `connector_replier_<stat>_total` (see `replierStat(_:)`).
    public static let replierStats = [
        "replies_unreadable", "replies_unroutable", "replies_expired", "replies_too_long", "replies_rejected",
        "outbound_unknown_channel", "outbound_ambiguous_channel",
    ]

    /// Mirrors one of the Replier's `discord:stats` counters: `connector_replier_<stat>_total`.
    public static func replierStat(_ stat: String) -> StageCounter {
        StageCounter("connector_replier_\(stat)_total")
    }

    // MARK: Interactions
    /// An interaction received, by `type` (ping, command, component, ...) and `outcome`
    /// (pong, deferred, refused, refused_signature, undecodable, failed).
    public static func interactions(type: String, outcome: String) -> StageCounter {
        StageCounter("connector_interactions_total", dimensions: [("type", type), ("outcome", outcome)])
    }

    /// From an interaction's receipt to its answer leaving (the callback's HTTP answer on the
    /// gateway path, the endpoint's response on the HTTP path), as a Prometheus histogram.
    public static let interactionAck = StageTimer("connector_interaction_ack_seconds")

    // MARK: Every service
    /// A Redis command that failed for want of a connection (each attempt of a retried one).
    public static let redisErrors = StageCounter("connector_redis_errors_total")

    /// The dead-letter counter of a consumer group (`dispatcher` or `replier`).
    public static func deadLetters(group: String) -> StageCounter {
        switch group {
        case BusKeys.dispatcherGroup: dispatcherDeadLetters
        case BusKeys.replierGroup: replierDeadLetters
        default: StageCounter("connector_\(group)_dead_letters_total")
        }
    }

    /// The registry `/metrics` renders; filled once `bootstrap(service:)` ran.
    public static let registry = PrometheusCollectorRegistry()

    /// Points swift-metrics at the Prometheus registry (once per process, before any counter is
    /// used) and creates the counters of `service` at 0, so the first scrape shows them all.
    public static func bootstrap(service: String) {
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        let stage: [StageCounter]
        switch service {
        case "Ingest": stage = [ingestAccepted, ingestRefused, ingestDropped, ingestDuplicates]
        case "Dispatcher": stage = [dispatcherDelivered, dispatcherDeadLetters]
        case "Replier": stage = [replierRouted, replierPosted, replierDeadLetters, replierUnansweredNotices] + replierStats.map(replierStat)
        default: stage = []
        }
        for counter in stage + [redisErrors] { counter.increment(by: 0) }
        CoreMetrics.Gauge(label: "connector_start_time_seconds").record(Int(Date().timeIntervalSince1970))
    }
}

/// One of the connector's counters, usable without importing swift-metrics.
public struct StageCounter: Sendable {
    public let name: String
    private let counter: CoreMetrics.Counter

    init(_ name: String, dimensions: [(String, String)] = []) {
        self.name = name
        // Created when first used: after `ConnectorMetrics.bootstrap`, which runs at start-up.
        self.counter = CoreMetrics.Counter(label: name, dimensions: dimensions)
    }

    public func increment(by amount: Int = 1) {
        counter.increment(by: amount)
    }
}

/// One of the connector's latency histograms, usable without importing swift-metrics.
public struct StageTimer: Sendable {
    public let name: String
    private let timer: CoreMetrics.Timer

    init(_ name: String) {
        self.name = name
        self.timer = CoreMetrics.Timer(label: name)
    }

    public func record(_ duration: Duration) {
        timer.recordNanoseconds(duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000)
    }
}
