import Foundation
import HTTPTypes

/// Bot messages with components: editing a channel message, and a user clicking a component
/// (the control API), which makes a MESSAGE_COMPONENT interaction like `POST /_sim/interactions`.
extension World {
    /// `PATCH /channels/{channel.id}/messages/{message.id}`: the bot edits one of its messages.
    func editChannelMessage(
        channelId: Snowflake,
        messageId: Snowflake,
        body parsed: Result<InteractionMessageBody, DiscordAPIError>,
        now: Date = Date()
    ) throws(DiscordAPIError) -> Message {
        guard channels[channelId] != nil else { throw .unknownChannel }
        guard let target = message(messageId, in: channelId) else { throw .unknownMessage }
        guard target.author.id == Fixtures.botUser.id else { throw .cannotEditOthersMessage }
        return try edit(target, with: try parsed.get(), at: now)
    }

    /// `POST /_sim/messages/{id}/click`: finds the message in any channel and the component
    /// on it, checks it can be used that way, and creates the interaction.
    func click(messageId: Snowflake, _ request: ClickRequest, now: Date = Date()) throws(DiscordAPIError) -> CreatedInteraction {
        guard let message = messageAnywhere(messageId) else { throw .unknownMessage }
        guard request.customId != nil || request.label != nil else {
            throw Self.controlError(.badRequest, "custom_id or label is required")
        }
        guard let component = MessageComponents.find(in: message.components ?? [], customId: request.customId, label: request.label) else {
            let name = request.customId.map { "custom_id '\($0)'" } ?? "label '\(request.label ?? "")'"
            throw Self.controlError(.notFound, "Message \(messageId) has no component with \(name)")
        }
        guard !component.isLinkButton else {
            throw Self.controlError(.badRequest, "A link button opens its url; it makes no interaction")
        }
        guard !component.isDisabled else {
            throw Self.controlError(.badRequest, "The component is disabled")
        }
        var values: [String]?
        if component.type == MessageComponents.stringSelect {
            let chosen = request.values ?? []
            let unknown = chosen.filter { !component.optionValues.contains($0) }
            guard unknown.isEmpty else {
                throw Self.controlError(.badRequest, "values \(unknown) are not among the select's options \(component.optionValues)")
            }
            guard Set(chosen).count == chosen.count, (component.minValues...max(component.minValues, component.maxValues)).contains(chosen.count) else {
                throw Self.controlError(.badRequest, "The select takes \(component.minValues)-\(component.maxValues) distinct values, got \(chosen.count)")
            }
            values = chosen
        } else if request.values != nil {
            throw Self.controlError(.badRequest, "values are only for select menus")
        }
        var create = CreateInteractionRequest()
        create.type = Interaction.Kind.messageComponent.rawValue
        create.channelId = message.channelId
        create.userId = request.userId
        create.customId = component.customId
        create.componentType = component.type
        create.values = values
        create.messageId = message.id
        create.deliver = request.deliver
        return try createInteraction(create, now: now)
    }

    /// A message in any channel's history, or an (ephemeral) interaction message.
    private func messageAnywhere(_ id: Snowflake) -> Message? {
        if let found = interactions.messages[id] { return anyMessage(id, in: found.channelId) }
        for channelId in history.keys {
            if let found = message(id, in: channelId) { return found }
        }
        return nil
    }

    private static func controlError(_ status: HTTPResponse.Status, _ message: String) -> DiscordAPIError {
        DiscordAPIError(status: status, body: .init(message: message, code: 0))
    }
}

extension DiscordAPIError {
    static let cannotEditOthersMessage = DiscordAPIError(status: .forbidden, body: Body(message: "Cannot edit a message authored by another user", code: 50005))
}
