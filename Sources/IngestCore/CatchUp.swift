import Foundation
import Logging
import Shared

/// After a session could not be resumed, fetches what was said while nobody was connected:
/// for every channel with an accepted message (its cursor) and every mapped channel, the
/// messages after the last one delivered, bounded in count and age. They go through the same
/// accept path as live messages, whose seen-markers drop anything already delivered.
struct CatchUp: Sendable {
    let discord: DiscordClient
    let redis: RedisClient
    let keys: BusKeys
    let router: AgentRouter
    let directory: ChannelDirectory
    let maxAge: TimeInterval
    let maxMessages: Int
    let logger: Logger

    func run(since lastAlive: Date, accept: @Sendable (DiscordMessage) async -> Void) async {
        let cursors = (try? await redis.run(HGETALL(keys.cursors)).dictionary) ?? [:]
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
        while collected.count < maxMessages, !Task.isCancelled {
            let limit = min(100, maxMessages - collected.count)
            do {
                // Through the shared limiter: a catch-up over many channels comes right after an
                // outage, when the bot is closest to its limits.
                let page = try await discord.perform(.messages(channel: channel, after: after, limit: limit), as: [DiscordMessage].self)
                    .sorted { Snowflake.isLess($0.id, $1.id) }
                collected += page
                guard page.count == limit, let last = page.last else { break }
                after = last.id
            } catch {
                logger.warning("catch-up of channel \(channel) stopped: \(error)")
                break
            }
        }
        return collected
    }
}
