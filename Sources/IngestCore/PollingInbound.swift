import Foundation
import Logging
import Shared

/// `INBOUND_MODE=poll`, for deployments that cannot keep a gateway connection: every
/// `POLL_INTERVAL` seconds, fetches the new messages of each mapped channel over REST and feeds
/// them through the same accept path as gateway messages.
///
/// Each channel's cursor (the newest message looked at) is kept in `discord:poll:cursors` and
/// moved only after its messages were accepted, so a restart fetches at most a page again, and
/// the seen-markers drop what was already delivered: each message reaches its agent once. A new
/// channel starts at the time it is first polled; history is not replayed.
struct PollingInbound: Sendable {
    let discord: DiscordClient
    let redis: RedisClient
    let keys: BusKeys
    let channels: [String]
    let interval: Duration
    let directory: ChannelDirectory
    let logger: Logger

    func run(accept: @Sendable (DiscordMessage) async -> Bool) async {
        logger.notice("polling \(channels.count) mapped channels every \(interval) (INBOUND_MODE=poll)")
        while !Task.isCancelled {
            for channel in channels {
                if Task.isCancelled { return }
                await poll(channel, accept: accept)
            }
            try? await Task.sleep(for: interval)
        }
    }

    private func poll(_ channel: String, accept: @Sendable (DiscordMessage) async -> Bool) async {
        guard var cursor = await cursor(for: channel) else { return }
        let guildID = await directory.channel(channel)?.guildID
        while !Task.isCancelled {
            let page: [DiscordMessage]
            do {
                page = try await discord.perform(.messages(channel: channel, after: cursor, limit: 100), retries: .attempts(2), as: [DiscordMessage].self)
            } catch {
                if case .cancelled = error { return }
                logger.warning("polling channel \(channel) failed: \(error)")
                return
            }
            for var message in page.sorted(by: { Snowflake.isLess($0.id, $1.id) }) {
                // REST message objects carry no guild_id; without it a guild message looks like a DM.
                message.guildID = message.guildID ?? guildID
                guard await accept(message) else { return }
                cursor = message.id
            }
            _ = try? await redis.run(HSET(keys.pollCursors, fields: [(channel, cursor)]))
            if page.count < 100 { return }
        }
    }

    /// The channel's cursor; a channel polled for the first time starts now.
    private func cursor(for channel: String) async -> String? {
        do {
            try await redis.run(HSETNX(keys.pollCursors, field: channel, value: Snowflake.floor(at: Date())))
            return try await redis.run(HGET(keys.pollCursors, field: channel))
        } catch {
            logger.warning("cannot read the poll cursor of channel \(channel): \(error)")
            return nil
        }
    }
}
