import Foundation
import HTTPTypes

// Interactions as Discord sends them (docs/interactions/Receiving_and_Responding.md) and
// application commands (docs/interactions/Application_Commands.md), trimmed to what a bot
// connector reads. Encoded with `JSONCoding`, so `customId` is `custom_id` on the wire.

/// Discord's interaction object, as INTERACTION_CREATE carries it.
struct Interaction: Encodable, Sendable {
    enum Kind: Int, Encodable, Sendable {
        case ping = 1
        case applicationCommand = 2
        case messageComponent = 3
    }

    let id: Snowflake
    let applicationId: Snowflake
    let type: Kind
    let data: InteractionData
    var guild: PartialGuild?
    var guildId: Snowflake?
    let channel: InteractionChannel
    let channelId: Snowflake
    /// In guild channels; `user` instead in DMs.
    var member: InteractionMember?
    var user: User?
    let token: String
    var version = 1
    /// For components: the message the component is on.
    var message: Message?
    let appPermissions: String
    var locale = "en-US"
    var guildLocale: String?
    var entitlements: [JSONValue] = []
    /// Installation context to owner id: `"0"` (guild install) -> the guild id, or `"0"` in the bot's DM.
    let authorizingIntegrationOwners: [String: Snowflake]
    /// 0 = GUILD, 1 = BOT_DM.
    let context: Int
    let attachmentSizeLimit: Int

    /// The invoking user, in guilds and DMs alike.
    var invoker: User { member?.user ?? user ?? Fixtures.human }
}

/// `data` of an interaction: application-command fields or message-component fields.
struct InteractionData: Encodable, Sendable {
    // APPLICATION_COMMAND
    var id: Snowflake?
    var name: String?
    /// 1 = CHAT_INPUT.
    var type: Int?
    var options: [JSONValue]?
    /// For a guild command, the guild it is registered in.
    var guildId: Snowflake?
    // MESSAGE_COMPONENT
    var customId: String?
    var componentType: Int?
    var values: [String]?
}

struct PartialGuild: Encodable, Sendable {
    let id: Snowflake
    var locale = "en-US"
    var features: [String] = []
}

/// The partial channel an interaction carries.
struct InteractionChannel: Encodable, Sendable {
    let id: Snowflake
    let type: Channel.Kind
    var name: String?
    var guildId: Snowflake?
    var parentId: Snowflake?
    var nsfw: Bool?
    var topic: String?
    var lastMessageId: Snowflake?
    var rateLimitPerUser: Int?
    var threadMetadata: ThreadMetadata?
    var recipients: [User]?
    var flags = 0
    /// The invoking user's permissions in the channel.
    var permissions: String?

    init(_ channel: Channel, permissions: String?) {
        id = channel.id
        type = channel.type
        name = channel.name
        guildId = channel.guildId
        parentId = channel.parentId
        nsfw = channel.nsfw
        topic = channel.topic
        lastMessageId = channel.lastMessageId
        rateLimitPerUser = channel.rateLimitPerUser
        threadMetadata = channel.threadMetadata
        recipients = channel.recipients
        self.permissions = permissions
    }
}

/// A guild member as interactions carry it: with `user` and the member's `permissions`.
struct InteractionMember: Encodable, Sendable {
    let user: User
    var nick: String?
    var avatar: String?
    var roles: [Snowflake]
    let joinedAt: String
    var deaf = false
    var mute = false
    var flags = 0
    var pending = false
    let permissions: String
}

/// `interaction_metadata` on a message that answers an interaction.
struct MessageInteractionMetadata: Encodable, Sendable {
    let id: Snowflake
    let type: Int
    let user: User
    let authorizingIntegrationOwners: [String: Snowflake]
    /// On follow-ups: the original response's id.
    var originalResponseMessageId: Snowflake?
    /// For components: the message the component was on.
    var interactedMessageId: Snowflake?
}

// MARK: - Request bodies

/// `POST /_sim/interactions`.
struct CreateInteractionRequest: Decodable, Sendable {
    var type: Int?
    var channelId: Snowflake?
    var userId: Snowflake?
    var name: String?
    var options: [JSONValue]?
    var customId: String?
    var componentType: Int?
    var values: [String]?
    var messageId: Snowflake?
    /// `gateway` (default), `none`, or `http`: POSTed, signed, to the Interactions Endpoint URL.
    var deliver: String?
    var locale: String?
}

/// How a control-created interaction reaches the application: `deliver` of the control calls.
enum InteractionDeliveryMode: String, Sendable {
    /// INTERACTION_CREATE on the gateway.
    case gateway
    /// Only stored; the test reads it from the control call's answer.
    case storeOnly = "none"
    /// POSTed, signed, to the Interactions Endpoint URL; its answer is the callback.
    case http

    init(_ raw: String?) throws(DiscordAPIError) {
        guard let mode = Self(rawValue: raw ?? "gateway") else {
            throw DiscordAPIError(status: .badRequest, body: .init(message: "deliver must be 'gateway', 'none' or 'http', got '\(raw ?? "")'", code: 0))
        }
        self = mode
    }
}

