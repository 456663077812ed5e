import Foundation

/// An interaction as Discord sends it, over the gateway (`INTERACTION_CREATE`) or POSTed to an
/// Interactions Endpoint: the fields the connector uses, after Discord's interaction object
/// (docs: interactions/receiving-and-responding).
public struct Interaction: Decodable, Sendable, Equatable {
    public enum Kind: Int, Decodable, Sendable {
        case ping = 1
        case applicationCommand = 2
        case messageComponent = 3
        case autocomplete = 4
        case modalSubmit = 5
    }

    public var id: String
    public var applicationID: String
    public var type: Int
    public var data: DataPayload?
    public var guildID: String?
    public var channelID: String?
    /// The channel it was used in (a partial channel: id, type, and a thread's parent).
    public var channel: DiscordChannel?
    /// In a guild: the member who acted (with its user).
    public var member: Member?
    /// In a DM: the user who acted.
    public var user: DiscordUser?
    /// Valid for 15 minutes: the deferral's edit and follow-ups are sent with it.
    public var token: String
    /// The message a component belongs to.
    public var message: ComponentMessage?

    public var kind: Kind? { Kind(rawValue: type) }

    /// Who acted, in a guild or a DM.
    public var actor: DiscordUser? { member?.user ?? user }

    public struct Member: Decodable, Sendable, Equatable {
        public var user: DiscordUser?
        public var nick: String?
    }

    public struct ComponentMessage: Decodable, Sendable, Equatable {
        public var id: String
        public var channelID: String?

        enum CodingKeys: String, CodingKey {
            case id
            case channelID = "channel_id"
        }
    }

    /// `data`: an application command's name and options, or a component's id and values.
    public struct DataPayload: Decodable, Sendable, Equatable {
        public var id: String?
        public var name: String?
        public var options: [Option]?
        public var customID: String?
        public var componentType: Int?
        public var values: [String]?

        enum CodingKeys: String, CodingKey {
            case id, name, options, values
            case customID = "custom_id"
            case componentType = "component_type"
        }
    }

    /// A command option; only string values are read (the connector's options are strings).
    public struct Option: Decodable, Sendable, Equatable {
        public var name: String
        public var type: Int
        public var value: String?

        enum CodingKeys: String, CodingKey { case name, type, value }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            type = try container.decode(Int.self, forKey: .type)
            // Numbers and booleans are options too; they are kept as their text.
            if let text = try? container.decode(String.self, forKey: .value) {
                value = text
            } else if let number = try? container.decode(Double.self, forKey: .value) {
                value = number == number.rounded() ? String(Int(number)) : String(number)
            } else if let flag = try? container.decode(Bool.self, forKey: .value) {
                value = String(flag)
            } else {
                value = nil
            }
        }
    }

    /// A command option's value by name.
    public func option(_ name: String) -> String? {
        data?.options?.first { $0.name == name }?.value
    }

    enum CodingKeys: String, CodingKey {
        case id, type, data, member, user, token, message, channel
        case applicationID = "application_id"
        case guildID = "guild_id"
        case channelID = "channel_id"
    }
}

/// The answer to an interaction (its HTTP response on an endpoint, or the body of
/// `POST /interactions/{id}/{token}/callback`).
public struct InteractionResponse: Encodable, Sendable, Equatable {
    public enum Kind: Int, Encodable, Sendable {
        case pong = 1
        case channelMessage = 4
        /// "thinking...": the answer comes later, by editing `@original`.
        case deferredChannelMessage = 5
        /// A click acknowledged without changing the message yet.
        case deferredUpdateMessage = 6
        case updateMessage = 7
    }

    public var type: Kind
    public var data: ResponseData?

    public struct ResponseData: Encodable, Sendable, Equatable {
        public var content: String?
        /// 64: only the person who acted sees it.
        public var flags: Int?
        public var allowedMentions: MessageCreate.AllowedMentions?

        enum CodingKeys: String, CodingKey {
            case content, flags
            case allowedMentions = "allowed_mentions"
        }
    }

    public init(type: Kind, data: ResponseData? = nil) {
        self.type = type
        self.data = data
    }

    public static let pong = InteractionResponse(type: .pong)
    public static let deferred = InteractionResponse(type: .deferredChannelMessage)
    public static let deferredUpdate = InteractionResponse(type: .deferredUpdateMessage)

    /// A message only the person who acted sees, pinging nobody.
    public static func ephemeral(_ text: String) -> InteractionResponse {
        InteractionResponse(type: .channelMessage, data: .init(content: text, flags: 64, allowedMentions: .init(repliedUser: false)))
    }
}

/// The body of `PATCH /channels/{channel.id}/messages/{message.id}` has the same fields as an
/// interaction webhook's edit.
public typealias MessageEdit = InteractionMessage

/// The body of an interaction webhook message: the edit of `@original`, or a follow-up.
public struct InteractionMessage: Encodable, Sendable, Equatable {
    /// nil leaves an edited message's text as it is.
    public var content: String?
    /// Who it may ping: nobody named in the text (the person who asked is notified by Discord).
    public var allowedMentions = MessageCreate.AllowedMentions(repliedUser: false)
    /// Action rows; on an edit, `[]` removes the message's components and nil keeps them.
    public var components: [JSONValue]?
    /// 64: only the person who acted sees the follow-up.
    public var flags: Int?

    public init(content: String?, components: [JSONValue]? = nil, flags: Int? = nil) {
        self.content = content
        self.components = components
        self.flags = flags
    }

    /// A follow-up only the person who acted sees.
    public static func ephemeral(_ text: String) -> InteractionMessage {
        InteractionMessage(content: text, flags: 64)
    }

    enum CodingKeys: String, CodingKey {
        case content, components, flags
        case allowedMentions = "allowed_mentions"
    }
}
