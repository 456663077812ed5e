import Foundation

// Discord API v10 object shapes, trimmed to the fields a bot client is likely to read.
//
// Property names use `Id`/`Url` rather than `ID`/`URL` so that the snake_case key
// strategies in `JSONCoding` map them to Discord's field names in both directions
// (`channelId` <-> `channel_id`).

/// Discord sends ids as strings so that 64-bit values survive JavaScript clients.
typealias Snowflake = String

enum JSONCoding {
    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }

    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    static func string(_ value: some Encodable) throws -> String {
        String(decoding: try encoder().encode(value), as: UTF8.self)
    }
}

/// Arbitrary JSON, for fields the simulator stores and echoes without interpreting (embeds, error trees).
enum JSONValue: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// Breaks the struct recursion of a message embedding the message it replies to.
final class Indirect<Value: Encodable & Sendable>: Encodable, Sendable {
    let value: Value

    init(_ value: Value) {
        self.value = value
    }

    func encode(to encoder: any Encoder) throws {
        try value.encode(to: encoder)
    }
}

struct User: Encodable, Sendable, Equatable {
    let id: Snowflake
    let username: String
    /// "0" for accounts on the unique-username system, which is every account now.
    var discriminator = "0"
    var globalName: String?
    var avatar: String?
    /// Discord omits `bot` for humans rather than sending `false`.
    var bot: Bool?

    var isBot: Bool { bot == true }

    private enum CodingKeys: String, CodingKey {
        case id, username, discriminator, globalName, avatar, bot
    }

    /// Discord sends `avatar` as null for a user without one (webhook authors included).
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(username, forKey: .username)
        try container.encode(discriminator, forKey: .discriminator)
        try container.encodeIfPresent(globalName, forKey: .globalName)
        try container.encode(avatar, forKey: .avatar)
        try container.encodeIfPresent(bot, forKey: .bot)
    }
}

struct Role: Encodable, Sendable {
    let id: Snowflake
    let name: String
    var color = 0
    var hoist = false
    let position: Int
    /// Permission bit sets are strings because they exceed 53 bits.
    var permissions = "0"
    var managed = false
    var mentionable = true
    var flags = 0
}

struct GuildMember: Encodable, Sendable {
    var roles: [Snowflake] = []
    let joinedAt: String
    var deaf = false
    var mute = false
    var flags = 0
    var pending = false
}

struct ThreadMetadata: Encodable, Sendable {
    var archived = false
    var autoArchiveDuration = 1440
    let archiveTimestamp: String
    var locked = false
}

struct Channel: Encodable, Sendable {
    enum Kind: Int, Codable, Sendable {
        case guildText = 0
        case dm = 1
        case guildCategory = 4
        case publicThread = 11
    }

    let id: Snowflake
    let type: Kind
    var guildId: Snowflake?
    var name: String?
    var position: Int?
    var parentId: Snowflake?
    var topic: String?
    var nsfw: Bool?
    var lastMessageId: Snowflake?
    var rateLimitPerUser: Int?
    var recipients: [User]?
    var ownerId: Snowflake?
    var threadMetadata: ThreadMetadata?
    var messageCount: Int?
    var memberCount: Int?
    /// Only in the THREAD_CREATE of a thread just made.
    var newlyCreated: Bool?

    var isThread: Bool { type == .publicThread }
}

struct Guild: Encodable, Sendable {
    let id: Snowflake
    let name: String
    var icon: String?
    let ownerId: Snowflake
    let roles: [Role]
    var emojis: [JSONValue] = []
    var stickers: [JSONValue] = []
    var features: [String] = []
    var preferredLocale = "en-US"
    var mfaLevel = 0
    var verificationLevel = 0

    // Only present in the gateway's GUILD_CREATE, which carries the initial guild state.
    var joinedAt: String?
    var large: Bool?
    var unavailable: Bool?
    var memberCount: Int?
    var members: [GuildMember]?
    var channels: [Channel]?
    var threads: [Channel]?
    var voiceStates: [JSONValue]?
    var presences: [JSONValue]?
    var stageInstances: [JSONValue]?
    var guildScheduledEvents: [JSONValue]?
}