/// `POST /_sim/messages/{id}/click`: a user using a component of a message.
struct ClickRequest: Decodable, Sendable {
    var customId: String?
    /// A button's label, used when `custom_id` is absent.
    var label: String?
    /// A select's chosen option values.
    var values: [String]?
    var userId: Snowflake?
    var deliver: String?
}

/// `PUT /_sim/interactions/endpoint`.
struct EndpointURLRequest: Decodable, Sendable {
    var url: String?
}

/// Discord's PING interaction, which it sends to an Interactions Endpoint URL to check it.
struct PingInteraction: Encodable, Sendable {
    let id: Snowflake
    let applicationId: Snowflake
    var type = 1
    let token: String
    var version = 1
    var entitlements: [JSONValue] = []
}

/// The message part of a callback (`data` of types 4 and 7), a follow-up or an edit.
struct InteractionMessageBody: Decodable, Sendable {
    var content: String?
    var tts: Bool?
    var embeds: [JSONValue]?
    var allowedMentions: AllowedMentions?
    var flags: Int?
    var components: [JSONValue]?
    /// Edits: the attachments to keep, by id.
    var attachments: [PartialAttachment]?
    // Modals (type 9).
    var customId: String?
    var title: String?
}

struct InteractionCallbackRequest: Decodable, Sendable {
    var type: Int?
    var data: InteractionMessageBody?
}

/// `?with_response=true`: Discord's interaction callback response object.
struct InteractionCallbackResponse: Encodable, Sendable {
    struct CallbackInteraction: Encodable, Sendable {
        let id: Snowflake
        let type: Int
        var responseMessageId: Snowflake?
        var responseMessageLoading: Bool?
        var responseMessageEphemeral: Bool?
    }

    struct Resource: Encodable, Sendable {
        let type: Int
        var message: Message?
    }

    var interaction: CallbackInteraction
    var resource: Resource?
}

// MARK: - Application commands

struct CommandOptionChoice: Codable, Sendable {
    var name: String?
    var nameLocalizations: [String: String]?
    var value: JSONValue?
}

struct CommandOption: Codable, Sendable {
    var type: Int?
    var name: String?
    var nameLocalizations: [String: String]?
    var description: String?
    var descriptionLocalizations: [String: String]?
    var required: Bool?
    var choices: [CommandOptionChoice]?
    var options: [CommandOption]?
    var channelTypes: [Int]?
    var minValue: JSONValue?
    var maxValue: JSONValue?
    var minLength: Int?
    var maxLength: Int?
    var autocomplete: Bool?
}

/// An application command as PUT sends it and GET returns it.
struct ApplicationCommand: Codable, Sendable {
    var id: Snowflake?
    var type: Int?
    var applicationId: Snowflake?
    var guildId: Snowflake?
    var name: String?
    var nameLocalizations: [String: String]?
    var description: String?
    var descriptionLocalizations: [String: String]?
    var options: [CommandOption]?
    var defaultMemberPermissions: String?
    var dmPermission: Bool?
    var nsfw: Bool?
    var integrationTypes: [Int]?
    var contexts: [Int]?
    var version: Snowflake?
}

// MARK: - State

/// One interaction and what happened to it.
struct StoredInteraction: Sendable {
    let interaction: Interaction
    let createdAt: Date
    var dispatchedAtUs: Int64?
    /// The accepted callback's type; `nil` until acknowledged.
    var callbackType: Int?
    var callbackAtUs: Int64?
    /// The message `@original` names: the response of a type 4/5 callback, or for components
    /// after type 6/7 the component's message.
    var originalMessageId: Snowflake?
    var followupIds: [Snowflake] = []
    /// Set by `POST /_sim/interactions/{id}/expire`.
    var expired = false
    /// Its HTTP delivery failed (no answer in 3 s, a non-2xx, a body that is no callback):
    /// "This interaction failed" for the user, and no callback is taken any more.
    var failed = false

    var acknowledged: Bool { callbackType != nil }
}

/// A callback for a known interaction, accepted or not: a request to the callback route, or
/// the Interactions Endpoint's answer to an HTTP delivery.
struct InteractionCallbackRecord: Encodable, Sendable {
    enum Via: String, Encodable, Sendable {
        case callback, endpoint
    }

    let interactionId: Snowflake
    /// `nil` when the body had none (or was not JSON).
    let type: Int?
    let receivedAtUs: Int64
    /// Microseconds from the interaction's creation to this request.
    let latencyUs: Int64
    let accepted: Bool
    /// The callback route's answer; for `endpoint`, the endpoint's status when it failed
    /// (0: no answer within 3 s), else the status the callback route would have answered.
    let status: Int
    var code: Int?
    var via = Via.callback
}

/// `GET /_sim/interactions` entries.
struct InteractionSummary: Encodable, Sendable {
    let id: Snowflake
    let token: String
    let type: Int
    let channelId: Snowflake
    let createdAtUs: Int64
    let dispatchedAtUs: Int64?
    let acknowledged: Bool
    let callbackType: Int?
    let callbackAtUs: Int64?
    let originalMessageId: Snowflake?
    let followupIds: [Snowflake]
    let expired: Bool
    let failed: Bool
}

