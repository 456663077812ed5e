import ArgumentParser
import Foundation
import Shared

/// `connector commands`: the slash command Discord shows for the bot.
struct Commands: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commands",
        abstract: "List or register the bot's slash commands (SLASH_COMMAND, COMMANDS_GUILD_ID).",
        subcommands: [List.self, Sync.self]
    )

    /// The Discord client and the application, from the configuration and the token.
    static func registrar(_ context: BusContext) async throws -> (CommandRegistrar, String) {
        guard let token = context.config.discordToken else {
            throw ConfigError(variable: "DISCORD_BOT_TOKEN", problem: "required to read or register commands (set it in the environment or .env)")
        }
        let limiter = SharedRateLimiter(redis: context.redis, settings: .init(globalPerSecond: context.config.globalRateLimit), logger: quietLogger)
        let discord = DiscordClient(apiBase: context.config.apiBase, token: token, limiter: limiter, logger: quietLogger)
        let application = try await discord.perform(.currentUser, retries: .attempts(3), as: DiscordUser.self).id
        let scope = context.config.commandsGuildID.map { "guild \($0)" } ?? "global"
        return (CommandRegistrar(discord: discord, applicationID: application, guildID: context.config.commandsGuildID), scope)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The commands Discord has registered for the bot.")
        @OptionGroup var options: ConfigOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await reportingErrors("commands list") {
                let context = try BusContext(options)
                let (registrar, scope) = try await Commands.registrar(context)
                let registered = try await registrar.registered()
                if json { return try printJSON(registered) }
                var table = TextTable(["command", "scope", "options"])
                for command in registered {
                    table.add(["/" + command.name, scope, command.options.map { $0.name + ($0.required == true ? "" : "?") }.joined(separator: " ")])
                }
                print(registered.isEmpty ? "no commands registered (\(scope))" : table.rendered)
            }
        }
    }

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Register the configured slash command, unless Discord already has it as configured.")
        @OptionGroup var options: ConfigOptions

        func run() async throws {
            try await reportingErrors("commands sync") {
                let context = try BusContext(options)
                let (registrar, scope) = try await Commands.registrar(context)
                let wanted = CommandRegistrar.commands(for: context.config)
                switch try await registrar.sync(wanted) {
                case .unchanged: print("unchanged: Discord already has \(wanted.map { "/" + $0.name }.joined(separator: ", ").nonEmpty ?? "no commands") (\(scope))")
                case .registered(let count): print("registered \(count) command(s) (\(scope)): \(wanted.map { "/" + $0.name }.joined(separator: ", "))")
                }
            }
        }
    }
}

extension String {
    var nonEmpty: String? { isEmpty ? nil : self }
}
