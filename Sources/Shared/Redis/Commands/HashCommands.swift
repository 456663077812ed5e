// The hash commands the services use.

/// `HGETALL key`: the fields in Redis's order (empty when the key does not exist).
public struct HGETALL: RedisCommand {
    public var key: String
    public init(_ key: String) { self.key = key }
    public var request: RedisRequest { RedisRequest(["HGETALL", RedisBytes(key)], keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> StreamFields {
        if reply.isNull { return [:] }
        guard reply.array != nil else { throw unexpected(reply) }
        return StreamFields(flat: reply)
    }
}

/// `HGET key field`.
public struct HGET: RedisCommand {
    public var key: String
    public var field: String
    public init(_ key: String, field: String) {
        self.key = key
        self.field = field
    }
    public var request: RedisRequest { RedisRequest(["HGET", RedisBytes(key), RedisBytes(field)], keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> String? { try ReplyShape.optionalString(reply, "HGET") }
}

/// `HSET key field value ...`: answers how many fields are new.
public struct HSET: RedisCommand {
    public var key: String
    public var fields: StreamFields
    public init(_ key: String, fields: StreamFields) {
        self.key = key
        self.fields = fields
    }
    public var request: RedisRequest { RedisRequest(["HSET", RedisBytes(key)] + fields.flattened, keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Int { try ReplyShape.integer(reply, "HSET") }
}

/// `HSETNX key field value`: true when the field was set (it did not exist).
public struct HSETNX: RedisCommand {
    public var key: String
    public var field: String
    public var value: String
    public init(_ key: String, field: String, value: String) {
        self.key = key
        self.field = field
        self.value = value
    }
    public var request: RedisRequest { RedisRequest(["HSETNX", RedisBytes(key), RedisBytes(field), RedisBytes(value)], keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Bool { try ReplyShape.integer(reply, "HSETNX") == 1 }
}

/// `HDEL key field ...`: answers how many fields were removed.
public struct HDEL: RedisCommand {
    public var key: String
    public var fields: [String]
    public init(_ key: String, fields: [String]) {
        self.key = key
        self.fields = fields
    }
    public var request: RedisRequest { RedisRequest(["HDEL", RedisBytes(key)] + fields.map { RedisBytes($0) }, keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Int { try ReplyShape.integer(reply, "HDEL") }
}

/// `HINCRBY key field n`: answers the new value.
public struct HINCRBY: RedisCommand {
    public var key: String
    public var field: String
    public var amount: Int
    public init(_ key: String, field: String, by amount: Int = 1) {
        self.key = key
        self.field = field
        self.amount = amount
    }
    public var request: RedisRequest { RedisRequest(["HINCRBY", RedisBytes(key), RedisBytes(field), RedisBytes(amount)], keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Int { try ReplyShape.integer(reply, "HINCRBY") }
}