/// `POST /_sim/interactions` answer.
struct CreatedInteraction: Encodable, Sendable {
    /// What the interaction is on the wire: a PING only goes to an Interactions Endpoint.
    enum Payload: Sendable {
        case interaction(Interaction)
        case ping(PingInteraction)
    }

    let id: Snowflake
    let token: String
    let payload: Payload
    let createdAtUs: Int64
    /// When INTERACTION_CREATE was handed to the gateway connections, or the HTTP delivery
    /// was sent; `nil` for `deliver: none`.
    var dispatchedAtUs: Int64?
    /// For `deliver: http`: the signed request to send, and once sent, what came back.
    var outgoing: OutgoingInteraction?
    var httpDelivery: HTTPDelivery?

    var interaction: Interaction? {
        if case .interaction(let interaction) = payload { return interaction }
        return nil
    }

    private enum CodingKeys: String, CodingKey {
        case id, token, interaction, createdAtUs, dispatchedAtUs, httpDelivery
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(token, forKey: .token)
        switch payload {
        case .interaction(let interaction): try container.encode(interaction, forKey: .interaction)
        case .ping(let ping): try container.encode(ping, forKey: .interaction)
        }
        try container.encode(createdAtUs, forKey: .createdAtUs)
        // Explicit null, so a client sees the field either way.
        try container.encode(dispatchedAtUs, forKey: .dispatchedAtUs)
        try container.encodeIfPresent(httpDelivery, forKey: .httpDelivery)
    }
}

/// An interaction to POST to the Interactions Endpoint URL: the exact body and its signature.
struct OutgoingInteraction: Sendable {
    let interactionId: Snowflake
    let token: String
    let isPing: Bool
    let url: String
    let body: [UInt8]
    /// Unix seconds, as `X-Signature-Timestamp` sends it.
    let timestamp: String
    /// Hex Ed25519 signature of `timestamp` followed by `body`.
    let signature: String
    let createdAt: Date
}

/// What the Interactions Endpoint answered: `status` 0 when it did not answer within 3 s.
struct EndpointAnswer: Sendable {
    let status: Int
    let body: [UInt8]?
    let latencyUs: Int64
}

/// `http_delivery` in the control call's answer.
struct HTTPDelivery: Encodable, Sendable {
    let status: Int
    let latencyUs: Int64
    /// The endpoint's JSON body; `null` when it sent none or it was not JSON.
    let body: JSONValue?

    private enum CodingKeys: String, CodingKey {
        case status, latencyUs, body
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(status, forKey: .status)
        try container.encode(latencyUs, forKey: .latencyUs)
        try container.encode(body, forKey: .body)
    }
}

struct InteractionState: Sendable {
    /// Discord's deadline for the initial response.
    static let callbackDeadline: TimeInterval = 3

    let tokenLifetime: TimeInterval
    var byId: [Snowflake: StoredInteraction] = [:]
    var idByToken: [String: Snowflake] = [:]
    /// Creation order, for listing.
    var order: [Snowflake] = []
    var callbacks: [InteractionCallbackRecord] = []
    /// Every message answering an interaction, ephemeral ones too (those are in no channel
    /// history), by id: what the webhook routes read and edit.
    var messages: [Snowflake: Message] = [:]
    var postIndexByMessageId: [Snowflake: Int] = [:]
    var globalCommands: [ApplicationCommand] = []
    var guildCommands: [Snowflake: [ApplicationCommand]] = [:]
    /// Signs HTTP deliveries; its public key is the application's `verify_key`.
    let signer: InteractionSigner
    /// The Interactions Endpoint URL (`--interactions-url`, `PUT /_sim/interactions/endpoint`).
    var endpointURL: String?

    init(tokenLifetime: TimeInterval, signer: InteractionSigner, endpointURL: String?) {
        self.tokenLifetime = tokenLifetime
        self.signer = signer
        self.endpointURL = endpointURL
    }

    /// `POST /_sim/reset` clears the callback log and the links to the cleared posts; the
    /// interactions, their tokens and the registered commands stay.
    mutating func resetRecords() {
        callbacks.removeAll()
        postIndexByMessageId.removeAll()
    }
}

extension DiscordAPIError {
    static let unknownInteraction = DiscordAPIError(status: .notFound, body: Body(message: "Unknown interaction", code: 10062))
    static let alreadyAcknowledged = DiscordAPIError(status: .badRequest, body: Body(message: "Interaction has already been acknowledged.", code: 40060))
    static let unknownWebhook = DiscordAPIError(status: .notFound, body: Body(message: "Unknown Webhook", code: 10015))
    static let invalidWebhookToken = DiscordAPIError(status: .unauthorized, body: Body(message: "Invalid Webhook Token", code: 50027))
    static let missingAccess = DiscordAPIError(status: .forbidden, body: Body(message: "Missing Access", code: 50001))
}
