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
///
/// A routine answer (`isRoutine`: a 2xx from a known bucket with requests left) teaches nothing
/// but the reservation's time; its record (`recordCall`, timed at the answer) may ride on the
/// caller's next round trip to Redis (`acquire(after:)`, or the caller's own pipeline), so a
/// send costs one round trip of its own instead of two. Until it arrives, the reservation
/// counts from when it was made, which is earlier, for that moment only.
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

    private var redis: RedisClient
    private let settings: Settings
    /// The limiter's keys; in a Redis Cluster they share the connector's hash tag (one slot, so
    /// each script runs on one node).
    private let keys: RateLimitKeys
    private let buckets = BucketNames()
    private let logger: Logger

    public init(redis: RedisClient, settings: Settings = Settings(), logger: Logger) {
        self.redis = redis
        self.keys = BusKeys(connectorAgentName: "", cluster: redis.url.isCluster).rateLimit
        self.settings = settings
        self.logger = logger
    }

    /// The same limiter (settings, learned buckets) over another connection: one on the thread of
    /// the loop that posts (`ThreadExecutor`), so its reservations are not a hop to another thread.
    public func using(_ redis: RedisClient) -> SharedRateLimiter {
        var copy = self
        copy.redis = redis
        return copy
    }

    /// A request counted against the limits; `record` moves its time to when Discord answered.
    public struct Reservation: Sendable {
        public var id: String
        /// The bucket the request was counted in (nil: the limiter was unavailable).
        var bucketSent: String?
        var bucket: String?

        static let unlimited = Reservation(id: "", bucketSent: nil, bucket: nil)
    }

    /// Waits until a request on `route` (e.g. `POST /channels/{channel.id}/messages`) with major
    /// parameter `major` (the channel id) may be sent, and reserves it. Returns nil when
    /// cancelled. Redis trouble does not block posting (Discord's 429s still protect): then the
    /// reservation is empty.
    /// - Parameter countsGlobally: false for routes outside the bot's global limit (interaction
    ///   callbacks and interaction webhooks): only their bucket is counted.
    /// - Parameter after: records of earlier answers not yet applied (`recordCall`): sent in the
    ///   same round trip, before the reservation.
    public func acquire(route: String, major: String, countsGlobally: Bool = true, after records: [ScriptCall] = []) async -> Reservation? {
        var records = records
        while !Task.isCancelled {
            do {
                let pending = records
                records = []
                switch try await attempt(route: route, major: major, countsGlobally: countsGlobally, after: pending) {
                case .reserved(let reservation): return reservation
                case .wait(let milliseconds): try? await Task.sleep(for: .milliseconds(milliseconds))
                }
            } catch {
                logger.warning("rate limiter unavailable (\(error)); posting without it")
                return .unlimited
            }
        }
        return nil
    }

    public enum Attempt: Sendable {
        case reserved(Reservation)
        case wait(milliseconds: Int)
    }

    /// One attempt: reserves a request, or says how long to wait.
    public func attempt(route: String, major: String, countsGlobally: Bool = true, after records: [ScriptCall] = []) async throws(RedisError) -> Attempt {
        let bucket = try await bucketName(route)
        let (acquire, reservation) = reservationCall(bucket: bucket, major: major, countsGlobally: countsGlobally)
        let reply: RedisValue
        if records.isEmpty {
            reply = try await redis.run(acquire)
        } else {
            // The earlier records first, then this reservation: one round trip. A script the
            // server no longer has (NOSCRIPT after a restart) is run again on its own.
            let replies = try await redis.pipeline(records.map(\.request) + [acquire.request])
            for (record, answer) in zip(records, replies) {
                if case .error = answer { try await redis.run(record) }
            }
            if case .error = replies[records.count] {
                reply = try await redis.run(acquire)
            } else {
                reply = replies[records.count]
            }
        }
        if Self.isReserved(reply) { return .reserved(reservation) }
        return .wait(milliseconds: max(1, reply.int ?? 1))
    }

    /// The reservation script for one send in `bucket`, and the reservation it makes when it
    /// answers "reserved" (`isReserved`).
    private func reservationCall(bucket: String, major: String, countsGlobally: Bool) -> (ScriptCall, Reservation) {
        let now = Self.nowMilliseconds()
        let window = now / 600_000
        let id = "\(now):\(UInt64.random(in: 0...UInt64.max))"
        let bucketSent = keys.bucketSent(bucket, major: major)
        let call = Self.acquireScript.call(
            keys: [keys.globalPause, keys.invalid(window: window), keys.invalidSpacing, keys.bucketState(bucket, major: major), bucketSent, keys.globalSent],
            arguments: [
                RedisBytes(now), RedisBytes(settings.globalPerSecond), RedisBytes(settings.coldLimit), RedisBytes(settings.coldWindowMilliseconds),
                RedisBytes(settings.invalidRequestGuard), RedisBytes((window + 1) * 600_000), RedisBytes(id), countsGlobally ? "1" : "0",
            ]
        )
        return (call, Reservation(id: id, bucketSent: bucketSent, bucket: bucket))
    }

    /// Whether a reservation script's answer reserved the send (else it is the wait in ms).
    static func isReserved(_ reply: RedisValue) -> Bool { reply.array?.first?.string != nil }

    /// A reservation made ahead, in a round trip the caller makes anyway (`DiscordClient.prefetch`).
    public struct Prefetch: Sendable {
        public let call: ScriptCall
        let route: String
        let major: String
        let reservation: Reservation
    }

    /// The reservation script for the next send on `route`, for the caller's own pipeline; nil
    /// while the route's bucket is not known here (the first send learns it).
    public func prefetch(route: String, major: String, countsGlobally: Bool = true) -> Prefetch? {
        guard let bucket = buckets[route] else { return nil }
        let (call, reservation) = reservationCall(bucket: bucket, major: major, countsGlobally: countsGlobally)
        return Prefetch(call: call, route: route, major: major, reservation: reservation)
    }

    /// The milliseconds to wait, or 0 when reserved: `attempt` for tests and tools.
    public func reserve(route: String, major: String) async throws(RedisError) -> Int {
        if case .wait(let milliseconds) = try await attempt(route: route, major: major) { return milliseconds }
        return 0
    }

    /// The route's bucket: learned from Discord's `X-RateLimit-Bucket` (by this process, or by
    /// another and read once from Redis), else the route's cold-start bucket.
    private func bucketName(_ route: String) async throws(RedisError) -> String {
        if let known = buckets[route] { return known }
        let learned = try await redis.run(GET(keys.route(route))) ?? RateLimitKeys.coldBucket(route)
        buckets[route] = learned
        return learned
    }

    /// Whether Discord's answer teaches nothing beyond the reservation's time: a 2xx from the
    /// bucket already known for the route, with requests left in it. Its record may then wait
    /// for a round trip the caller makes anyway (`recordCall`, `acquire(after:)`).
    public func isRoutine(route: String, status: Int, info: RateLimitInfo) -> Bool {
        guard (200..<300).contains(status), let known = buckets[route] else { return false }
        if let header = info.bucket, !header.isEmpty, header != known { return false }
        return info.remaining != 0
    }

    /// The record of a routine answer (`isRoutine`) as a script call to send later; nil when
    /// the route's bucket is not known here.
    public func recordCall(route: String, major: String, reservation: Reservation?, status: Int, info: RateLimitInfo) -> ScriptCall? {
        guard let current = buckets[route] else { return nil }
        return recordScriptCall(route: route, major: major, reservation: reservation, status: status, info: info, current: current, now: Self.nowMilliseconds())
    }

    /// Learns from Discord's answer to a request made after `acquire`.
    public func record(route: String, major: String, reservation: Reservation?, status: Int, info: RateLimitInfo) async {
        let scope = Self.scope(status: status, info: info)
        let now = Self.nowMilliseconds()
        do {
            let current = try await bucketName(route)
            let header = info.bucket ?? ""
            let learned = header.isEmpty ? current : header
            try await redis.run(recordScriptCall(route: route, major: major, reservation: reservation, status: status, info: info, current: current, now: now))
            if learned != current { buckets[route] = learned }
        } catch {
            logger.warning("cannot record rate-limit headers: \(error)")
        }
        if scope == "global" { logger.warning("Discord's global rate limit was hit; every request waits \(Int((info.retryAfter ?? 0) * 1000)) ms") }
    }

    /// What a 429 paused: "global", "bucket", or "" for any other answer.
    static func scope(status: Int, info: RateLimitInfo) -> String {
        switch (status, info.scope, info.global) {
        case (429, _, true), (429, "global"?, _): "global"
        case (429, _, _): "bucket"
        default: ""
        }
    }

    /// The record script's call for an answer (`recordScript`).
    private func recordScriptCall(route: String, major: String, reservation: Reservation?, status: Int, info: RateLimitInfo, current: String, now: Int) -> ScriptCall {
        let scope = Self.scope(status: status, info: info)
        let retryAfterMs = Int((info.retryAfter ?? 0) * 1000)
        let resetAfterMs = info.resetAfter.map { Int($0 * 1000) } ?? -1
        let header = info.bucket ?? ""
        let learned = header.isEmpty ? current : header
        return Self.recordScript.call(
            keys: [
                keys.globalSent, reservation?.bucketSent ?? keys.bucketSent(current, major: major), keys.invalid(window: now / 600_000),
                keys.globalPause, keys.route(route),
                keys.bucketState(current, major: major), keys.bucketSent(current, major: major),
                keys.bucketState(learned, major: major), keys.bucketSent(learned, major: major),
            ],
            arguments: [
                RedisBytes(now), RedisBytes(status), RedisBytes(header), RedisBytes(info.limit.map(String.init) ?? ""),
                RedisBytes(info.remaining.map(String.init) ?? ""), RedisBytes(resetAfterMs), RedisBytes(scope),
                RedisBytes(retryAfterMs), RedisBytes(reservation?.id ?? ""), RedisBytes(current),
            ]
        )
    }

    static func nowMilliseconds() -> Int { Int(Date().timeIntervalSince1970 * 1000) }

    /// KEYS: global pause, this window's invalid-request count, invalid spacing, bucket state,
    /// bucket sends, global sends. ARGV: now, global limit, cold limit, cold window, invalid
    /// guard, end of the invalid window, reservation id, whether the global limit applies ("1"
    /// or "0"). Returns {id} when reserved, else the milliseconds to wait.
    static let acquireScript = LuaScript(keys: ["global pause", "invalid count", "invalid spacing", "bucket state", "bucket sent", "global sent"], """
    local now, globalLimit, coldLimit, coldWindow = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
    local guard, windowEnd, id, global = tonumber(ARGV[5]), tonumber(ARGV[6]), ARGV[7], ARGV[8] == '1'
    -- A global 429 pauses everything that counts globally.
    local paused = redis.call('PTTL', KEYS[1])
    if global and paused > 0 then return paused end
    -- Invalid requests: space requests out above the guard, stop above twice the guard.
    local invalid = tonumber(redis.call('GET', KEYS[2]) or '0')
    if invalid >= 2 * guard then return windowEnd - now end
    if invalid >= guard then
        if redis.call('SET', KEYS[3], '1', 'NX', 'PX', 1000) == false then
            return math.max(1, redis.call('PTTL', KEYS[3]))
        end
    end
    -- The route's bucket (learned from X-RateLimit-Bucket, or a cold-start bucket). Both limits
    -- are kept as sliding windows of send times, which never burst across a window boundary,
    -- and so stay within Discord's fixed windows whenever they open; each send counts 10 ms
    -- longer than the window, and counts from when Discord answered (see record).
    local limit = tonumber(redis.call('HGET', KEYS[4], 'limit') or coldLimit)
    local span = tonumber(redis.call('HGET', KEYS[4], 'window') or coldWindow) + 10
    local pausedUntil = tonumber(redis.call('HGET', KEYS[4], 'paused_until') or '0')
    if now < pausedUntil then return pausedUntil - now end
    redis.call('ZREMRANGEBYSCORE', KEYS[5], '-inf', now - span)
    if redis.call('ZCARD', KEYS[5]) >= limit then
        local oldest = redis.call('ZRANGE', KEYS[5], 0, 0, 'WITHSCORES')
        return math.max(1, tonumber(oldest[2]) + span - now)
    end
    -- The global limit over any sliding second. A request counts for 1005 ms after Discord
    -- answered it (record moves its time), so the trip there needs no margin; 5 ms covers clock
    -- granularity.
    if global then
        redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', now - 1005)
        if redis.call('ZCARD', KEYS[6]) >= globalLimit then
            local oldest = redis.call('ZRANGE', KEYS[6], 0, 0, 'WITHSCORES')
            return math.max(1, tonumber(oldest[2]) + 1005 - now)
        end
        redis.call('ZADD', KEYS[6], now, id)
        redis.call('PEXPIRE', KEYS[6], 2000)
    end
    redis.call('ZADD', KEYS[5], now, id)
    redis.call('PEXPIRE', KEYS[5], span * 2)
    return {id}
    """)

    /// KEYS: global sends, the reservation's bucket sends, this window's invalid-request count,
    /// global pause, the route's bucket name, current bucket state and sends, learned bucket
    /// state and sends (the same as current unless the answer named a new bucket).
    /// ARGV: now, status, bucket header, limit, remaining, reset-after ms (-1 when absent), 429
    /// scope ("global", "bucket" or ""), retry-after ms, reservation id, current bucket name.
    static let recordScript = LuaScript(keys: ["global sent", "reserved bucket sent", "invalid count", "global pause", "route bucket", "current state", "current sent", "learned state", "learned sent"], """
    local now, status = tonumber(ARGV[1]), tonumber(ARGV[2])
    local bucketHeader, limit, remaining, resetAfter = ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
    local scope, retryAfter, reservation, current = ARGV[7], tonumber(ARGV[8]), ARGV[9], ARGV[10]
    -- The request reached Discord at the latest now: count it from now, so a request that was
    -- slow to leave (a busy machine) cannot let the next ones crowd Discord's window. A request
    -- slower than the window had its reservation trimmed meanwhile by another caller's acquire:
    -- it is added again (into a set that still exists, which keeps its expiry).
    if reservation ~= '' then
        for _, sent in ipairs({KEYS[1], KEYS[2]}) do
            if redis.call('EXISTS', sent) == 1 then redis.call('ZADD', sent, now, reservation) end
        end
    end
    if status == 401 or status == 403 or status == 429 then
        if redis.call('INCR', KEYS[3]) == 1 then redis.call('PEXPIRE', KEYS[3], 600000) end
    end
    if scope == 'global' then
        redis.call('SET', KEYS[4], '1', 'PX', math.max(1, retryAfter))
        return 1
    end
    local state = KEYS[6]
    if bucketHeader ~= '' and bucketHeader ~= current then
        -- Learned the real bucket: move to it, keeping the sends already counted.
        redis.call('SET', KEYS[5], bucketHeader)
        if redis.call('EXISTS', KEYS[9]) == 0 and redis.call('EXISTS', KEYS[7]) == 1 then
            redis.call('ZUNIONSTORE', KEYS[9], 1, KEYS[7])
            redis.call('PEXPIRE', KEYS[9], 120000)
        end
        state = KEYS[8]
    end
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

/// Route -> bucket names this process knows, so a send costs one script and no lookup.
private final class BucketNames: @unchecked Sendable {
    private var names: [String: String] = [:]
    private let lock = NSLock()

    subscript(route: String) -> String? {
        get { lock.withLock { names[route] } }
        set { lock.withLock { names[route] = newValue } }
    }
}