/// Discord accepts a nonce as either an integer or a string and echoes back what it was sent.
enum Nonce: Codable, Sendable, Hashable {
    case integer(Int64)
    case string(String)

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else {
            self = .string(try container.decode(String.self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .integer(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        }
    }
}

struct MessageReference: Codable, Sendable {
    /// 0 = default (reply), 1 = forward.
    var type: Int? = 0
    var messageId: Snowflake?
    var channelId: Snowflake?
    var guildId: Snowflake?
    var failIfNotExists: Bool?
}

struct Message: Encodable, Sendable {
    enum Kind: Int, Encodable, Sendable {
        case `default` = 0
        case reply = 19
        case chatInputCommand = 20
    }

    let id: Snowflake
    let channelId: Snowflake
    let author: User
    var content: String
    let timestamp: String
    var editedTimestamp: String?
    var tts = false
    var mentionEveryone = false
    var mentions: [User] = []
    var mentionRoles: [Snowflake] = []
    var attachments: [Attachment] = []
    var embeds: [JSONValue] = []
    var pinned = false
    var type: Kind = .default
    var flags = 0
    var nonce: Nonce?
    var messageReference: MessageReference?
    var referencedMessage: Indirect<Message>?
    /// Messages sent in answer to an interaction: the application, its webhook (both the
    /// application id) and which interaction it answers.
    var applicationId: Snowflake?
    var webhookId: Snowflake?
    var interactionMetadata: MessageInteractionMetadata?
    var components: [JSONValue]?
    /// The thread started from this message, if any (flag HAS_THREAD is set then).
    var thread: Channel?

    // Only on gateway dispatches: REST responses leave these out.
    var guildId: Snowflake?
    var member: GuildMember?

    /// The form embedded as `referenced_message`: Discord nests only one level deep.
    var asReferenced: Message {
        var copy = self
        copy.referencedMessage = nil
        copy.guildId = nil
        copy.member = nil
        return copy
    }
}

/// A file on a message, as Discord describes it; the bytes themselves are served at `url`.
struct Attachment: Encodable, Sendable {
    let id: Snowflake
    let filename: String
    var description: String?
    /// The part's media type, omitted when the upload named none.
    var contentType: String?
    let size: Int
    let url: String
    /// Discord's media proxy; the simulator has none, so it is `url` again.
    let proxyUrl: String
}

// MARK: - Request bodies

struct AllowedMentions: Decodable, Sendable {
    var parse: [String]?
    var users: [Snowflake]?
    var roles: [Snowflake]?
    var repliedUser: Bool?
}

struct CreateMessageRequest: Decodable, Sendable {
    var content: String?
    var nonce: Nonce?
    var enforceNonce: Bool?
    var tts: Bool?
    var embeds: [JSONValue]?
    var messageReference: MessageReference?
    var allowedMentions: AllowedMentions?
    var flags: Int?
    /// Action rows of buttons and string selects (MessageComponents.swift).
    var components: [JSONValue]?
    /// Describes the `files[n]` parts of a multipart create; only meaningful there.
    var attachments: [PartialAttachment]?
    /// Webhook executes only: the author's name and avatar for this one message.
    var username: String?
    var avatarUrl: String?
}

/// An `attachments` entry of a create request: `id` is the `n` of a `files[n]` part, which
/// Discord accepts as a number or a string.
struct PartialAttachment: Decodable, Sendable {
    var id: String?
    var filename: String?
    var description: String?

    private enum CodingKeys: String, CodingKey {
        case id, filename, description
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let number = try? container.decode(Int64.self, forKey: .id) {
            id = String(number)
        } else {
            id = try container.decodeIfPresent(String.self, forKey: .id)
        }
        filename = try container.decodeIfPresent(String.self, forKey: .filename)
        description = try container.decodeIfPresent(String.self, forKey: .description)
    }
}

struct CreateChannelRequest: Decodable, Sendable {
    var name: String?
    var type: Int?
    var parentId: Snowflake?
    var topic: String?
}
