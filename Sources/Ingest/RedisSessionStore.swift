import Logging
import Shared

/// Keeps the gateway session in Redis, so a restarted Ingest resumes instead of identifying.
struct RedisSessionStore: GatewaySessionStore {
    let redis: RedisClient
    let key: String
    let logger: Logger

    func load() async -> GatewaySession.Resumable? {
        do {
            let fields = try await redis.send("HGETALL", key).fieldMap
            guard let id = fields["session_id"], let seq = fields["seq"].flatMap({ Int($0) }), let url = fields["resume_url"] else { return nil }
            return GatewaySession.Resumable(sessionID: id, sequence: seq, resumeURL: url)
        } catch {
            logger.warning("cannot load the saved gateway session, identifying anew: \(error)")
            return nil
        }
    }

    func save(_ resumable: GatewaySession.Resumable?) async {
        do {
            if let resumable {
                try await redis.send("HSET", key, "session_id", resumable.sessionID, "seq", String(resumable.sequence), "resume_url", resumable.resumeURL)
            } else {
                try await redis.send("DEL", key)
            }
        } catch {
            // Not fatal: at worst the next start identifies anew and catch-up fills the gap.
            logger.warning("cannot save the gateway session: \(error)")
        }
    }
}
