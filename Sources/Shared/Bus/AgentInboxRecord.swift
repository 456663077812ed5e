/// The record the connector delivers to `sos:inbox:<agent>` (CONTRACT section 3).
public struct AgentInboxRecord: StreamRecord {
    public var from: String
    public var to: String
    public var text: String
    public var message: InboundMessage
    /// The stream the agent answers on: the connector's inbox.
    public var replyTo: String

    public init(from: String, to: String, text: String, message: InboundMessage, replyTo: String) {
        self.from = from
        self.to = to
        self.text = text
        self.message = message
        self.replyTo = replyTo
    }

    /// Builds the record for `agent`, with the human-readable text and its ctx block line.
    public init(message: InboundMessage, agent: String, connectorAgentName: String, ctxBlock: String) {
        self.init(
            from: connectorAgentName,
            to: agent,
            text: Self.text(for: message, ctxBlock: ctxBlock),
            message: message,
            replyTo: BusKeys.inbox(connectorAgentName)
        )
    }

    /// `[request_id:<uuid>] <who> in <where>: <what>` and the ctx block as the final line.
    ///
    /// The Discord text is neutralised so that a human who types `{ack_for:…}` or `[ctx:…]` cannot
    /// plant a routing token that an agent might echo back.
    public static func text(for message: InboundMessage, ctxBlock: String) -> String {
        let place: String
        switch message.kind {
        case .dm:
            place = "a direct message"
        case .command where message.guildID.isEmpty, .component where message.guildID.isEmpty:
            place = "a direct message"
        case .reply where message.guildID.isEmpty:
            place = "a direct message"
        case .mention, .channel, .command, .component, .reply:
            // Names are chosen by Discord users too: neutralised like the content.
            let channel = message.channelName.isEmpty ? "<#\(message.channelID)>" : "#\(ReplyTokens.neutralise(message.channelName))"
            let thread = message.threadID.isEmpty ? "" : " (thread <#\(message.threadID)>)"
            let guild = message.guildName.isEmpty ? "" : " on \(ReplyTokens.neutralise(message.guildName))"
            place = channel + thread + guild
        }
        // One line per file: people's file names are neutralised like their text.
        let files = message.attachments.map {
            "\n[attachment] \(ReplyTokens.neutralise($0.filename)) (\($0.contentType ?? "unknown type"), \($0.size) bytes): \($0.url)"
        }.joined()
        let body = ReplyTokens.neutralise(message.content) + files
        if message.kind == .component {
            // What was chosen, in the person's words (the label) and the agent's (its custom_id).
            let choice = ["", "[]"].contains(message.values)
                ? "clicked \"\(ReplyTokens.neutralise(message.componentLabel))\" (custom_id \(ReplyTokens.neutralise(message.customID)))"
                : "chose \(ReplyTokens.neutralise(message.values)) in \"\(ReplyTokens.neutralise(message.componentLabel))\" (custom_id \(ReplyTokens.neutralise(message.customID)))"
            let answering = message.answersRequest.isEmpty ? "" : ", answering request \(message.answersRequest)"
            return "[request_id:\(message.requestID)] Discord click from \(ReplyTokens.neutralise(message.authorName)) in \(place): \(choice) on message \(message.messageID)\(answering)\n"
                + "(answer with {ack_for:\(message.requestID)}; with update=1 the answer edits the clicked message)\n"
                + ctxBlock
        }
        if message.kind == .reply {
            return "[request_id:\(message.requestID)] Discord reply from \(ReplyTokens.neutralise(message.authorName)) in \(place) to your message \(message.repliedMessageID): \(body)\n"
                + "(answer with {ack_for:\(message.requestID)})\n"
                + ctxBlock
        }
        if message.kind == .command {
            return "[request_id:\(message.requestID)] Discord command /\(ReplyTokens.neutralise(message.command)) from \(ReplyTokens.neutralise(message.authorName)) in \(place): \(body)\n"
                + "(answer with {ack_for:\(message.requestID)})\n"
                + ctxBlock
        }
        return "[request_id:\(message.requestID)] Discord message from \(ReplyTokens.neutralise(message.authorName)) in \(place): \(body)\n"
            + "(answer with {ack_for:\(message.requestID)})\n"
            + ctxBlock
    }

    public var fields: [(String, String)] {
        [("from", from), ("to", to), ("text", text), ("source", "discord"), ("reply_to", replyTo)] + message.fields
    }

    public init(fields: StreamFields) throws(RecordError) {
        let name = "agent inbox record"
        from = try fields.required("from", in: name)
        to = try fields.required("to", in: name)
        text = try fields.required("text", in: name)
        replyTo = fields["reply_to"] ?? ""
        message = try InboundMessage(fields: fields)
    }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.from == rhs.from && lhs.to == rhs.to && lhs.text == rhs.text && lhs.message == rhs.message && lhs.replyTo == rhs.replyTo
    }
}
