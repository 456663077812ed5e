import Foundation

/// What the connector does with an interaction, as a pure decision: answer a PING, refuse it
/// (an ephemeral message, nothing on the bus), or accept it as a request for an agent, to be
/// deferred ("thinking...") and written to the bus, or a click on components the connector
/// signed, to be acknowledged and resolved to its agent (`ComponentClick`). Shared by the
/// Interactions Endpoint and the gateway path, so both route alike.
public struct InteractionIntake: Sendable {
    public let router: AgentRouter
    public let allowlist: Allowlist
    /// `SLASH_COMMAND`; empty: no command is the connector's.
    public let slashCommand: String
    /// Verifies the `custom_id`s of clicks; nil: no click is the connector's.
    public let componentSigner: ComponentIDSigner?

    /// What a person is told who clicks buttons whose set expired (both paths say it).
    public static let expiredComponents = "These buttons have expired: the agent is no longer waiting for an answer here."

    /// Discord's interaction tokens are valid for 15 minutes.
    public static let tokenLifetime: TimeInterval = 15 * 60

    public init(router: AgentRouter, allowlist: Allowlist, slashCommand: String, componentSigner: ComponentIDSigner?) {
        self.router = router
        self.allowlist = allowlist
        self.slashCommand = slashCommand
        self.componentSigner = componentSigner
    }

    /// `signingKey`: the deployment's ctx signing key (`CtxSigner.resolveKey`).
    public init(config: ConnectorConfig, signingKey: String?) {
        self.init(router: config.router, allowlist: config.allowlist, slashCommand: config.slashCommand, componentSigner: signingKey.map(ComponentIDSigner.init(key:)))
    }

    public enum Decision: Sendable, Equatable {
        case pong
        /// Answer with this ephemeral text; nothing reaches an agent.
        case refuse(String)
        /// Defer, and deliver `message` (with how to answer it) to its agent.
        case accept(InboundMessage, PendingContext.InteractionReply)
        /// Acknowledge (a deferred update), then resolve the click to its agent and deliver it.
        case click(ComponentClick)

        /// The answer Discord gets: a PONG, the refusal, "thinking..." for a request, or a
        /// deferred update (nothing visible changes) for a click.
        public var response: InteractionResponse {
            switch self {
            case .pong: .pong
            case .refuse(let text): .ephemeral(text)
            case .accept: .deferred
            case .click: .deferredUpdate
            }
        }
    }

    public func decide(_ interaction: Interaction, requestID: String = UUID().uuidString.lowercased(), now: Date = Date()) -> Decision {
        switch interaction.kind {
        case .ping?:
            return .pong
        case .applicationCommand?:
            return command(interaction, requestID: requestID, now: now)
        case .messageComponent?:
            return click(interaction, requestID: requestID, now: now)
        default:
            return .refuse("The connector does not handle this kind of interaction.")
        }
    }

    /// Who acted, and where (a thread's parent channel deciding the mapping and the allowlists,
    /// as for messages); a refusal when the interaction does not say, or the allowlists refuse.
    private func place(_ interaction: Interaction) -> Result<(actor: DiscordUser, channel: String, thread: String), Refusal> {
        guard let actor = interaction.actor, let channelID = interaction.channelID ?? interaction.channel?.id else {
            return .failure(Refusal(text: "The connector could not tell who asked, or where."))
        }
        var channel = channelID
        var thread = ""
        if let partial = interaction.channel, partial.isThread, let parent = partial.parentID {
            channel = parent
            thread = partial.id
        }
        if allowlist.refusal(guildID: interaction.guildID, channelID: channel, threadID: thread, authorID: actor.id) != nil {
            return .failure(Refusal(text: "You cannot ask the agents here."))
        }
        return .success((actor, channel, thread))
    }

    private struct Refusal: Error {
        var text: String
    }

    private func reply(to interaction: Interaction, now: Date) -> PendingContext.InteractionReply {
        PendingContext.InteractionReply(
            applicationID: interaction.applicationID, token: interaction.token,
            expiresAtMilliseconds: Int((now.timeIntervalSince1970 + Self.tokenLifetime) * 1000)
        )
    }

    private func click(_ interaction: Interaction, requestID: String, now: Date) -> Decision {
        // A component the connector did not sign (or one tampered with) is nobody's.
        guard let signed = interaction.data?.customID, let target = componentSigner?.verify(signed),
              let clicked = interaction.message?.id else {
            return .refuse("This button is not one the connector can deliver.")
        }
        let actor: DiscordUser, channel: String, thread: String
        switch place(interaction) {
        case .success(let found): (actor, channel, thread) = found
        case .failure(let refusal): return .refuse(refusal.text)
        }
        var message = InboundMessage(
            requestID: requestID,
            kind: .component,
            guildID: interaction.guildID ?? "",
            channelID: channel,
            threadID: thread,
            messageID: clicked,
            authorID: actor.id,
            authorName: interaction.member?.nick ?? actor.displayName,
            content: "",
            timestamp: ISO8601.string(now),
            channelName: interaction.channel?.name ?? ""
        )
        message.interactionID = interaction.id
        message.values = "[]"
        if let values = interaction.data?.values, let encoded = try? JSON.encodeString(values) {
            message.values = encoded
        }
        return .click(ComponentClick(target: target, message: message, reply: reply(to: interaction, now: now)))
    }

    private func command(_ interaction: Interaction, requestID: String, now: Date) -> Decision {
        guard !slashCommand.isEmpty, interaction.data?.name == slashCommand else {
            return .refuse("This command is not the connector's (it answers /\(slashCommand.isEmpty ? "nothing" : slashCommand)).")
        }
        let actor: DiscordUser, channel: String, thread: String
        switch place(interaction) {
        case .success(let found): (actor, channel, thread) = found
        case .failure(let refusal): return .refuse(refusal.text)
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
        message.interactionID = interaction.id
        return .accept(message, reply(to: interaction, now: now))
    }
}

/// A click on a component the connector signed: the request it becomes once the component's
/// set is found (`ComponentContext`), which names the agent that posted it and its own id.
public struct ComponentClick: Sendable, Equatable {
    public var target: ComponentIDSigner.Target
    /// The click as a request, still without its agent and the agent's id.
    public var message: InboundMessage
    public var reply: PendingContext.InteractionReply

    /// The request for the agent that posted the set; nil when the set does not hold the
    /// clicked place (a set rewritten since, which a valid signature makes all but impossible).
    public func resolved(with context: ComponentContext) -> InboundMessage? {
        guard context.items.indices.contains(target.index) else { return nil }
        var message = message
        message.requestedAgent = context.agent
        message.customID = context.items[target.index].customID
        message.componentLabel = context.items[target.index].label
        message.answersRequest = context.answersRequest
        return message
    }
}
