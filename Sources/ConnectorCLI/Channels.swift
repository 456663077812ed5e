import ArgumentParser
import Foundation
import Shared

struct Channels: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The channels the connector knows by name; create a text channel.",
        subcommands: [List.self, Create.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Channels learned by Ingest (discord:channels) and names pinned in CHANNELS_FILE."
        )

        @OptionGroup var options: ConfigOptions
        @Flag(help: "Print a JSON object.") var json = false

        struct Output: Encodable {
            var channels: [ChannelCatalog.Entry]
            var pinned: [String: String]
        }

        func run() async throws {
            try await reportingErrors("channels list") {
                let context = try BusContext(options)
                let catalog = try await ChannelCatalog.load(redis: context.redis, keys: context.keys, pinnedFile: context.config.channelsFile)
                let entries = catalog.entries.sorted { ($0.guildID ?? "", $0.parentID ?? "", $0.name, $0.id) < ($1.guildID ?? "", $1.parentID ?? "", $1.name, $1.id) }
                if json {
                    try printJSON(Output(channels: entries, pinned: catalog.pinned))
                    return
                }
                if entries.isEmpty && catalog.pinned.isEmpty {
                    print("No channels known yet: Ingest records them in \(context.keys.channels) when it connects; names can also be pinned in CHANNELS_FILE.")
                    return
                }
                let names = Dictionary(entries.map { ($0.id, $0.name) }, uniquingKeysWith: { first, _ in first })
                var table = TextTable(["ID", "NAME", "TYPE", "GUILD", "PARENT"])
                for entry in entries {
                    let parent = entry.parentID.map { id in names[id].map { "\($0) (\(id))" } ?? id } ?? ""
                    table.add([entry.id, "#" + entry.name, Self.typeName(entry.type), entry.guildID ?? "", parent])
                }
                if !entries.isEmpty { print(table.rendered) }
                if !catalog.pinned.isEmpty {
                    if !entries.isEmpty { print("") }
                    print("Pinned in CHANNELS_FILE (these win over learned names):")
                    var pinned = TextTable(["NAME", "ID"])
                    for (name, id) in catalog.pinned.sorted(by: { $0.key < $1.key }) { pinned.add(["#" + name, id]) }
                    print(pinned.rendered)
                }
            }
        }

        static func typeName(_ type: Int) -> String {
            switch type {
            case 0: return "text"
            case 2: return "voice"
            case 4: return "category"
            case 5: return "announcement"
            case 10: return "announcement-thread"
            case 11: return "thread"
            case 12: return "private-thread"
            case 13: return "stage"
            case 15: return "forum"
            case 16: return "media"
            default: return "type \(type)"
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a text channel (POST /guilds/{guild}/channels); prints its id.",
            discussion: """
            Needs DISCORD_BOT_TOKEN and the bot's Manage Channels permission. The guild is --guild, \
            or the only guild in the channel catalog.
            """
        )

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The new channel's name.") var name: String
        @Option(help: ArgumentHelp("The category (parent channel) id to create it in.", valueName: "id")) var category: String?
        @Option(help: ArgumentHelp("The guild id (default: the only guild the connector has seen).", valueName: "id")) var guild: String?
        @Flag(help: "Print the created channel as JSON.") var json = false

        /// The name without surrounding spaces or a leading `#`.
        var channelName: String {
            let trimmed = name.trimmingCharacters(in: .whitespaces)
            return trimmed.hasPrefix("#") ? String(trimmed.dropFirst()) : trimmed
        }

        func validate() throws {
            guard (1...100).contains(channelName.count) else { throw ValidationError("a channel name has 1 to 100 characters") }
            for (label, value) in [("--category", category), ("--guild", guild)] {
                if let value, value.isEmpty || !value.allSatisfy(isDigit) {
                    throw ValidationError("\(label) takes a Discord id (digits only)")
                }
            }
        }

        struct Body: Encodable {
            var name: String
            var type = 0
            var parentID: String?

            enum CodingKeys: String, CodingKey {
                case name, type
                case parentID = "parent_id"
            }
        }

        func run() async throws {
            try await reportingErrors("channels create") {
                let context = try BusContext(options)
                guard let token = context.config.discordToken else {
                    throw ConfigError(variable: "DISCORD_BOT_TOKEN", problem: "required to create a channel (set it in the environment or .env)")
                }
                let guildID = try await resolveGuild(context)
                // Through the shared rate limiter, like every request the bot makes.
                let limiter = SharedRateLimiter(redis: context.redis, settings: .init(globalPerSecond: context.config.globalRateLimit), logger: quietLogger)
                let discord = DiscordClient(apiBase: context.config.apiBase, token: token, limiter: limiter, logger: quietLogger)
                let body = Body(name: channelName, parentID: category)
                var created = try await discord.perform(.createChannel(guild: guildID, body), retries: .attempts(3), as: DiscordChannel.self)
                created.guildID = created.guildID ?? guildID
                // Known by name at once, for `connector send`; Ingest records the same on CHANNEL_CREATE.
                if let entry = ChannelCatalog.Entry(created), let text = try? JSON.encodeString(entry) {
                    do {
                        try await context.redis.run(HSET(context.keys.channels, fields: [(created.id, text)]))
                    } catch {
                        printError("connector channels create: created, but cannot record it in \(context.keys.channels): \(explain(error))")
                    }
                }
                if json {
                    try printJSON(created)
                } else {
                    print(created.id)
                    printError("created #\(created.name ?? body.name) in guild \(guildID)" + (category.map { " under category \($0)" } ?? ""))
                }
            }
        }

        private func resolveGuild(_ context: BusContext) async throws -> String {
            if let guild { return guild }
            let catalog: ChannelCatalog
            do {
                catalog = try await ChannelCatalog.load(redis: context.redis, keys: context.keys, pinnedFile: nil)
            } catch {
                throw CLIError("cannot read the channel catalog to find the guild (\(explain(error))); pass --guild ID")
            }
            let guilds = Set(catalog.entries.compactMap(\.guildID)).sorted()
            switch guilds.count {
            case 1: return guilds[0]
            case 0: throw CLIError("no guild known yet (Ingest records channels in \(context.keys.channels) when it connects); pass --guild ID")
            default: throw CLIError("the connector is in several guilds (\(guilds.joined(separator: ", "))); pass --guild ID")
            }
        }
    }
}
