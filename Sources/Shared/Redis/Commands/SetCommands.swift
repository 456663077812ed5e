// The set commands the services use.

/// `SADD key member ...`: answers how many members are new.
public struct SADD: RedisCommand {
    public var key: String
    public var members: [String]
    public init(_ key: String, members: [String]) {
        self.key = key
        self.members = members
    }
    public var request: RedisRequest { RedisRequest(["SADD", RedisBytes(key)] + members.map { RedisBytes($0) }, keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Int { try ReplyShape.integer(reply, "SADD") }
}

/// `SMEMBERS key`: the members, in no particular order (empty when the key does not exist).
public struct SMEMBERS: RedisCommand {
    public var key: String
    public init(_ key: String) { self.key = key }
    public var request: RedisRequest { RedisRequest(["SMEMBERS", RedisBytes(key)], keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> [String] {
        if reply.isNull { return [] }
        guard let items = reply.array else { throw unexpected(reply) }
        return items.compactMap(\.string)
    }
}
