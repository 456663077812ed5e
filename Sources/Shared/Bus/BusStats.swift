import Logging

/// The connector's counters, each kept twice: as a field of `discord:stats` (what an operator
/// reads with `redis-cli HGETALL discord:stats` or `connector status`) and, where it has one, as
/// its Prometheus counter. `BusStats.bump` is the one place that moves both.
public enum BusCounter: String, Sendable, CaseIterable {
    case inboundRefused = "inbound_refused"
    case gatewayEventsUndecodable = "gateway_events_undecodable"
    case gatewayFramesMalformed = "gateway_frames_malformed"
    case repliesPosted = "replies_posted"
    case repliesUnreadable = "replies_unreadable"
    case repliesUnroutable = "replies_unroutable"
    case repliesExpired = "replies_expired"
    case repliesTooLong = "replies_too_long"
    case repliesRejected = "replies_rejected"
    case outboundUnknownChannel = "outbound_unknown_channel"
    case outboundAmbiguousChannel = "outbound_ambiguous_channel"
    /// Records sent without a request to a channel `OUTBOUND_POLICY` does not give their agent.
    case outboundRefused = "outbound_refused"
    case unansweredNotices = "unanswered_notices"
    /// Interactions (`InteractionLedger`): every one received, acknowledged after
    /// `InteractionLedger.lateAfter` (or refused by Discord as past its deadline), not answered at
    /// all, and clicks on components whose set had expired.
    /// Messages from an allowed bot dropped over `BOT_LOOP_BUDGET`.
    case botLoopDropped = "bot_loop_dropped"
    case interactionsReceived = "interactions_received"
    case interactionsAckLate = "interactions_ack_late"
    case interactionsFailed = "interactions_failed"
    case interactionsComponentsExpired = "interactions_components_expired"

    /// The field of `discord:stats`.
    public var field: String { rawValue }

    /// The Prometheus twin, if the counter has one.
    public var metric: StageCounter? {
        switch self {
        case .inboundRefused: ConnectorMetrics.ingestRefused
        case .repliesPosted: ConnectorMetrics.replierPosted
        case .unansweredNotices: ConnectorMetrics.replierUnansweredNotices
        case .repliesUnreadable, .repliesUnroutable, .repliesExpired, .repliesTooLong, .repliesRejected,
             .outboundUnknownChannel, .outboundAmbiguousChannel, .outboundRefused:
            ConnectorMetrics.replierStat(rawValue)
        case .gatewayEventsUndecodable, .gatewayFramesMalformed, .botLoopDropped: nil
        // Counted by type and outcome in `connector_interactions_total` instead.
        case .interactionsReceived, .interactionsAckLate, .interactionsFailed, .interactionsComponentsExpired: nil
        }
    }
}

/// Bumps the connector's counters (see `BusCounter`).
public struct BusStats: Sendable {
    public let redis: RedisClient
    public let key: String

    public init(redis: RedisClient, keys: BusKeys) {
        self.redis = redis
        self.key = keys.stats
    }

    /// Best effort: a counter is not worth failing or delaying a delivery for.
    public func bump(_ counter: BusCounter, by amount: Int = 1) async {
        counter.metric?.increment(by: amount)
        _ = try? await redis.run(HINCRBY(key, field: counter.field, by: amount))
    }

    /// For a caller that sends the increment in a pipeline of its own: counts the metric now
    /// and returns the Redis half.
    public func bumpRequest(_ counter: BusCounter, by amount: Int = 1) -> RedisRequest {
        counter.metric?.increment(by: amount)
        return HINCRBY(key, field: counter.field, by: amount).request
    }
}
