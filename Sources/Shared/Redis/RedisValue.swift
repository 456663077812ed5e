/// One RESP2 reply, copied out of hiredis's reply tree into Swift values.
public enum RedisValue: Sendable, Equatable, CustomStringConvertible {
    case status(String)
    case error(String)
    case integer(Int)
    /// A bulk string, byte for byte (binary-safe).
    case bulk(RedisBytes)
    case null
    case array([RedisValue])

    /// An error reply.
    public var isError: Bool {
        if case .error = self { return true }
        return false
    }

    public var string: String? {
        switch self {
        case .bulk(let value): return value.string
        case .status(let value): return value
        case .integer(let value): return String(value)
        default: return nil
        }
    }

    /// A bulk string's exact bytes.
    public var bytes: RedisBytes? {
        switch self {
        case .bulk(let value): return value
        case .status(let value): return RedisBytes(value)
        case .integer(let value): return RedisBytes(value)
        default: return nil
        }
    }

    public var int: Int? {
        switch self {
        case .integer(let value): return value
        case .bulk(let value): return Int(value.string)
        default: return nil
        }
    }

    public var array: [RedisValue]? {
        if case .array(let values) = self { return values }
        return nil
    }

    public var isNull: Bool { self == .null }

    /// A flat `[field, value, field, value]` array as a dictionary (HGETALL, stream entry fields).
    public var fieldMap: [String: String] {
        guard let items = array else { return [:] }
        var map: [String: String] = [:]
        var index = 0
        while index + 1 < items.count {
            if let key = items[index].string { map[key] = items[index + 1].string ?? "" }
            index += 2
        }
        return map
    }

    /// A flat `[key, value, ...]` array (XINFO) as a dictionary of replies.
    public var replyMap: [String: RedisValue] {
        guard let items = array else { return [:] }
        var map: [String: RedisValue] = [:]
        var index = 0
        while index + 1 < items.count {
            if let key = items[index].string { map[key] = items[index + 1] }
            index += 2
        }
        return map
    }

    public var description: String {
        switch self {
        case .status(let value): return value
        case .error(let value): return "(error) \(value)"
        case .integer(let value): return "(integer) \(value)"
        case .bulk(let value): return "\"\(value.string)\""
        case .null: return "(nil)"
        case .array(let values): return "[" + values.map(\.description).joined(separator: ", ") + "]"
        }
    }
}

/// What can go wrong talking to Redis.
public struct RedisError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The connection failed or broke; the command may or may not have run. Reconnect and retry.
        case connection
        /// Redis refused the connector's credentials or database (AUTH, SELECT, NOAUTH): a
        /// configuration error that no reconnect fixes; the message names the setting to check.
        case configuration
        /// Redis answered with an error reply (e.g. WRONGTYPE, NOSCRIPT, BUSYGROUP).
        case server
        /// The reply did not have the shape the command promises.
        case protocolViolation
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    /// An error reply that means the connection is not (or no longer) authenticated.
    static func isAuthenticationReply(_ message: String) -> Bool {
        message.hasPrefix("NOAUTH") || message.hasPrefix("WRONGPASS")
    }

    /// What to check when Redis refuses the credentials.
    static let credentialsHint = "check MUMEGA_BUS_TOKEN (the password of the ACL user CONNECTOR_AGENT_NAME) or the user:password in MUMEGA_BUS_URL"

    public var description: String {
        switch kind {
        case .connection: return "Redis connection error: \(message)"
        case .configuration: return "Redis refused the connector's configuration: \(message)"
        case .server: return "Redis error: \(message)"
        case .protocolViolation: return "unexpected Redis reply: \(message)"
        }
    }
}
