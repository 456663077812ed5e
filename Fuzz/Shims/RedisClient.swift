// Stand-in for Sources/Shared/Redis/RedisClient.swift (which needs hiredis and swift-log), so
// that ChannelCatalog.swift compiles into the fuzz harness. The harness never calls it.
public actor RedisClient {
    public init() {}

    @discardableResult
    public func send(_ arguments: String...) throws(RedisError) -> RedisValue { .null }

    @discardableResult
    public func send(_ arguments: [String]) throws(RedisError) -> RedisValue { .null }
}
