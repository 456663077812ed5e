import Foundation
import Logging
import Shared

/// Keeps the gateway session in Redis, so a restarted (or standby) Ingest resumes instead of
/// identifying, and remembers when the gateway last delivered something, which bounds the
/// catch-up when a session cannot be resumed.
struct RedisSessionStore: GatewaySessionStore {
    let redis: RedisClient
    let key: String
    let logger: Logger

    func load() async -> GatewaySession.Resumable? {
        do {
            let fields = try await redis.run(HGETALL(key))
            guard let id = fields["session_id"], let seq = fields["seq"].flatMap({ Int($0) }), let url = fields["resume_url"] else { return nil }
            return GatewaySession.Resumable(sessionID: id, sequence: seq, resumeURL: url)
        } catch {
            logger.warning("cannot load the saved gateway session, identifying anew: \(error)")
            return nil
        }
    }

    /// When the gateway last delivered an event to any Ingest; nil if it never did.
    func lastAlive() async -> Date? {
        guard let text = try? await redis.run(HGET(key, field: "alive_ms")), let ms = Int(text) else { return nil }
        return Date(timeIntervalSince1970: Double(ms) / 1000)
    }

    func save(_ resumable: GatewaySession.Resumable?) async {
        let now = String(Int(Date().timeIntervalSince1970 * 1000))
        do {
            if let resumable {
                try await redis.run(HSET(key, fields: [("session_id", resumable.sessionID), ("seq", String(resumable.sequence)), ("resume_url", resumable.resumeURL), ("alive_ms", now)]))
            } else {
                // The session is gone; when it was last alive still bounds the catch-up.
                try await redis.run(HDEL(key, fields: ["session_id", "seq", "resume_url"]))
            }
        } catch {
            // Not fatal: at worst the next start identifies anew and the catch-up fills the gap.
            logger.warning("cannot save the gateway session: \(error)")
        }
    }
}
