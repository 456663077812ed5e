import Foundation

/// The body of `POST /channels/{id}/messages`; sent as `writeJSON` writes it, which is what
/// its `Encodable` form encodes to (tested byte for byte).
public struct MessageCreate: HandWrittenJSON, Sendable, Equatable {
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

    /// The members in `JSON.encode`'s order (sorted), absent optionals left out.
    public func writeJSON(to writer: inout JSONWriter) throws {
        try writer.object { json in
            json.key("allowed_mentions")
            json.object { mentions in
                mentions.key("parse")
                mentions.array(allowedMentions.parse) { $0.string($1) }
                mentions.key("replied_user")
                mentions.bool(allowedMentions.repliedUser)
                mentions.key("roles")
                mentions.array(allowedMentions.roles) { $0.string($1) }
                mentions.key("users")
                mentions.array(allowedMentions.users) { $0.string($1) }
            }
            if let attachments {
                json.key("attachments")
                json.array(attachments) { slots, slot in
                    slots.object { member in
                        member.key("filename")
                        member.string(slot.filename)
                        member.key("id")
                        member.int(slot.id)
                    }
                }
            }
            if let components {
                json.key("components")
                try json.encoded(components)
            }
            json.key("content")
            json.string(content)
            if let enforceNonce {
                json.key("enforce_nonce")
                json.bool(enforceNonce)
            }
            if let messageReference {
                json.key("message_reference")
                json.object { reference in
                    if let channelID = messageReference.channelID {
                        reference.key("channel_id")
                        reference.string(channelID)
                    }
                    reference.key("fail_if_not_exists")
                    reference.bool(messageReference.failIfNotExists)
                    reference.key("message_id")
                    reference.string(messageReference.messageID)
                }
            }
            if let nonce {
                json.key("nonce")
                json.string(nonce)
            }
        }
    }
}
