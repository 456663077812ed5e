import Foundation
import Logging
import Shared

/// The lease that makes one Ingest copy the gateway owner: a Redis key holding the owner's id,
/// set with `NX` and a time to live, renewed while the owner lives.
///
/// Fencing: the owner stops its gateway connection once half the lease has passed without a
/// successful renewal, well before a standby could acquire the lease, so two sessions never
/// overlap. A SIGKILLed owner's connection dies with its process.
struct GatewayLease: Sendable {
    let redis: RedisClient
    let key: String
    let owner: String
    let ttl: Duration
    let logger: Logger

    /// How often the owner renews, and a standby retries.
    var renewInterval: Duration { min(.milliseconds(500), ttl / 4) }

    init(redis: RedisClient, key: String, ttl: Duration, logger: Logger) {
        self.redis = redis
        self.key = key
        self.owner = "\(ProcessInfo.processInfo.hostName)-\(getpid())-\(UUID().uuidString.prefix(8))"
        self.ttl = ttl
        self.logger = logger
    }

    private static let renewScript = LuaScript("""
    if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
    return 0
    """)

    private static let releaseScript = LuaScript("""
    if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
    return 0
    """)

    private var ttlMilliseconds: String { String(ttl.components.seconds * 1000 + ttl.components.attoseconds / 1_000_000_000_000_000) }

    /// Waits until this process holds the lease; nil when cancelled first.
    func acquire() async -> Bool {
        var announced = false
        while !Task.isCancelled {
            do {
                let reply = try await redis.send("SET", key, owner, "NX", "PX", ttlMilliseconds)
                if reply.string == "OK" { return true }
                if !announced {
                    let holder = (try? await redis.send("GET", key).string) ?? "?"
                    logger.notice("standing by: Ingest \(holder) holds the gateway; taking over if it stops renewing")
                    announced = true
                }
            } catch {
                if !announced { logger.error("cannot reach Redis for the gateway lease: \(error); retrying") }
                announced = true
            }
            try? await Task.sleep(for: renewInterval)
        }
        return false
    }

    /// Renews the lease until it is lost or can no longer be proven held; returns then.
    /// Run it beside the gateway and stop the gateway when it returns.
    func keep() async {
        var confirmedAt = ContinuousClock.now
        while !Task.isCancelled {
            try? await Task.sleep(for: renewInterval)
            if Task.isCancelled { return }
            let attempt = ContinuousClock.now
            do {
                let renewed = try await redis.evaluate(Self.renewScript, keys: [key], arguments: [owner, ttlMilliseconds]).int == 1
                guard renewed else {
                    logger.error("lost the gateway lease to another Ingest; closing the gateway")
                    return
                }
                confirmedAt = attempt
            } catch {
                if ContinuousClock.now - confirmedAt > ttl / 2 {
                    logger.error("cannot renew the gateway lease (\(error)); closing the gateway before it lapses")
                    return
                }
            }
        }
    }

    /// Gives the lease up at once (on shutdown), so a standby need not wait for it to lapse.
    func release() async {
        _ = try? await redis.evaluate(Self.releaseScript, keys: [key], arguments: [owner])
    }
}
