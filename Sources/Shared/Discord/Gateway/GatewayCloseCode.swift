/// What to do when Discord closes the gateway with a code: the policy is data, tested as a table.
public enum GatewayClosePolicy: Equatable, Sendable {
    /// Reconnect and RESUME the session.
    case resume
    /// Reconnect with a fresh IDENTIFY: the session is gone.
    case reidentify
    /// Stop: only a change of configuration fixes this. The text says what to change.
    case fatal(String)

    public static func forCode(_ code: Int?) -> GatewayClosePolicy {
        switch code {
        case 4004: return .fatal("authentication failed (4004): DISCORD_BOT_TOKEN is wrong or was reset; copy the current token from the Developer Portal")
        case 4010: return .fatal("invalid shard (4010): check the shard settings")
        case 4011: return .fatal("sharding required (4011): this bot is in too many guilds for one shard; set SHARD_COUNT")
        case 4012: return .fatal("invalid API version (4012): the connector speaks gateway v10; check DISCORD_GATEWAY_URL")
        case 4013: return .fatal("invalid intents (4013): the IDENTIFY intents value was rejected")
        case 4014: return .fatal("disallowed intents (4014): enable the Message Content intent (and any other privileged intent) for this bot in the Discord Developer Portal, under Bot > Privileged Gateway Intents")
        case 4007, 4009: return .reidentify  // invalid seq, session timed out
        default: return .resume  // 1000/1001 from the server, 4000-4008 and network drops
        }
    }
}
