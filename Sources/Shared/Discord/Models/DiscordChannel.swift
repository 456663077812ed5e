/// The parts of Discord's channel object the connector reads.
public struct DiscordChannel: Codable, Sendable, Equatable {
    public var id: String
    public var type: Int
    public var guildID: String?
    public var name: String?
    /// For a thread, the channel it lives in.
    public var parentID: String?

    public init(id: String, type: Int, guildID: String? = nil, name: String? = nil, parentID: String? = nil) {
        self.id = id
        self.type = type
        self.guildID = guildID
        self.name = name
        self.parentID = parentID
    }

    enum CodingKeys: String, CodingKey {
        case id, type, name
        case guildID = "guild_id"
        case parentID = "parent_id"
    }

    /// Discord's thread channel types: announcement (10), public (11) and private (12) threads.
    public var isThread: Bool { (10...12).contains(type) }
}

/// A GUILD_CREATE payload: the guild with its channels and active threads.
public struct DiscordGuild: Codable, Sendable {
    public var id: String
    public var name: String?
    public var unavailable: Bool?
    public var channels: [DiscordChannel]?
    public var threads: [DiscordChannel]?
}
