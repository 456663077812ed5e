/// The parts of Discord's message object (a MESSAGE_CREATE payload) the connector reads.
public struct DiscordMessage: Codable, Sendable, Equatable {
    public var id: String
    public var channelID: String
    public var guildID: String?
    public var author: DiscordUser
    public var content: String
    public var timestamp: String
    public var mentions: [DiscordUser]
    public var webhookID: String?
    public var member: Member?
    public var attachments: [Attachment] = []
    /// A Discord reply (or forward): the message it refers to.
    public var messageReference: Reference?

    public struct Reference: Codable, Sendable, Equatable {
        /// 0 a reply, 1 a forward.
        public var type: Int?
        public var messageID: String?

        enum CodingKeys: String, CodingKey {
            case type
            case messageID = "message_id"
        }
    }

    /// The message this one replies to (not a forward).
    public var repliedMessageID: String? {
        guard let reference = messageReference, (reference.type ?? 0) == 0 else { return nil }
        return reference.messageID
    }

    /// A file on a message (Discord's attachment object): what an agent needs to fetch it.
    public struct Attachment: Codable, Sendable, Equatable {
        public var id: String
        public var filename: String
        public var contentType: String?
        public var size: Int
        public var url: String

        public init(id: String, filename: String, contentType: String?, size: Int, url: String) {
            self.id = id
            self.filename = filename
            self.contentType = contentType
            self.size = size
            self.url = url
        }

        enum CodingKeys: String, CodingKey {
            case id, filename, size, url
            case contentType = "content_type"
        }
    }

    public struct Member: Codable, Sendable, Equatable {
        public var nick: String?
    }

    public init(id: String, channelID: String, guildID: String?, author: DiscordUser, content: String, timestamp: String, mentions: [DiscordUser] = [], webhookID: String? = nil, member: Member? = nil) {
        self.id = id
        self.channelID = channelID
        self.guildID = guildID
        self.author = author
        self.content = content
        self.timestamp = timestamp
        self.mentions = mentions
        self.webhookID = webhookID
        self.member = member
    }

    enum CodingKeys: String, CodingKey {
        case id, author, content, timestamp, mentions, member, attachments
        case messageReference = "message_reference"
        case channelID = "channel_id"
        case guildID = "guild_id"
        case webhookID = "webhook_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        channelID = try container.decode(String.self, forKey: .channelID)
        guildID = try container.decodeIfPresent(String.self, forKey: .guildID)
        author = try container.decode(DiscordUser.self, forKey: .author)
        // Without the Message Content intent Discord sends an empty string; tolerate absence too.
        content = try container.decodeIfPresent(String.self, forKey: .content) ?? ""
        timestamp = try container.decodeIfPresent(String.self, forKey: .timestamp) ?? ""
        mentions = try container.decodeIfPresent([DiscordUser].self, forKey: .mentions) ?? []
        webhookID = try container.decodeIfPresent(String.self, forKey: .webhookID)
        member = try container.decodeIfPresent(Member.self, forKey: .member)
        attachments = try container.decodeIfPresent([Attachment].self, forKey: .attachments) ?? []
        messageReference = try container.decodeIfPresent(Reference.self, forKey: .messageReference)
    }

    /// The author's name as shown in the guild.
    public var authorName: String { member?.nick ?? author.displayName }
}
