import Logging
import Shared

/// What Ingest knows about channels: names for the agent's text and, for threads, the parent
/// channel whose mapping they inherit. Filled from GUILD_CREATE and channel/thread events;
/// a channel not seen that way is fetched once over REST.
actor ChannelDirectory {
    private var channels: [String: DiscordChannel] = [:]
    private var guildNames: [String: String] = [:]
    private let discord: DiscordClient
    private let redis: RedisClient
    private let keys: BusKeys
    private let logger: Logger

    init(discord: DiscordClient, redis: RedisClient, keys: BusKeys, logger: Logger) {
        self.discord = discord
        self.redis = redis
        self.keys = keys
        self.logger = logger
    }

    func add(guild: DiscordGuild) async {
        if let name = guild.name { guildNames[guild.id] = name }
        var learned: [DiscordChannel] = []
        for channel in (guild.channels ?? []) + (guild.threads ?? []) {
            var channel = channel
            channel.guildID = channel.guildID ?? guild.id
            channels[channel.id] = channel
            learned.append(channel)
        }
        await publish(learned)
    }

    func add(channel: DiscordChannel) async {
        channels[channel.id] = channel
        await publish([channel])
    }

    func remove(channelID: String) async {
        channels[channelID] = nil
        _ = try? await redis.run(HDEL(keys.channels, fields: [channelID]))
    }

    /// Shares what was learned in `discord:channels`, where the Replier, the CLI and the MCP
    /// server resolve channel names. Best effort: names are learned again on the next event.
    private func publish(_ learned: [DiscordChannel]) async {
        let fields = learned.compactMap { channel -> (String, String)? in
            guard let entry = ChannelCatalog.Entry(channel), let json = try? JSON.encodeString(entry) else { return nil }
            return (channel.id, json)
        }
        guard !fields.isEmpty else { return }
        do {
            try await redis.run(HSET(keys.channels, fields: StreamFields(fields)))
        } catch {
            logger.warning("cannot publish \(fields.count) channel names: \(error)")
        }
    }

    func guildName(_ id: String) -> String { guildNames[id] ?? "" }

    /// The channel, from the cache or from Discord; nil when Discord does not know it either.
    func channel(_ id: String) async -> DiscordChannel? {
        if let channel = channels[id] { return channel }
        do {
            let channel = try await discord.perform(.channel(id), as: DiscordChannel.self)
            channels[id] = channel
            await publish([channel])
            return channel
        } catch {
            logger.warning("cannot look up channel \(id): \(error)")
            return nil
        }
    }
}
