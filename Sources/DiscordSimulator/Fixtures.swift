/// The fixed world every simulator starts with. Ids are constants so tests can hard-code them.
enum Fixtures {
    static let botUser = User(id: "100000000000000001", username: "connector-bot", bot: true)
    static let human = User(id: "400000000000000001", username: "alice", globalName: "Alice")
    static let otherBot = User(id: "500000000000000001", username: "other-bot", bot: true)
    static let users = [botUser, human, otherBot]

    static let guildId: Snowflake = "200000000000000001"
    static let guildName = "Sim Guild"
    static let roleId: Snowflake = "600000000000000001"

    static let generalChannelId: Snowflake = "300000000000000001"
    static let agentsChannelId: Snowflake = "300000000000000002"
    static let opsChannelId: Snowflake = "300000000000000003"
    static let threadId: Snowflake = "300000000000000010"
    static let dmChannelId: Snowflake = "300000000000000099"

    /// A fixed past instant, so fixture timestamps are deterministic too.
    static let epochTimestamp = "2024-01-01T00:00:00.000000+00:00"

    /// The REST form; GUILD_CREATE adds channels, threads and the other gateway-only fields.
    static let guild = Guild(id: guildId, name: guildName, ownerId: human.id, roles: roles)

    static let roles = [
        // Discord gives every guild an @everyone role whose id equals the guild id.
        Role(id: guildId, name: "@everyone", position: 0, permissions: "68608", mentionable: false),
        Role(id: roleId, name: "sim-role", position: 1),
    ]

    static let channels: [Channel] = [
        .guildText(id: generalChannelId, name: "general", position: 0),
        .guildText(id: agentsChannelId, name: "agents", position: 1),
        .guildText(id: opsChannelId, name: "ops", position: 2),
        Channel(
            id: threadId,
            type: .publicThread,
            guildId: guildId,
            name: "design-thread",
            parentId: agentsChannelId,
            rateLimitPerUser: 0,
            ownerId: human.id,
            threadMetadata: ThreadMetadata(archiveTimestamp: epochTimestamp),
            messageCount: 0,
            memberCount: 2
        ),
        Channel(id: dmChannelId, type: .dm, recipients: [human]),
    ]

    static func member(for user: User) -> GuildMember {
        GuildMember(roles: user.id == human.id ? [roleId] : [], joinedAt: epochTimestamp)
    }
}

extension Channel {
    /// A text channel in the simulated guild.
    static func guildText(id: Snowflake, name: String, position: Int, parentId: Snowflake? = nil) -> Channel {
        Channel(
            id: id,
            type: .guildText,
            guildId: Fixtures.guildId,
            name: name,
            position: position,
            parentId: parentId,
            nsfw: false,
            rateLimitPerUser: 0
        )
    }
}
