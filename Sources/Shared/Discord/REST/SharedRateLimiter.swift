import Foundation
import Logging

/// Discord's rate limits, kept in Redis so that every Replier copy (and every other process
/// that posts with the same bot token) shares them: Discord counts per token, not per process.
///
/// Before a request, `acquire` reserves one request from the global window and from the
/// route's bucket in a single Lua script, or says how long to wait. After the response,
/// `record` teaches the bucket what Discord reported (`X-RateLimit-Bucket`, `-Remaining`,
/// `-Reset-After`), and a 429 pauses exactly the scope it names: the bucket (`user`, `shared`)
/// or everything (`global`). Invalid requests (401, 403, 429) are counted per 10 minutes, and
/// requests slow down well before Discord's 10,000 ban threshold.
public struct SharedRateLimiter: Sendable {
    public struct Settings: Sendable {
        /// Requests per second for the whole bot (Discord's default is 50).
        public var globalPerSecond: Int
        /// A bucket not yet learned from headers starts with this (Discord: 5 message creates
        /// per 5 seconds per channel).
        public var coldLimit: Int
        public var coldWindowMilliseconds: Int
        /// Above this many invalid requests in the current 10 minutes, requests are spaced out
        /// one per second; above twice this, they stop until the window ends.
        public var invalidRequestGuard: Int

        public init(globalPerSecond: Int = 50, coldLimit: Int = 5, coldWindowMilliseconds: Int = 5_000, invalidRequestGuard: Int = 2_500) {
            self.globalPerSecond = globalPerSecond
            self.coldLimit = coldLimit
            self.coldWindowMilliseconds = coldWindowMilliseconds
            self.invalidRequestGuard = invalidRequestGuard
        }
    }

    private let redis: RedisClient
    private let settings: Settings
    private let prefix = "discord:ratelimit:"
    private let logger: Logger

    public init(redis: RedisClient, settings: Settings = Settings(), logger: Logger) {
        self.redis = redis
        self.settings = settings
        self.logger = logger
    }

    /// A request counted against the limits; `record` moves its time to when Discord answered.
    public struct Reservation: Sendable {
        public var id: String
    }

    /// Waits until a request on `route` (e.g. `POST /channels/{channel.id}/messages`) with major
    /// parameter `major` (the channel id) may be sent, and reserves it. Returns nil when
    /// cancelled. Redis trouble does not block posting (Discord's 429s still protect): then the
    /// reservation is empty.
    public func acquire(route: String, major: String) async -> Reservation? {
        while !Task.isCancelled {
            do {
                switch try await attempt(route: route, major: major) {
                case .reserved(let reservation): return reservation
                case .wait(let milliseconds): try? await Task.sleep(for: .milliseconds(milliseconds))
                }
            } catch {
                logger.warning("rate limiter unavailable (\(error)); posting without it")
                return Reservation(id: "")
            }
        }
        return nil
    }

    public enum Attempt: Sendable {
        case reserved(Reservation)
        case wait(milliseconds: Int)
    }

    /// One attempt: reserves a request, or says how long to wait.
    public func attempt(route: String, major: String) async throws(RedisError) -> Attempt {
        let reply = try await redis.evaluate(Self.acquireScript, keys: [], arguments: [
            prefix, route, major, String(Self.nowMilliseconds()),
            String(settings.globalPerSecond), String(settings.coldLimit), String(settings.coldWindowMilliseconds),
            String(settings.invalidRequestGuard),
        ])
        if let id = reply.array?.first?.string { return .reserved(Reservation(id: id)) }
        return .wait(milliseconds: max(1, reply.int ?? 1))
    }

    /// The milliseconds to wait, or 0 when reserved: `attempt` for tests and tools.
    public func reserve(route: String, major: String) async throws(RedisError) -> Int {
        if case .wait(let milliseconds) = try await attempt(route: route, major: major) { return milliseconds }
        return 0
    }

    /// Learns from Discord's answer to a request made after `acquire`.
    public func record(route: String, major: String, reservation: Reservation?, status: Int, info: RateLimitInfo) async {
        let scope: String
        switch (status, info.scope, info.global) {
        case (429, _, true), (429, "global"?, _): scope = "global"
        case (429, _, _): scope = "bucket"
        default: scope = ""
        }
        let retryAfterMs = Int((info.retryAfter ?? 0) * 1000)
        let resetAfterMs = info.resetAfter.map { Int($0 * 1000) } ?? -1
        do {
            try await redis.evaluate(Self.recordScript, keys: [], arguments: [
                prefix, route, major, String(Self.nowMilliseconds()), String(status),
                info.bucket ?? "", info.limit.map(String.init) ?? "", info.remaining.map(String.init) ?? "",
                String(resetAfterMs), scope, String(retryAfterMs), reservation?.id ?? "",
            ])
        } catch {
            logger.warning("cannot record rate-limit headers: \(error)")
        }
        if scope == "global" { logger.warning("Discord's global rate limit was hit; every request waits \(retryAfterMs) ms") }
    }

    static func nowMilliseconds() -> Int { Int(Date().timeIntervalSince1970 * 1000) }

