import Foundation
import HTTPTypes

/// A fixed-window rate limit per key: per channel for message creates, and a single key for
/// the bot's global limit.
///
/// Discord's headers describe a bucket that refills completely at `X-RateLimit-Reset`, so each
/// key gets a window that opens on its first request and admits `limit` requests until it
/// closes. That keeps `Remaining`/`Reset-After` exactly as a client would see them on Discord.
struct RateLimiter: Sendable {
    /// What the rate-limit headers of one response report.
    struct Snapshot: Sendable {
        let limit: Int
        let remaining: Int
        let resetAt: Date
        let resetAfter: TimeInterval
        let bucket: String
    }

    enum Decision: Sendable {
        case allowed(Snapshot)
        case limited(Snapshot, retryAfter: TimeInterval)
    }

    private struct Window {
        let opened: Date
        var used: Int
    }

    /// Discord hashes the route into an opaque, stable bucket id; all channels share it for
    /// message creates, with the channel id as the "major parameter" that splits the limit.
    static let messageCreateBucket = stableHash("POST /channels/{channel.id}/messages")
    static let messageDeleteBucket = stableHash("DELETE /channels/{channel.id}/messages/{message.id}")
    /// Split by webhook id, its major parameter.
    static let webhookExecuteBucket = stableHash("POST /webhooks/{webhook.id}/{webhook.token}")

    let limit: Int
    let window: TimeInterval
    /// The `X-RateLimit-Bucket` this limiter's responses carry.
    let bucket: String
    private var windows: [String: Window] = [:]

    init(limit: Int, window: TimeInterval, bucket: String = RateLimiter.messageCreateBucket) {
        self.limit = limit
        self.window = window
        self.bucket = bucket
    }

    mutating func acquire(key: String, now: Date) -> Decision {
        var current = windows[key].flatMap { isOpen($0, at: now) ? $0 : nil } ?? Window(opened: now, used: 0)
        if current.used >= limit {
            let snapshot = snapshot(of: current, at: now)
            return .limited(snapshot, retryAfter: snapshot.resetAfter)
        }
        current.used += 1
        windows[key] = current
        return .allowed(snapshot(of: current, at: now))
    }

    /// The headers a response would carry right now, without spending a request.
    func peek(key: String, now: Date) -> Snapshot {
        let current = windows[key].flatMap { isOpen($0, at: now) ? $0 : nil } ?? Window(opened: now, used: 0)
        return snapshot(of: current, at: now)
    }

    mutating func reset() {
        windows.removeAll()
    }

    private func isOpen(_ window: Window, at now: Date) -> Bool {
        now.timeIntervalSince(window.opened) < self.window
    }

    private func snapshot(of current: Window, at now: Date) -> Snapshot {
        let resetAt = current.opened.addingTimeInterval(window)
        return Snapshot(
            limit: limit,
            remaining: max(0, limit - current.used),
            resetAt: resetAt,
            resetAfter: max(0, resetAt.timeIntervalSince(now)),
            bucket: bucket
        )
    }

    /// FNV-1a: stable across runs, unlike `Hasher`, which is seeded per process.
    private static func stableHash(_ route: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in route.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0000_0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}

/// Discord's gateway session-start concurrency: shards share rate-limit keys
/// `shard_id % max_concurrency`, and each key allows one IDENTIFY per five seconds.
struct IdentifyLimiter: Sendable {
    static let window: TimeInterval = 5

    let maxConcurrency: Int
    private var lastIdentify: [Int: Date] = [:]

    init(maxConcurrency: Int) {
        self.maxConcurrency = maxConcurrency
    }

    /// Records an IDENTIFY; returns `false` when Discord would have rejected it as too soon.
    mutating func admit(shardId: Int, now: Date) -> Bool {
        let key = shardId % maxConcurrency
        defer { lastIdentify[key] = now }
        guard let last = lastIdentify[key] else { return true }
        return now.timeIntervalSince(last) >= Self.window
    }

    mutating func reset() {
        lastIdentify.removeAll()
    }
}

extension HTTPField.Name {
    static let rateLimitLimit = Self("X-RateLimit-Limit")!
    static let rateLimitRemaining = Self("X-RateLimit-Remaining")!
    static let rateLimitReset = Self("X-RateLimit-Reset")!
    static let rateLimitResetAfter = Self("X-RateLimit-Reset-After")!
    static let rateLimitBucket = Self("X-RateLimit-Bucket")!
    static let rateLimitScope = Self("X-RateLimit-Scope")!
    static let rateLimitGlobal = Self("X-RateLimit-Global")!
}

extension RateLimiter.Snapshot {
    /// Discord's rate-limit headers; times are seconds with millisecond precision.
    var headers: HTTPFields {
        var fields = HTTPFields()
        fields[.rateLimitLimit] = String(limit)
        fields[.rateLimitRemaining] = String(remaining)
        fields[.rateLimitReset] = String(format: "%.3f", resetAt.timeIntervalSince1970)
        fields[.rateLimitResetAfter] = String(format: "%.3f", resetAfter)
        fields[.rateLimitBucket] = bucket
        return fields
    }
}
