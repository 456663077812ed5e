/// What a Discord message becomes once Ingest accepts it; Ingest writes it to `discord:inbound`
/// and the Dispatcher turns it into an `AgentInboxRecord`.
public struct InboundMessage: StreamRecord {
    public enum Kind: String, Sendable, CaseIterable {
        case mention, dm, channel
        /// A slash command (`/ask`): `content` is its prompt.
        case command
        /// A click on a button or a choice in a select the agent posted: `custom_id`, `values`,
        /// `answers_request`; `message_id` is the clicked message.
        case component
        /// A Discord reply to a message an agent posted: `replied_message_id`, for that agent.
        case reply
    }

    public var requestID: String
    public var kind: Kind
    public var guildID: String
    /// The channel, or for a thread message the thread's parent channel.
    public var channelID: String
    /// The thread's id; empty outside threads.
    public var threadID: String
    public var messageID: String
    public var authorID: String
    public var authorName: String
    /// The raw Discord text.
    public var content: String
    /// ISO-8601 time of the Discord message.
    public var timestamp: String
    /// Human-friendly names for the agent's text; empty when unknown.
    public var channelName: String
    public var guildName: String
    /// `kind=command`: the command's name (`ask`); empty otherwise.
    public var command: String = ""
    /// `kind=command`: the agent the person named (the command's `agent` option); empty for none.
    public var requestedAgent: String = ""
    /// An interaction's id (commands and clicks): what makes a repeat a duplicate.
    public var interactionID: String = ""
    /// `kind=component`: the agent's own id of what was clicked, the label people saw, a select's
    /// chosen values (a JSON array, `[]` for a button), and the request whose reply carried the components (empty
    /// when they came with a message sent without a request).
    public var customID: String = ""
    public var componentLabel: String = ""
    public var values: String = ""
    public var answersRequest: String = ""

    /// `kind=reply`: the agent's message the person replied to.
    public var repliedMessageID: String = ""

    /// CONTRACT section 8: the message's files (`attachments`, a JSON array; `[]` for none).
    public var attachments: [DiscordMessage.Attachment] = []

    /// The id a repeat of this event shares: the interaction's, else the message's.
    public var dedupeID: String { interactionID.isEmpty ? messageID : interactionID }

    public init(
        requestID: String, kind: Kind, guildID: String, channelID: String, threadID: String,
        messageID: String, authorID: String, authorName: String, content: String, timestamp: String,
        channelName: String = "", guildName: String = ""
    ) {
        self.requestID = requestID
        self.kind = kind
        self.guildID = guildID
        self.channelID = channelID
        self.threadID = threadID
        self.messageID = messageID
        self.authorID = authorID
        self.authorName = authorName
        self.content = content
        self.timestamp = timestamp
        self.channelName = channelName
        self.guildName = guildName
    }

    /// Where a reply goes: the thread when there is one, else the channel.
    public var replyChannelID: String { threadID.isEmpty ? channelID : threadID }

    public var fields: [(String, String)] {
        [
            ("request_id", requestID), ("kind", kind.rawValue), ("guild_id", guildID),
            ("channel_id", channelID), ("thread_id", threadID), ("message_id", messageID),
            ("author_id", authorID), ("author_name", authorName), ("content", content),
            ("ts", timestamp), ("channel_name", channelName), ("guild_name", guildName),
        ] + (command.isEmpty ? [] : [("command", command)]) + (requestedAgent.isEmpty ? [] : [("requested_agent", requestedAgent)])
            + [("attachments", (try? JSON.encodeString(attachments)) ?? "[]")]
            + (repliedMessageID.isEmpty ? [] : [("replied_message_id", repliedMessageID)])
            + (interactionID.isEmpty ? [] : [("interaction_id", interactionID)])
            + (kind == .component
                ? [("custom_id", customID), ("component_label", componentLabel), ("values", values), ("answers_request", answersRequest)]
                : [])
    }

    public init(fields: StreamFields) throws(RecordError) {
        let name = "inbound message"
        let rawKind = try fields.required("kind", in: name)
        guard let kind = Kind(rawValue: rawKind) else { throw RecordError("\(name) has unknown kind '\(rawKind)'") }
        self.init(
            requestID: try fields.required("request_id", in: name),
            kind: kind,
            guildID: fields["guild_id"] ?? "",
            channelID: try fields.required("channel_id", in: name),
            threadID: fields["thread_id"] ?? "",
            messageID: try fields.required("message_id", in: name),
            authorID: try fields.required("author_id", in: name),
            authorName: fields["author_name"] ?? "",
            content: fields["content"] ?? "",
            timestamp: fields["ts"] ?? "",
            channelName: fields["channel_name"] ?? "",
            guildName: fields["guild_name"] ?? ""
        )
        command = fields["command"] ?? ""
        requestedAgent = fields["requested_agent"] ?? ""
        interactionID = fields["interaction_id"] ?? ""
        repliedMessageID = fields["replied_message_id"] ?? ""
        attachments = fields["attachments"].flatMap { try? JSON.decode([DiscordMessage.Attachment].self, from: $0) } ?? []
        customID = fields["custom_id"] ?? ""
        componentLabel = fields["component_label"] ?? ""
        values = fields["values"] ?? ""
        answersRequest = fields["answers_request"] ?? ""
    }
}
