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

    /// The fixed guild's one custom emoji, `shipit:700000000000000001` in a reaction route.
    static let customEmojiId: Snowflake = "700000000000000001"
    static let customEmojiName = "shipit"
    static let customEmoji: JSONValue = .object([
        "id": .string(customEmojiId), "name": .string(customEmojiName), "roles": .array([]),
        "require_colons": .bool(true), "managed": .bool(false), "animated": .bool(false), "available": .bool(true),
    ])

    /// The REST form; GUILD_CREATE adds channels, threads and the other gateway-only fields.
    static let guild = Guild(id: guildId, name: guildName, ownerId: human.id, roles: roles, emojis: [customEmoji])

    static let roles = [everyoneRole(of: guildId), Role(id: roleId, name: "sim-role", position: 1)]

    /// Discord gives every guild an @everyone role whose id equals the guild id.
    static func everyoneRole(of guildId: Snowflake) -> Role {
        Role(id: guildId, name: "@everyone", position: 0, permissions: "68608", mentionable: false)
    }

    // MARK: Extra guilds (`--guilds N`)

    /// Extra guild `k` (from 1). Consecutive values of `id >> 22` spread the guilds over
    /// shards by Discord's `(guild_id >> 22) % num_shards`.
    static func extraGuildId(_ k: Int) -> Snowflake {
        String(UInt64(1_000_000 + k) << 22)
    }

    static func extraGuild(_ k: Int) -> Guild {
        let id = extraGuildId(k)
        return Guild(id: id, name: "\(guildName) \(k)", ownerId: human.id, roles: [everyoneRole(of: id)])
    }

    /// Extra guild `k`'s only channel.
    static func extraGeneralChannel(_ k: Int) -> Channel {
        .guildText(id: String(310_000_000_000_000_000 + k), name: "general-\(k)", position: 0, guildId: extraGuildId(k))
    }

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

    /// Every fixture user is a member of every guild; only the human holds a role, in the fixed guild.
    static func member(for user: User, in guildId: Snowflake) -> GuildMember {
        GuildMember(roles: user.id == human.id && guildId == Fixtures.guildId ? [roleId] : [], joinedAt: epochTimestamp)
    }
}

extension Channel {
    /// A text channel, by default in the fixed guild.
    static func guildText(
        id: Snowflake,
        name: String,
        position: Int,
        parentId: Snowflake? = nil,
        guildId: Snowflake = Fixtures.guildId
    ) -> Channel {
        Channel(
            id: id,
            type: .guildText,
            guildId: guildId,
            name: name,
            position: position,
            parentId: parentId,
            nsfw: false,
            rateLimitPerUser: 0
        )
    }
}
