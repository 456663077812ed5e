import Foundation

/// The body of `POST /channels/{id}/messages`.
public struct MessageCreate: Encodable, Sendable, Equatable {
    public var content: String
    /// Deterministic per reply chunk, so Discord drops a repeat (`enforce_nonce`); at most 25 characters.
    public var nonce: String?
    public var enforceNonce: Bool?
    public var messageReference: MessageReference?
    public var allowedMentions: AllowedMentions
    /// With files: one entry per `files[n]` part (`DiscordEndpoint.createMessage` fills it).
    public var attachments: [AttachmentSlot]?
    /// Action rows of buttons and selects.
    public var components: [JSONValue]?

    public init(content: String, nonce: String? = nil, messageReference: MessageReference? = nil, allowedMentions: AllowedMentions, components: [JSONValue]? = nil) {
        self.components = components
        self.content = content
        self.nonce = nonce
        self.enforceNonce = nonce == nil ? nil : true
        self.messageReference = messageReference
        self.allowedMentions = allowedMentions
    }

    enum CodingKeys: String, CodingKey {
        case content, nonce
        case enforceNonce = "enforce_nonce"
        case messageReference = "message_reference"
        case allowedMentions = "allowed_mentions"
        case attachments, components
    }

    /// `{"id": n, "filename": ...}`: ties `files[n]` to the message.
    public struct AttachmentSlot: Encodable, Sendable, Equatable {
        public var id: Int
        public var filename: String
    }

    public struct MessageReference: Encodable, Sendable, Equatable {
        public var messageID: String
        public var channelID: String?
        /// False: post anyway if the original message was deleted.
        public var failIfNotExists = false

        public init(messageID: String, channelID: String?) {
            self.messageID = messageID
            self.channelID = channelID
        }

        enum CodingKeys: String, CodingKey {
            case messageID = "message_id"
            case channelID = "channel_id"
            case failIfNotExists = "fail_if_not_exists"
        }
    }

    /// Who a message may ping. `parse` is always empty: no `@everyone`, `@here`, roles or users
    /// named in the text; only the replied-to author, when `repliedUser` is true.
    public struct AllowedMentions: Encodable, Sendable, Equatable {
        public var parse: [String] = []
        public var users: [String] = []
        public var roles: [String] = []
        public var repliedUser: Bool

        public init(repliedUser: Bool, users: [String] = []) {
            self.repliedUser = repliedUser
            self.users = users
        }

        enum CodingKeys: String, CodingKey {
            case parse, users, roles
            case repliedUser = "replied_user"
        }
    }
}
