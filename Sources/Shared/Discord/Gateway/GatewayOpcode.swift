/// Gateway opcodes the connector sends or receives.
public enum GatewayOpcode: Int, Sendable {
    case dispatch = 0
    case heartbeat = 1
    case identify = 2
    case resume = 6
    case reconnect = 7
    case invalidSession = 9
    case hello = 10
    case heartbeatAck = 11
}

/// Gateway intents the connector asks for.
public struct GatewayIntents: OptionSet, Sendable {
    public let rawValue: Int
    public init(rawValue: Int) { self.rawValue = rawValue }

    public static let guilds = GatewayIntents(rawValue: 1 << 0)
    public static let guildMessages = GatewayIntents(rawValue: 1 << 9)
    public static let directMessages = GatewayIntents(rawValue: 1 << 12)
    public static let messageContent = GatewayIntents(rawValue: 1 << 15)

    public static let connector: GatewayIntents = [.guilds, .guildMessages, .directMessages, .messageContent]
}
