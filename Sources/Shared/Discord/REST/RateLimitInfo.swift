/// Discord's rate-limit headers on one response, and a 429's body.
public struct RateLimitInfo: Sendable, Equatable {
    public var bucket: String?
    public var limit: Int?
    public var remaining: Int?
    /// Seconds until the bucket refills.
    public var resetAfter: Double?
    /// `user`, `global` or `shared`, on 429s.
    public var scope: String?
    /// Seconds to wait, from a 429's body (or its `Retry-After` header).
    public var retryAfter: Double?
    public var global: Bool

    public init(headers: [String: String], body: JSONValue? = nil) {
        bucket = headers["x-ratelimit-bucket"]
        limit = headers["x-ratelimit-limit"].flatMap { Int($0) }
        remaining = headers["x-ratelimit-remaining"].flatMap { Int($0) }
        resetAfter = headers["x-ratelimit-reset-after"].flatMap { Double($0) }
        scope = headers["x-ratelimit-scope"]
        retryAfter = body?["retry_after"]?.doubleValue ?? headers["retry-after"].flatMap { Double($0) }
        global = headers["x-ratelimit-global"] == "true" || body?["global"] == .bool(true)
    }
}
