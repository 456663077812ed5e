import Foundation
import Logging

/// Discord's REST API, the calls the connector makes.
public struct DiscordREST: Sendable {
    public static let userAgent = "DiscordBot (https://github.com/mumega/discord-connector, 0.1.0)"

    private let http: HTTPClient
    private let apiBase: String
    private let token: String

    public init(apiBase: String, token: String, http: HTTPClient = HTTPClient(name: "discord-rest")) {
        self.apiBase = apiBase
        self.token = token
        self.http = http
    }

    /// A Discord answer that was not 2xx.
    public struct Failure: Error, CustomStringConvertible {
        public var status: Int
        public var body: String
        public var rateLimit: RateLimitInfo
        public var description: String { "Discord answered \(status): \(body.prefix(500))" }
    }

    public func send(_ method: String, _ path: String, json: Data? = nil) async throws -> HTTPResponse {
        let headers = [
            "Authorization": "Bot \(token)",
            "User-Agent": Self.userAgent,
            "Accept": "application/json",
        ]
        // `.json` sets the Content-Type itself.
        return try await http.request(method: method, url: apiBase + path, headers: headers, body: json.map(HTTPBody.json))
    }

    /// Decodes a 2xx JSON body, or throws `Failure` with Discord's error body.
    public func call<T: Decodable>(_ method: String, _ path: String, json: Data? = nil, as type: T.Type) async throws -> T {
        let response = try await send(method, path, json: json)
        guard (200..<300).contains(response.status) else {
            throw Failure(status: response.status, body: response.bodyText, rateLimit: RateLimitInfo(headers: response.headers, body: try? JSON.decode(JSONValue.self, from: response.body)))
        }
        return try JSON.decode(T.self, from: response.body)
    }

    public func currentUser() async throws -> DiscordUser {
        try await call("GET", "/users/@me", as: DiscordUser.self)
    }

    /// `GET /gateway/bot`: where to connect, the recommended shard count, and how many
    /// IDENTIFYs may start together.
    public struct GatewayBot: Decodable, Sendable {
        public var url: String
        public var shards: Int?
        public var sessionStartLimit: SessionStartLimit?

        public struct SessionStartLimit: Decodable, Sendable {
            public var maxConcurrency: Int?
            enum CodingKeys: String, CodingKey { case maxConcurrency = "max_concurrency" }
        }

        enum CodingKeys: String, CodingKey {
            case url, shards
            case sessionStartLimit = "session_start_limit"
        }
    }

    public func gatewayBot() async throws -> GatewayBot {
        try await call("GET", "/gateway/bot", as: GatewayBot.self)
    }

    public func channel(_ id: String) async throws -> DiscordChannel {
        try await call("GET", "/channels/\(id)", as: DiscordChannel.self)
    }

    /// Posts a message; the raw response is returned so the caller can act on 429s and 5xx.
    public func createMessage(channelID: String, _ message: MessageCreate) async throws -> HTTPResponse {
        try await send("POST", "/channels/\(channelID)/messages", json: try JSON.encode(message))
    }
}

/// The body of `POST /channels/{id}/messages`.
public struct MessageCreate: Encodable, Sendable, Equatable {
    public var content: String
    /// Deterministic per reply chunk, so Discord drops a repeat (`enforce_nonce`); at most 25 characters.
    public var nonce: String?
    public var enforceNonce: Bool?
    public var messageReference: MessageReference?
    public var allowedMentions: AllowedMentions

    public init(content: String, nonce: String? = nil, messageReference: MessageReference? = nil, allowedMentions: AllowedMentions) {
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

        public init(repliedUser: Bool) { self.repliedUser = repliedUser }

        enum CodingKeys: String, CodingKey {
            case parse, users, roles
            case repliedUser = "replied_user"
        }
    }
}
