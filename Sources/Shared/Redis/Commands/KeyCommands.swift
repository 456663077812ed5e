// Plain keys: strings, existence, PING.

/// `SET key value [NX] [PX ms]`: true when set (false when `NX` found the key taken).
public struct SET: RedisCommand {
    public var key: String
    public var value: RedisBytes
    /// Only if the key does not exist.
    public var onlyIfAbsent: Bool
    /// Time to live in milliseconds.
    public var expireMilliseconds: Int?
    public init(_ key: String, _ value: RedisBytes, onlyIfAbsent: Bool = false, expireMilliseconds: Int? = nil) {
        self.key = key
        self.value = value
        self.onlyIfAbsent = onlyIfAbsent
        self.expireMilliseconds = expireMilliseconds
    }
    public var request: RedisRequest {
        var arguments: [RedisBytes] = ["SET", RedisBytes(key), value]
        if onlyIfAbsent { arguments.append("NX") }
        if let expireMilliseconds { arguments += ["PX", RedisBytes(expireMilliseconds)] }
        return RedisRequest(arguments, keys: [key])
    }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Bool {
        if reply.isNull { return false }
        guard reply.string == "OK" else { throw unexpected(reply) }
        return true
    }
}

/// `GET key`.
public struct GET: RedisCommand {
    public var key: String
    public init(_ key: String) { self.key = key }
    public var request: RedisRequest { RedisRequest(["GET", RedisBytes(key)], keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> String? { try ReplyShape.optionalString(reply, "GET") }
}

/// `EXISTS key`.
public struct EXISTS: RedisCommand {
    public var key: String
    public init(_ key: String) { self.key = key }
    public var request: RedisRequest { RedisRequest(["EXISTS", RedisBytes(key)], keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Bool { try ReplyShape.integer(reply, "EXISTS") > 0 }
}

/// `EXPIRE key seconds`: whether the key exists (and now expires).
public struct EXPIRE: RedisCommand {
    public var key: String
    public var seconds: Int
    public init(_ key: String, seconds: Int) {
        self.key = key
        self.seconds = seconds
    }
    public var request: RedisRequest { RedisRequest(["EXPIRE", RedisBytes(key), RedisBytes(seconds)], keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Bool { try ReplyShape.integer(reply, "EXPIRE") == 1 }
}

/// `PING`: answers PONG.
public struct PING: RedisCommand {
    public init() {}
    public var request: RedisRequest { RedisRequest(["PING"], keys: []) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> String {
        guard let pong = reply.string else { throw unexpected(reply) }
        return pong
    }
}

/// Every key matching `pattern` of one type (`RedisClient.scan`: in a cluster, on every node).
public func scanKeys(_ pattern: String, type: String, redis: RedisClient) async throws(RedisError) -> Set<String> {
    try await redis.scan(pattern: pattern, type: type)
}

/// `MEMORY USAGE key`: the bytes a key and its value take in Redis; nil when the key is gone.
public struct MEMORYUSAGE: RedisCommand {
    public var key: String
    public init(_ key: String) { self.key = key }
    public var request: RedisRequest { RedisRequest(["MEMORY", "USAGE", RedisBytes(key)], keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Int? {
        if reply.isNull { return nil }
        return try ReplyShape.integer(reply, "MEMORY USAGE")
    }
}
