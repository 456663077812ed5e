// The sorted-set commands the services use (schedules and member lists scored by time).

/// `ZADD key score member`: answers how many members are new.
public struct ZADD: RedisCommand {
    public var key: String
    public var score: Int
    public var member: String
    public init(_ key: String, score: Int, member: String) {
        self.key = key
        self.score = score
        self.member = member
    }
    public var request: RedisRequest { RedisRequest(["ZADD", RedisBytes(key), RedisBytes(score), RedisBytes(member)], keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Int { try ReplyShape.integer(reply, "ZADD") }
}

/// `ZREM key member ...`: answers how many were removed.
public struct ZREM: RedisCommand {
    public var key: String
    public var members: [String]
    public init(_ key: String, members: [String]) {
        self.key = key
        self.members = members
    }
    public var request: RedisRequest { RedisRequest(["ZREM", RedisBytes(key)] + members.map { RedisBytes($0) }, keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Int { try ReplyShape.integer(reply, "ZREM") }
}

/// `ZRANGE key start stop`: members by rank, lowest score first.
public struct ZRANGE: RedisCommand {
    public var key: String
    public var start: Int
    public var stop: Int
    public init(_ key: String, start: Int, stop: Int) {
        self.key = key
        self.start = start
        self.stop = stop
    }
    public var request: RedisRequest { RedisRequest(["ZRANGE", RedisBytes(key), RedisBytes(start), RedisBytes(stop)], keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> [String] { try ReplyShape.strings(reply, "ZRANGE") }
}

/// `ZRANGEBYSCORE key -inf max LIMIT 0 n`: the members scored at most `max`, lowest first.
public struct ZRANGEBYSCORE: RedisCommand {
    public var key: String
    public var max: Int
    public var limit: Int
    public init(_ key: String, max: Int, limit: Int) {
        self.key = key
        self.max = max
        self.limit = limit
    }
    public var request: RedisRequest {
        RedisRequest(["ZRANGEBYSCORE", RedisBytes(key), "-inf", RedisBytes(max), "LIMIT", "0", RedisBytes(limit)], keys: [key])
    }
    public func decode(_ reply: RedisValue) throws(RedisError) -> [String] { try ReplyShape.strings(reply, "ZRANGEBYSCORE") }
}

/// `ZREMRANGEBYSCORE key -inf max`: removes the members scored at most `max`.
public struct ZREMRANGEBYSCORE: RedisCommand {
    public var key: String
    public var max: Int
    public init(_ key: String, max: Int) {
        self.key = key
        self.max = max
    }
    public var request: RedisRequest { RedisRequest(["ZREMRANGEBYSCORE", RedisBytes(key), "-inf", RedisBytes(max)], keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Int { try ReplyShape.integer(reply, "ZREMRANGEBYSCORE") }
}

/// `ZCARD key`.
public struct ZCARD: RedisCommand {
    public var key: String
    public init(_ key: String) { self.key = key }
    public var request: RedisRequest { RedisRequest(["ZCARD", RedisBytes(key)], keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Int { try ReplyShape.integer(reply, "ZCARD") }
}
