import Foundation

/// What the connector does with an interaction, as a pure decision: answer a PING, refuse it
/// (an ephemeral message, nothing on the bus), or accept it as a request for an agent, to be
/// deferred ("thinking...") and written to the bus. Shared by the Interactions Endpoint and,
/// later, the gateway path, so both route alike.
public struct InteractionIntake: Sendable {
    public let router: AgentRouter
    public let allowlist: Allowlist
    /// `SLASH_COMMAND`; empty: no command is the connector's.
    public let slashCommand: String

    /// Discord's interaction tokens are valid for 15 minutes.
    public static let tokenLifetime: TimeInterval = 15 * 60

    public init(router: AgentRouter, allowlist: Allowlist, slashCommand: String) {
        self.router = router
        self.allowlist = allowlist
        self.slashCommand = slashCommand
    }

    public init(config: ConnectorConfig) {
        self.init(router: config.router, allowlist: config.allowlist, slashCommand: config.slashCommand)
    }

    public enum Decision: Sendable, Equatable {
        case pong
        /// Answer with this ephemeral text; nothing reaches an agent.
        case refuse(String)
        /// Defer, and deliver `message` (with how to answer it) to its agent.
        case accept(InboundMessage, PendingContext.InteractionReply)
    }

    public func decide(_ interaction: Interaction, requestID: String = UUID().uuidString.lowercased(), now: Date = Date()) -> Decision {
        switch interaction.kind {
        case .ping?:
            return .pong
        case .applicationCommand?:
            return command(interaction, requestID: requestID, now: now)
        case .messageComponent?:
            // Buttons and selects on agents' replies come with the rich replies of CONTRACT
            // section 6; until then no component is the connector's.
            return .refuse("This button is not active any more.")
        default:
            return .refuse("The connector does not handle this kind of interaction.")
        }
    }

    private func command(_ interaction: Interaction, requestID: String, now: Date) -> Decision {
        guard !slashCommand.isEmpty, interaction.data?.name == slashCommand else {
            return .refuse("This command is not the connector's (it answers /\(slashCommand.isEmpty ? "nothing" : slashCommand)).")
        }
        guard let actor = interaction.actor, let channelID = interaction.channelID ?? interaction.channel?.id else {
            return .refuse("The connector could not tell who asked, or where.")
        }
        // In a thread, the parent channel decides the mapping and the allowlists, as for messages.
        var channel = channelID
        var thread = ""
        if let partial = interaction.channel, partial.isThread, let parent = partial.parentID {
            channel = parent
            thread = partial.id
        }
        if allowlist.refusal(guildID: interaction.guildID, channelID: channel, threadID: thread, authorID: actor.id) != nil {
            return .refuse("You cannot ask the agents here.")
        }
        let prompt = interaction.option("prompt")?.trimmingWhitespace() ?? ""
        guard !prompt.isEmpty else { return .refuse("Say what to ask: /\(slashCommand) prompt: <your question>.") }
        let requested = interaction.option("agent")?.trimmingWhitespace() ?? ""
        if !requested.isEmpty, !router.isKnownAgent(requested) {
            return .refuse("There is no agent called \(requested.prefix(64)); choose one of \(router.knownAgents.joined(separator: ", ")).")
        }
        var message = InboundMessage(
            requestID: requestID,
            kind: .command,
            guildID: interaction.guildID ?? "",
            channelID: channel,
            threadID: thread,
            // The interaction's id: unique like a message id, it is what makes a repeat a duplicate.
            messageID: interaction.id,
            authorID: actor.id,
            authorName: interaction.member?.nick ?? actor.displayName,
            content: prompt,
            timestamp: ISO8601.string(now),
            channelName: interaction.channel?.name ?? ""
        )
        message.command = slashCommand
        message.requestedAgent = requested
        let reply = PendingContext.InteractionReply(
            applicationID: interaction.applicationID, token: interaction.token,
            expiresAtMilliseconds: Int((now.timeIntervalSince1970 + Self.tokenLifetime) * 1000)
        )
        return .accept(message, reply)
    }
}