    /// ARGV: prefix, route, major, now, global limit, cold limit, cold window, invalid guard.
    /// Returns 0 when reserved, else the milliseconds to wait.
    static let acquireScript = LuaScript("""
    local p, route, major, now = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
    local globalLimit, coldLimit, coldWindow, guard = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
    -- A global 429 pauses everything.
    local paused = redis.call('PTTL', p .. 'global:pause')
    if paused > 0 then return paused end
    -- Invalid requests: space requests out above the guard, stop above twice the guard.
    local window = math.floor(now / 600000)
    local invalid = tonumber(redis.call('GET', p .. 'invalid:' .. window) or '0')
    if invalid >= 2 * guard then return (window + 1) * 600000 - now end
    if invalid >= guard then
        if redis.call('SET', p .. 'invalid:spacing', '1', 'NX', 'PX', 1000) == false then
            return math.max(1, redis.call('PTTL', p .. 'invalid:spacing'))
        end
    end
    -- The route's bucket, learned from X-RateLimit-Bucket, or a cold-start bucket. Both limits
    -- are kept as sliding windows of send times, which never burst across a window boundary,
    -- and so stay within Discord's fixed windows whenever they open; each send counts 10 ms
    -- longer than the window, and counts from when Discord answered (see record).
    local bucket = redis.call('GET', p .. 'route:' .. route) or ('cold:' .. route)
    local state = p .. 'bucket:' .. bucket .. ':' .. major
    local limit = tonumber(redis.call('HGET', state, 'limit') or coldLimit)
    local span = tonumber(redis.call('HGET', state, 'window') or coldWindow) + 10
    local pausedUntil = tonumber(redis.call('HGET', state, 'paused_until') or '0')
    if now < pausedUntil then return pausedUntil - now end
    local bucketSent = state .. ':sent'
    redis.call('ZREMRANGEBYSCORE', bucketSent, '-inf', now - span)
    if redis.call('ZCARD', bucketSent) >= limit then
        local oldest = redis.call('ZRANGE', bucketSent, 0, 0, 'WITHSCORES')
        return math.max(1, tonumber(oldest[2]) + span - now)
    end
    -- The global limit over any sliding second: the send times of the last second's requests.
    local sent = p .. 'global:sent'
    -- A request counts for 1005 ms after Discord answered it (record moves its time), so the
    -- trip there needs no margin; 5 ms covers clock granularity.
    redis.call('ZREMRANGEBYSCORE', sent, '-inf', now - 1005)
    if redis.call('ZCARD', sent) >= globalLimit then
        local oldest = redis.call('ZRANGE', sent, 0, 0, 'WITHSCORES')
        return math.max(1, tonumber(oldest[2]) + 1005 - now)
    end
    local id = now .. ':' .. redis.call('INCR', p .. 'global:seq')
    redis.call('ZADD', sent, now, id)
    redis.call('PEXPIRE', sent, 2000)
    redis.call('ZADD', bucketSent, now, id)
    redis.call('PEXPIRE', bucketSent, span * 2)
    redis.call('SET', p .. 'reservation:' .. id, bucketSent, 'PX', 60000)
    return {id}
    """)

    /// ARGV: prefix, route, major, now, status, bucket header, limit, remaining, reset-after ms
    /// (-1 when absent), 429 scope ("global", "bucket" or ""), retry-after ms, reservation id.
    static let recordScript = LuaScript("""
    local p, route, major, now, status = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
    local bucketHeader, limit, remaining, resetAfter = ARGV[6], tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
    local scope, retryAfter, reservation = ARGV[10], tonumber(ARGV[11]), ARGV[12]
    -- The request reached Discord at the latest now: count it from now, so a request that was
    -- slow to leave (a busy machine) cannot let the next ones crowd Discord's window.
    if reservation ~= '' then
        local bucketSent = redis.call('GET', p .. 'reservation:' .. reservation)
        redis.call('ZADD', p .. 'global:sent', 'XX', now, reservation)
        if bucketSent then redis.call('ZADD', bucketSent, 'XX', now, reservation) end
        redis.call('DEL', p .. 'reservation:' .. reservation)
    end
    if status == 401 or status == 403 or status == 429 then
        local key = p .. 'invalid:' .. math.floor(now / 600000)
        if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, 600000) end
    end
    if scope == 'global' then
        redis.call('SET', p .. 'global:pause', '1', 'PX', math.max(1, retryAfter))
        return 1
    end
    local bucket = redis.call('GET', p .. 'route:' .. route) or ('cold:' .. route)
    if bucketHeader ~= '' and bucketHeader ~= bucket then
        -- Learned the real bucket: move to it, keeping the sends already counted.
        redis.call('SET', p .. 'route:' .. route, bucketHeader)
        local old = p .. 'bucket:' .. bucket .. ':' .. major
        local new = p .. 'bucket:' .. bucketHeader .. ':' .. major
        if redis.call('EXISTS', new .. ':sent') == 0 and redis.call('EXISTS', old .. ':sent') == 1 then
            redis.call('ZUNIONSTORE', new .. ':sent', 1, old .. ':sent')
        end
        bucket = bucketHeader
    end
    local state = p .. 'bucket:' .. bucket .. ':' .. major
    if scope == 'bucket' then
        redis.call('HSET', state, 'paused_until', now + math.max(1, retryAfter))
    elseif limit and resetAfter >= 0 then
        -- The window's length is the longest reset-after seen (later answers report less).
        local span = math.max(tonumber(redis.call('HGET', state, 'window') or '0'), resetAfter, 1)
        redis.call('HSET', state, 'limit', limit, 'window', span)
        -- Discord says the bucket is empty (requests we did not make, say): wait for its reset.
        if remaining == 0 then redis.call('HSET', state, 'paused_until', now + resetAfter) end
    end
    redis.call('PEXPIREAT', state, now + 120000)
    return 1
    """)
}
