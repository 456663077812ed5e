import Foundation
import Logging
import Shared

/// After a session could not be resumed, fetches what was said while nobody was connected:
/// for every channel with an accepted message (its cursor) and every mapped channel, the
/// messages after the last one delivered, bounded in count and age. They go through the same
/// accept path as live messages, whose seen-markers drop anything already delivered.
struct CatchUp: Sendable {
    let rest: DiscordREST
    let redis: RedisClient
    let keys: BusKeys
    let router: AgentRouter
    let directory: ChannelDirectory
    let maxAge: TimeInterval
    let maxMessages: Int
    let logger: Logger

    func run(since lastAlive: Date, accept: @Sendable (DiscordMessage) async -> Void) async {
        let cursors = (try? await redis.send("HGETALL", keys.cursors).fieldMap) ?? [:]
        let oldest = Snowflake.floor(at: max(lastAlive, Date().addingTimeInterval(-maxAge)))
        var starts: [String: String] = [:]
        for channel in Set(cursors.keys).union(router.channelAgents.keys) {
            let cursor = cursors[channel] ?? oldest
            starts[channel] = Snowflake.isLess(cursor, oldest) ? oldest : cursor
        }
        logger.notice("catching up on \(starts.count) channels after a new session", metadata: ["since": "\(lastAlive)"])
        var total = 0
        for (channel, start) in starts.sorted(by: { $0.key < $1.key }) {
            if Task.isCancelled { return }
            let messages = await fetch(channel: channel, after: start)
            let guildID = await directory.channel(channel)?.guildID
            for var message in messages {
                // REST message objects carry no guild_id; without it a guild message looks like a DM.
                message.guildID = message.guildID ?? guildID
                await accept(message)
            }
            total += messages.count
        }
        logger.notice("catch-up done: \(total) messages looked at")
    }

    /// Messages after `start`, oldest first, at most `maxMessages`.
    private func fetch(channel: String, after start: String) async -> [DiscordMessage] {
        var collected: [DiscordMessage] = []
        var after = start
        var rateLimited = 0
        while collected.count < maxMessages, !Task.isCancelled {
            let limit = min(100, maxMessages - collected.count)
            do {
                let page = try await rest.call("GET", "/channels/\(channel)/messages?after=\(after)&limit=\(limit)", as: [DiscordMessage].self)
                    .sorted { Snowflake.isLess($0.id, $1.id) }
                collected += page
                guard page.count == limit, let last = page.last else { break }
                after = last.id
            } catch let failure as DiscordREST.Failure where failure.status == 429 && rateLimited < 5 {
                rateLimited += 1
                try? await Task.sleep(for: .milliseconds(Int64((failure.rateLimit.retryAfter ?? 1) * 1000)))
            } catch {
                logger.warning("catch-up of channel \(channel) stopped: \(error)")
                break
            }
        }
        return collected
    }
}
