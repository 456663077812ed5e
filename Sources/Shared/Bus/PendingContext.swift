/// What the Replier needs to answer a request: stored by Ingest as the expiring hash
/// `discord:pending:<request_id>`, read back when the agent's reply names the request.
public struct PendingContext: StreamRecord {
    public var requestID: String
    public var kind: InboundMessage.Kind
    public var guildID: String
    public var channelID: String
    public var threadID: String
    public var messageID: String
    public var authorID: String
    /// The agent the Dispatcher delivered the request to; empty until then.
    public var agent: String = ""
    /// Set by the Replier, never by Ingest: the thread started for this request's answers
    /// (`thread` field), and the request's status message (`progress=1`).
    public var replyThread: String = ""
    public var progressMessage: String = ""
    /// The name a thread started for this request takes (`AUTO_THREAD`): the first line of the
    /// message; empty for requests that cannot have a thread of their own (commands, clicks, DMs).
    public var topic: String = ""

    /// The hash fields the Replier adds to a pending context (each written once, with `HSET`).
    public enum ReplierField {
        public static let replyThread = "reply_thread"
        public static let progressMessage = "progress_message"
        public static let progressEditedAt = "progress_edited_ms"
        public static let responseEntry = "response_entry"
    }
    /// A request that came as an interaction: its application, its token (valid 15 minutes,
    /// for editing the deferred response and following up) and when the token expires (ms).
    public var interaction: InteractionReply?

    public struct InteractionReply: Sendable, Equatable {
        public var applicationID: String
        public var token: String
        public var expiresAtMilliseconds: Int

        public init(applicationID: String, token: String, expiresAtMilliseconds: Int) {
            self.applicationID = applicationID
            self.token = token
            self.expiresAtMilliseconds = expiresAtMilliseconds
        }

        /// Its fields, in the pending context and on a routed reply alike.
        public var fields: [(String, String)] {
            [("application_id", applicationID), ("interaction_token", token), ("interaction_expires_ms", String(expiresAtMilliseconds))]
        }

        /// Read back from those fields; nil when a record has none (not an interaction).
        public init?(fields: StreamFields) {
            guard let application = fields["application_id"], let token = fields["interaction_token"],
                  let expires = fields["interaction_expires_ms"].flatMap({ Int($0) }) else { return nil }
            self.init(applicationID: application, token: token, expiresAtMilliseconds: expires)
        }
    }

    public init(_ message: InboundMessage) {
        requestID = message.requestID
        kind = message.kind
        guildID = message.guildID
        channelID = message.channelID
        threadID = message.threadID
        messageID = message.messageID
        authorID = message.authorID
        if (message.kind == .mention || message.kind == .channel) && message.threadID.isEmpty && !message.guildID.isEmpty {
            topic = AutoThread.threadName(content: message.content, author: message.authorName)
        }
    }

    /// Where the reply goes: the thread when there is one, else the channel.
    public var replyChannelID: String { threadID.isEmpty ? channelID : threadID }

    public var fields: [(String, String)] {
        [
            ("request_id", requestID), ("kind", kind.rawValue), ("guild_id", guildID),
            ("channel_id", channelID), ("thread_id", threadID), ("message_id", messageID),
            ("author_id", authorID),
        ] + (agent.isEmpty ? [] : [("agent", agent)])
            + (topic.isEmpty ? [] : [("topic", topic)])
            + (interaction?.fields ?? [])
    }

    public init(fields: StreamFields) throws(RecordError) {
        let name = "pending context"
        guard let kind = InboundMessage.Kind(rawValue: fields["kind"] ?? "") else { throw .missing("kind", in: name) }
        requestID = try fields.required("request_id", in: name)
        self.kind = kind
        guildID = fields["guild_id"] ?? ""
        channelID = try fields.required("channel_id", in: name)
        threadID = fields["thread_id"] ?? ""
        messageID = try fields.required("message_id", in: name)
        authorID = fields["author_id"] ?? ""
        agent = fields["agent"] ?? ""
        replyThread = fields[ReplierField.replyThread] ?? ""
        progressMessage = fields[ReplierField.progressMessage] ?? ""
        topic = fields["topic"] ?? ""
        interaction = InteractionReply(fields: fields)
    }
}
