import Logging

/// Where what happened to an interaction is counted, once for both paths (gateway and endpoint):
/// `connector_interactions_total{type,outcome}` and `connector_interaction_ack_seconds` for
/// Prometheus, and the `interactions_*` fields of `discord:stats` that `connector status` shows.
public struct InteractionLedger: Sendable {
    public enum Outcome: String, Sendable {
        /// Answered: a PONG, a deferral ("thinking..." or a deferred update), an ephemeral refusal.
        case pong, deferred, refused
        /// Refused before it was read: a bad signature, a body that is no interaction.
        case refusedSignature = "refused_signature"
        case undecodable
        /// Not answered in time, or not at all: the person sees "This interaction failed".
        case failed
        /// Answered, but after `lateAfter` or after Discord's deadline had passed.
        case late
        /// A click on components whose set expired (the person is told so).
        case expired
    }

    /// Discord allows 3 s; an answer slower than this is counted late, a warning sign long before
    /// people see failures.
    public static let lateAfter: Duration = .milliseconds(2_500)

    let stats: BusStats?

    /// `stats`: nil counts in Prometheus only (tests, tools without Redis).
    public init(stats: BusStats?) {
        self.stats = stats
    }

    /// Counts one answer (or the lack of one). Best effort: counting never delays an interaction.
    public func record(type: String, outcome: Outcome, answeredIn latency: Duration? = nil) async {
        var outcome = outcome
        if let latency {
            ConnectorMetrics.interactionAck.record(latency)
            if latency > Self.lateAfter, outcome != .failed { outcome = .late }
        }
        ConnectorMetrics.interactions(type: type, outcome: outcome.rawValue).increment()
        guard let stats else { return }
        var counters: [BusCounter] = [.interactionsReceived]
        switch outcome {
        case .late: counters.append(.interactionsAckLate)
        case .failed: counters.append(.interactionsFailed)
        case .expired: counters.append(.interactionsComponentsExpired)
        default: break
        }
        _ = try? await stats.redis.pipeline(counters.map { stats.bumpRequest($0) })
    }

    /// The `type` label of an interaction.
    public static func typeName(_ interaction: Interaction) -> String {
        switch interaction.kind {
        case .ping?: "ping"
        case .applicationCommand?: "command"
        case .messageComponent?: "component"
        case .autocomplete?: "autocomplete"
        case .modalSubmit?: "modal"
        case nil: "unknown"
        }
    }
}
