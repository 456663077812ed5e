import Foundation
import Logging

/// The connector's slash command (`/ask` by default, `SLASH_COMMAND`) and its registration: a
/// bulk overwrite, sent only when what Discord has differs from what the configuration says,
/// so that restarts do not re-register (Discord rate-limits command creation per day).
public struct CommandRegistrar: Sendable {
    /// An application command as the connector defines and compares it.
    public struct Command: Codable, Sendable, Equatable {
        public var name: String
        public var description: String
        /// 1: CHAT_INPUT (a slash command).
        public var type: Int = 1
        public var options: [Option]

        public struct Option: Codable, Sendable, Equatable {
            /// 3: STRING.
            public var type: Int
            public var name: String
            public var description: String
            public var required: Bool?
            public var choices: [Choice]?
        }

        public struct Choice: Codable, Sendable, Equatable {
            public var name: String
            public var value: String
        }

        enum CodingKeys: String, CodingKey { case name, description, type, options }

        public init(name: String, description: String, options: [Option]) {
            self.name = name
            self.description = description
            self.options = options
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            description = try container.decodeIfPresent(String.self, forKey: .description) ?? ""
            type = try container.decodeIfPresent(Int.self, forKey: .type) ?? 1
            options = try container.decodeIfPresent([Option].self, forKey: .options) ?? []
        }

        /// The same command for comparison: Discord omits `required: false` and empty choices.
        var normalised: Command {
            var copy = self
            copy.options = options.map { option in
                var option = option
                if option.required == false { option.required = nil }
                if option.choices?.isEmpty == true { option.choices = nil }
                return option
            }
            return copy
        }
    }

    /// The commands the configuration wants registered: none without `SLASH_COMMAND`.
    public static func commands(for config: ConnectorConfig) -> [Command] {
        guard !config.slashCommand.isEmpty else { return [] }
        // Discord allows at most 25 choices; with more agents, any name may be typed.
        let agents = config.router.knownAgents
        let choices = agents.count <= 25 ? agents.map { Command.Choice(name: $0, value: $0) } : nil
        return [Command(name: config.slashCommand, description: "Ask an agent", options: [
            .init(type: 3, name: "prompt", description: "What to ask", required: true, choices: nil),
            .init(type: 3, name: "agent", description: "Which agent answers (default: the channel's)", required: false, choices: choices),
        ])]
    }

    /// Whether Discord's commands already match (order and Discord's own fields aside).
    public static func matches(registered: [Command], wanted: [Command]) -> Bool {
        let sortedRegistered = registered.map(\.normalised).sorted { $0.name < $1.name }
        let sortedWanted = wanted.map(\.normalised).sorted { $0.name < $1.name }
        return sortedRegistered == sortedWanted
    }

    public enum Outcome: Sendable, Equatable {
        case unchanged
        case registered(Int)
    }

    let discord: DiscordClient
    let applicationID: String
    /// `COMMANDS_GUILD_ID`: register in one guild (instant updates, for development) instead of globally.
    let guildID: String?

    public init(discord: DiscordClient, applicationID: String, guildID: String?) {
        self.discord = discord
        self.applicationID = applicationID
        self.guildID = guildID
    }

    public func registered() async throws(DiscordFailure) -> [Command] {
        try await discord.perform(.commands(applicationID: applicationID, guildID: guildID), as: [Command].self)
    }

    /// Overwrites the registered commands with `wanted` unless they already match.
    public func sync(_ wanted: [Command]) async throws(DiscordFailure) -> Outcome {
        if Self.matches(registered: try await registered(), wanted: wanted) { return .unchanged }
        let stored = try await discord.perform(.overwriteCommands(applicationID: applicationID, guildID: guildID, wanted), as: [Command].self)
        return .registered(stored.count)
    }
}
