import Logging
import Shared

/// What Ingest knows about channels: names for the agent's text and, for threads, the parent
/// channel whose mapping they inherit. Filled from GUILD_CREATE and channel/thread events;
/// a channel not seen that way is fetched once over REST.
actor ChannelDirectory {
    private var channels: [String: DiscordChannel] = [:]
    private var guildNames: [String: String] = [:]
    private let rest: DiscordREST
    private let logger: Logger

    init(rest: DiscordREST, logger: Logger) {
        self.rest = rest
        self.logger = logger
    }

    func add(guild: DiscordGuild) {
        if let name = guild.name { guildNames[guild.id] = name }
        for channel in (guild.channels ?? []) + (guild.threads ?? []) {
            var channel = channel
            channel.guildID = channel.guildID ?? guild.id
            channels[channel.id] = channel
        }
    }

    func add(channel: DiscordChannel) { channels[channel.id] = channel }

    func remove(channelID: String) { channels[channelID] = nil }

    func guildName(_ id: String) -> String { guildNames[id] ?? "" }

    /// The channel, from the cache or from Discord; nil when Discord does not know it either.
    func channel(_ id: String) async -> DiscordChannel? {
        if let channel = channels[id] { return channel }
        do {
            let channel = try await rest.channel(id)
            channels[id] = channel
            return channel
        } catch {
            logger.warning("cannot look up channel \(id): \(error)")
            return nil
        }
    }
}
