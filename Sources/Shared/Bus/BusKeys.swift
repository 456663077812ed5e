/// The Redis key names of the bus. Agents' inboxes are public (CONTRACT section 3); the rest
/// are the connector's own and may change with a note in the README.
public struct BusKeys: Sendable {
    public let connectorAgentName: String

    public init(connectorAgentName: String) {
        self.connectorAgentName = connectorAgentName
    }

    /// `sos:inbox:<agent>`: an agent's inbox stream.
    public static func inbox(_ agent: String) -> String { "sos:inbox:\(agent)" }

    /// The connector's own inbox, where agents' replies arrive.
    public var replyInbox: String { Self.inbox(connectorAgentName) }

    /// Ingest -> Dispatcher: accepted Discord messages (`InboundMessage`).
    public let inbound = "discord:inbound"

    /// Records that failed for good, each with its reason.
    public let deadLetters = "discord:dead"

    /// The pending reply context of one request, an expiring hash.
    public func pending(_ requestID: String) -> String { "discord:pending:\(requestID)" }

    /// Marks a Discord message as accepted, so a replayed event is not forwarded twice.
    public func seen(_ messageID: String) -> String { "discord:seen:\(messageID)" }

    /// Per Discord channel (or thread, or DM), the newest accepted message id: where a catch-up
    /// after a lost session starts.
    public let cursors = "discord:cursors"

    /// Requests not yet answered, scored by when their "no answer yet" notice is due (ms).
    public let unanswered = "discord:unanswered"

    /// Which Ingest holds the gateway; the others stand by.
    public let gatewayLease = "discord:gateway:lease"

    /// Counters an operator reads with `HGETALL discord:stats`.
    public let stats = "discord:stats"

    /// The gateway session Ingest resumes after a restart.
    public let gatewaySession = "discord:gateway:session"

    /// The generated ctx signing key, when `CTX_SIGNING_KEY` is not set.
    public let ctxSigningKey = "discord:ctx-signing-key"

    public static let dispatcherGroup = "dispatcher"
    public static let replierGroup = "replier"
}
