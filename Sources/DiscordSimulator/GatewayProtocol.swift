/// Gateway v10 opcodes (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
enum GatewayOpcode: Int, Sendable {
    case dispatch = 0
    case heartbeat = 1
    case identify = 2
    case presenceUpdate = 3
    case voiceStateUpdate = 4
    case resume = 6
    case reconnect = 7
    case requestGuildMembers = 8
    case invalidSession = 9
    case hello = 10
    case heartbeatAck = 11
    case requestSoundboardSounds = 31
}

/// Gateway close codes the simulator uses, with Discord's reasons.
enum GatewayCloseCode: UInt16, Sendable {
    case unknownError = 4000
    case unknownOpcode = 4001
    case decodeError = 4002
    case notAuthenticated = 4003
    case authenticationFailed = 4004
    case alreadyAuthenticated = 4005
    case sessionTimedOut = 4009
    case invalidShard = 4010
    case disallowedIntents = 4014

    var reason: String {
        switch self {
        case .unknownError: "Unknown error."
        case .unknownOpcode: "Unknown opcode."
        case .decodeError: "Decode error."
        case .notAuthenticated: "Not authenticated."
        case .authenticationFailed: "Authentication failed."
        case .alreadyAuthenticated: "Already authenticated."
        case .sessionTimedOut: "Session timed out."
        case .invalidShard: "Invalid shard."
        case .disallowedIntents: "Disallowed intent(s)."
        }
    }
}

/// Gateway intent bits the simulator looks at.
enum GatewayIntent {
    static let messageContent = 1 << 15
}

/// A session's `[shard_id, num_shards]` from IDENTIFY; which guilds' events it receives.
struct Shard: Sendable, Hashable {
    let id: Int
    let count: Int

    /// What a session that sent no `shard` gets.
    static let unsharded = Shard(id: 0, count: 1)

    /// IDENTIFY's `shard` array; `nil` unless it is `[id, count]` with `0 <= id < count`.
    init?(_ pair: [Int]) {
        guard pair.count == 2, pair[1] >= 1, (0..<pair[1]).contains(pair[0]) else { return nil }
        self.init(id: pair[0], count: pair[1])
    }

    init(id: Int, count: Int) {
        self.id = id
        self.count = count
    }

    /// Discord's routing: a guild's events go to shard `(guild_id >> 22) % num_shards`,
    /// events outside any guild (DMs) to shard 0 only.
    func receives(guildId: Snowflake?) -> Bool {
        guard let guildId else { return id == 0 }
        return (SnowflakeGenerator.numeric(guildId) >> 22) % UInt64(count) == UInt64(id)
    }
}

/// Outbound traffic for one connection, drained in order by that connection's writer.
enum GatewayFrame: Sendable {
    case text(String)
    /// Any close code, including ones the simulator was asked to use via the control API.
    case close(code: UInt16, reason: String)

    static func close(_ code: GatewayCloseCode) -> GatewayFrame {
        .close(code: code.rawValue, reason: code.reason)
    }
}

/// Renders the `{"op", "d", "s", "t"}` envelope every gateway payload shares.
///
/// `d` is passed pre-encoded so one event can be stamped with each session's own sequence
/// number without encoding the event again for every session.
enum GatewayPayload {
    static func render(_ op: GatewayOpcode, data: String = "null", sequence: Int? = nil, event: String? = nil) -> String {
        let s = sequence.map(String.init) ?? "null"
        let t = event.map { "\"\($0)\"" } ?? "null"
        return #"{"op":\#(op.rawValue),"d":\#(data),"s":\#(s),"t":\#(t)}"#
    }

    static func hello(heartbeatIntervalMilliseconds: Int) -> String {
        render(.hello, data: #"{"heartbeat_interval":\#(heartbeatIntervalMilliseconds)}"#)
    }

    static let heartbeatAck = render(.heartbeatAck)
    static let reconnect = render(.reconnect)

    static func invalidSession(resumable: Bool) -> String {
        render(.invalidSession, data: resumable ? "true" : "false")
    }
}
