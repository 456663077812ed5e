import Foundation
import Shared

/// The project's Discord simulator as a real process, and a client for its control API.
public final class DiscordSimulatorProcess: Sendable {
    public let process: ChildProcess
    public let port: Int
    public let token: String
    private let http = HTTPClient(timeout: .seconds(10), name: "sim-control")

    /// Ids of the simulator's fixed world.
    public enum World {
        public static let botUserID = "100000000000000001"
        public static let guildID = "200000000000000001"
        public static let general = "300000000000000001"
        public static let agents = "300000000000000002"
        public static let ops = "300000000000000003"
        public static let thread = "300000000000000010"
        public static let dm = "300000000000000099"
        public static let human = "400000000000000001"
        public static let roleID = "600000000000000001"
    }

    public var apiBase: String { "http://127.0.0.1:\(port)/api/v10" }

    public init(directory: String, token: String = "sim-token-for-tests-0000", arguments: [String] = []) async throws {
        self.token = token
        let stdoutPath = directory + "/simulator.out"
        process = try ChildProcess(
            name: "DiscordSimulator",
            executable: BuildProducts.path("DiscordSimulator"),
            arguments: ["--port", "0", "--token", token] + arguments,
            environment: ["PATH": "/usr/bin:/bin"],
            logPath: directory + "/simulator.log",
            stdoutPath: stdoutPath
        )
        let found = await eventually(timeout: .seconds(15)) { () -> Int? in
            guard let text = try? String(contentsOfFile: stdoutPath, encoding: .utf8),
                  let match = text.firstMatch(of: #/listening on http://127\.0\.0\.1:(\d+)/#) else { return nil }
            return Int(match.output.1)
        }
        guard let found else {
            await process.stop()
            throw TestSupportError("the simulator did not report its port: \(process.log)")
        }
        port = found
    }

    public func stop() async { await process.stop(grace: .seconds(3)) }

    // MARK: Control API

    /// Injects a human's message and returns its Discord message id. `attachments` become
    /// Discord attachment objects on it, their bytes served at each `url`.
    @discardableResult
    public func inject(
        channelID: String,
        content: String,
        mentionBot: Bool = false,
        authorIsBot: Bool = false,
        attachments: [(filename: String, contentType: String?, data: Data)] = []
    ) async throws -> String {
        var body: [String: Any] = ["channel_id": channelID, "content": content, "mention_bot": mentionBot, "author_bot": authorIsBot]
        if !attachments.isEmpty {
            body["attachments"] = attachments.map { file -> [String: Any] in
                var entry: [String: Any] = ["filename": file.filename, "data_base64": file.data.base64EncodedString()]
                if let contentType = file.contentType { entry["content_type"] = contentType }
                return entry
            }
        }
        let response = try await control("POST", "/_sim/messages", body: body)
        guard (200..<300).contains(response.status), let id = (try? JSON.decode(JSONValue.self, from: response.body))?["id"]?.stringValue else {
            throw TestSupportError("inject failed: \(response.status) \(response.bodyText)")
        }
        return id
    }

    /// What the bot posted, oldest first.
    public func posts(channelID: String? = nil) async throws -> [SimulatedPost] {
        let query = channelID.map { "?channel_id=\($0)" } ?? ""
        let response = try await control("GET", "/_sim/posts" + query)
        struct Posts: Decodable { var posts: [SimulatedPost] }
        return try JSON.decode(Posts.self, from: response.body).posts
    }

    /// The bot's posts from creation index `index` on (0-based), oldest first.
    public func posts(afterIndex index: Int) async throws -> [SimulatedPost] {
        let response = try await control("GET", "/_sim/posts?after_index=\(index)")
        struct Posts: Decodable { var posts: [SimulatedPost] }
        return try JSON.decode(Posts.self, from: response.body).posts
    }

    /// Threads the bot started from messages, oldest first (`GET /_sim/threads`).
    public func threads() async throws -> [SimulatedThread] {
        struct Threads: Decodable { var threads: [SimulatedThread] }
        return try JSON.decode(Threads.self, from: try await control("GET", "/_sim/threads").body).threads
    }

    /// Reactions the bot added to any message, in the order it added them (`GET /_sim/reactions`).
    public func reactions() async throws -> [SimulatedReaction] {
        struct Reactions: Decodable { var reactions: [SimulatedReaction] }
        return try JSON.decode(Reactions.self, from: try await control("GET", "/_sim/reactions").body).reactions
    }

    /// Deletes a channel webhook behind the connector's back: its executes then answer 10015.
    public func deleteWebhook(_ id: String) async throws {
        let response = try await control("DELETE", "/_sim/webhooks/\(id)")
        guard response.status == 200 else {
            throw TestSupportError("deleteWebhook failed: \(response.status) \(response.bodyText)")
        }
    }

    public func stats() async throws -> JSONValue {
        try JSON.decode(JSONValue.self, from: try await control("GET", "/_sim/stats").body)
    }

    /// Makes the next message creates answer with these statuses (500, 429, ...), as Discord's
    /// JSON errors or, with `html`, as the HTML page a proxy in front of Discord would send.
    public func injectFaults(messageCreate statuses: [Int], html: Bool = false) async throws {
        _ = try await control("POST", "/_sim/faults", body: ["message_create": statuses, "html": html])
    }

    /// Sends `text` as one gateway frame, exactly as given, to every connection.
    public func sendRawFrame(_ text: String) async throws {
        _ = try await http.request(method: "POST", url: "http://127.0.0.1:\(port)/_sim/gateway/raw", headers: [:], body: .json(Data(text.utf8)))
    }

    /// Typing calls and reactions the bot made.
    public func feedback() async throws -> JSONValue {
        try JSON.decode(JSONValue.self, from: try await control("GET", "/_sim/feedback").body)
    }

    /// Creates a text channel in the fixed guild through the REST API, as a bot would.
    public func createChannel(name: String) async throws -> String {
        let body = try JSONSerialization.data(withJSONObject: ["name": name, "type": 0])
        let response = try await http.request(
            method: "POST", url: apiBase + "/guilds/\(World.guildID)/channels",
            headers: ["Authorization": "Bot \(token)"], body: .json(body)
        )
        guard (200..<300).contains(response.status), let id = (try? JSON.decode(JSONValue.self, from: response.body))?["id"]?.stringValue else {
            throw TestSupportError("channel create failed: \(response.status) \(response.bodyText)")
        }
        return id
    }

    // MARK: Interactions

    /// Creates an interaction as if a user ran a command (`type` 2) or used a component (3),
    /// through `POST /_sim/interactions`. With `deliver: "gateway"` it is dispatched as
    /// INTERACTION_CREATE; `"none"` only stores it.
    public func createInteraction(
        type: Int = 2,
        channelID: String = World.general,
        userID: String? = nil,
        name: String? = "ask",
        options: [[String: Any]]? = nil,
        customID: String? = nil,
        componentType: Int? = nil,
        values: [String]? = nil,
        messageID: String? = nil,
        deliver: String = "gateway"
    ) async throws -> SimulatedInteraction {
        var body: [String: Any] = ["type": type, "channel_id": channelID, "deliver": deliver]
        if let userID { body["user_id"] = userID }
        if type == 2, let name { body["name"] = name }
        if let options { body["options"] = options }
        if let customID { body["custom_id"] = customID }
        if let componentType { body["component_type"] = componentType }
        if let values { body["values"] = values }
        if let messageID { body["message_id"] = messageID }
        let response = try await control("POST", "/_sim/interactions", body: body)
        guard response.status == 201 else {
            throw TestSupportError("createInteraction failed: \(response.status) \(response.bodyText)")
        }
        return try JSON.decode(SimulatedInteraction.self, from: response.body)
    }

    /// A user using a component of a message (any channel), through
    /// `POST /_sim/messages/{id}/click`: the component by `customID`, or else the button
    /// labelled `label`; `values` for a string select. The interaction is delivered as
    /// `createInteraction` delivers it (`"http"`: to the Interactions Endpoint URL, whose answer
    /// comes back in `httpDelivery`).
    public func click(
        messageID: String,
        customID: String? = nil,
        label: String? = nil,
        values: [String]? = nil,
        userID: String? = nil,
        deliver: String = "gateway"
    ) async throws -> SimulatedInteraction {
        let response = try await clickResponse(messageID: messageID, customID: customID, label: label, values: values, userID: userID, deliver: deliver)
        guard response.status == 201 else {
            throw TestSupportError("click failed: \(response.status) \(response.bodyText)")
        }
        return try JSON.decode(SimulatedInteraction.self, from: response.body)
    }

    /// The raw answer of the click call, for tests of its errors.
    public func clickResponse(
        messageID: String,
        customID: String? = nil,
        label: String? = nil,
        values: [String]? = nil,
        userID: String? = nil,
        deliver: String = "gateway"
    ) async throws -> HTTPResponse {
        var body: [String: Any] = ["deliver": deliver]
        if let customID { body["custom_id"] = customID }
        if let label { body["label"] = label }
        if let values { body["values"] = values }
        if let userID { body["user_id"] = userID }
        return try await control("POST", "/_sim/messages/\(messageID)/click", body: body)
    }

    /// The application's public key (hex), which checks the signatures of HTTP deliveries.
    public func applicationVerifyKey() async throws -> String {
        let response = try await control("GET", "/_sim/application")
        guard response.status == 200, let key = (try? JSON.decode(JSONValue.self, from: response.body))?["verify_key"]?.stringValue else {
            throw TestSupportError("applicationVerifyKey failed: \(response.status) \(response.bodyText)")
        }
        return key
    }

    /// Sets the Interactions Endpoint URL that `deliver: "http"` POSTs to; `""` clears it.
    public func setInteractionsEndpoint(_ url: String) async throws {
        let response = try await control("PUT", "/_sim/interactions/endpoint", body: ["url": url])
        guard response.status == 200 else {
            throw TestSupportError("setInteractionsEndpoint failed: \(response.status) \(response.bodyText)")
        }
    }

    /// Every callback request that named a known interaction, accepted or not, in arrival order.
    public func interactionCallbacks() async throws -> [SimulatedInteractionCallback] {
        struct Callbacks: Decodable { var callbacks: [SimulatedInteractionCallback] }
        return try JSON.decode(Callbacks.self, from: try await control("GET", "/_sim/interactions/callbacks").body).callbacks
    }

    /// Expires an interaction's token at once: its webhook answers 401, code 50027.
    public func expireInteraction(_ id: String) async throws {
        let response = try await control("POST", "/_sim/interactions/\(id)/expire")
        guard response.status == 200 else {
            throw TestSupportError("expireInteraction failed: \(response.status) \(response.bodyText)")
        }
    }

    public func control(_ method: String, _ path: String, body: [String: Any]? = nil) async throws -> HTTPResponse {
        let data = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        return try await http.request(method: method, url: "http://127.0.0.1:\(port)" + path, body: data.map(HTTPBody.json))
    }
}

/// `POST /_sim/interactions`' answer: the interaction's id and token, the object as Discord
/// sends it, and when it was created and dispatched (`nil` for `deliver: "none"`).
public struct SimulatedInteraction: Decodable, Sendable {
    public var id: String
    public var token: String
    public var interaction: JSONValue
    public var createdAtMicros: Int
    public var dispatchedAtMicros: Int?
    /// For `deliver: "http"`: what the Interactions Endpoint answered.
    public var httpDelivery: HTTPDelivery?

    /// The endpoint's answer: `status` 0 when none came within 3 s; `body` its JSON, if any.
    public struct HTTPDelivery: Decodable, Sendable {
        public var status: Int
        public var latencyMicros: Int
        public var body: JSONValue?

        enum CodingKeys: String, CodingKey {
            case status, body
            case latencyMicros = "latency_us"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, token, interaction
        case createdAtMicros = "created_at_us"
        case dispatchedAtMicros = "dispatched_at_us"
        case httpDelivery = "http_delivery"
    }
}

/// One callback request for a known interaction, as the simulator recorded it.
public struct SimulatedInteractionCallback: Decodable, Sendable {
    public var interactionID: String
    /// The callback type of the body (`nil` if it had none).
    public var type: Int?
    public var receivedAtMicros: Int
    /// From the interaction's creation to this request.
    public var latencyMicros: Int
    public var accepted: Bool
    public var status: Int
    /// Discord's JSON error code when rejected.
    public var code: Int?
    /// `callback` (the callback route) or `endpoint` (the answer to an HTTP delivery).
    public var via: String?

    enum CodingKeys: String, CodingKey {
        case type, accepted, status, code, via
        case interactionID = "interaction_id"
        case receivedAtMicros = "received_at_us"
        case latencyMicros = "latency_us"
    }
}

/// A message the bot posted, as the simulator recorded it.
public struct SimulatedPost: Decodable, Sendable {
    public var id: String
    public var channelID: String
    public var content: String
    public var nonce: String?
    public var messageReference: Reference?
    public var pinged: Pinged
    /// When the simulator received the create request, in microseconds since 1970.
    public var receivedAtMicros: Int?
    /// Files uploaded with the post (multipart creates), in `files[n]` order.
    public var attachments: [SimulatedAttachment]
    /// `message` (a channel post), `original` (an interaction's original response) or `followup`.
    public var kind: String
    /// The interaction the post answers, if any.
    public var interactionID: String?
    /// Message flags (64 ephemeral, 128 loading) as they are now, after any edits.
    public var flags: Int
    /// Edits since creation (channel-message PATCH, webhook PATCH, type 7 callbacks), oldest first.
    public var edits: [Edit]
    public var edited: Int { edits.count }
    /// The message's action rows as they are now, after any edits; `nil` when it has none.
    public var components: JSONValue?
    /// Deleted through `DELETE /channels/{id}/messages/{id}`; still listed.
    public var deleted: Bool
    public var deletedAtMicros: Int?
    /// The channel webhook that posted it (`kind` `webhook`), or the application for
    /// interaction responses.
    public var webhookID: String?
    /// The author's username: the bot's, or the name a webhook execute gave.
    public var authorName: String?

    public struct Edit: Decodable, Sendable {
        public var content: String
        public var flags: Int
        public var atMicros: Int
        enum CodingKeys: String, CodingKey {
            case content, flags
            case atMicros = "at_us"
        }
    }

    public struct Reference: Decodable, Sendable {
        public var messageID: String?
        enum CodingKeys: String, CodingKey { case messageID = "message_id" }
    }

    public struct Pinged: Decodable, Sendable {
        public var everyone: Bool
        public var roles: [String]
        public var users: [String]
    }

    enum CodingKeys: String, CodingKey {
        case id, content, nonce, pinged, attachments, kind, flags, edits, components, deleted
        case interactionID = "interaction_id"
        case deletedAtMicros = "deleted_at_us"
        case webhookID = "webhook_id"
        case authorName = "author_name"
        case channelID = "channel_id"
        case receivedAtMicros = "received_at_us"
        case messageReference = "message_reference"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        channelID = try container.decode(String.self, forKey: .channelID)
        content = try container.decode(String.self, forKey: .content)
        nonce = try? container.decodeIfPresent(String.self, forKey: .nonce)
        messageReference = try container.decodeIfPresent(Reference.self, forKey: .messageReference)
        pinged = try container.decode(Pinged.self, forKey: .pinged)
        receivedAtMicros = try container.decodeIfPresent(Int.self, forKey: .receivedAtMicros)
        attachments = try container.decodeIfPresent([SimulatedAttachment].self, forKey: .attachments) ?? []
        kind = try container.decodeIfPresent(String.self, forKey: .kind) ?? "message"
        interactionID = try container.decodeIfPresent(String.self, forKey: .interactionID)
        flags = try container.decodeIfPresent(Int.self, forKey: .flags) ?? 0
        edits = try container.decodeIfPresent([Edit].self, forKey: .edits) ?? []
        components = try container.decodeIfPresent(JSONValue.self, forKey: .components)
        deleted = try container.decodeIfPresent(Bool.self, forKey: .deleted) ?? false
        deletedAtMicros = try container.decodeIfPresent(Int.self, forKey: .deletedAtMicros)
        webhookID = try container.decodeIfPresent(String.self, forKey: .webhookID)
        authorName = try container.decodeIfPresent(String.self, forKey: .authorName)
    }
}

/// A thread the bot started from a message, as `GET /_sim/threads` lists it.
public struct SimulatedThread: Decodable, Sendable {
    /// The id of the message it was started from, as on Discord.
    public var id: String
    public var parentID: String
    public var name: String
    public var createdAtMicros: Int

    enum CodingKeys: String, CodingKey {
        case id, name
        case parentID = "parent_id"
        case createdAtMicros = "created_at_us"
    }
}

/// A reaction the bot added, as `GET /_sim/reactions` lists it.
public struct SimulatedReaction: Decodable, Sendable {
    public var channelID: String
    public var messageID: String
    /// A unicode emoji, or `name:id` for a custom one.
    public var emoji: String
    public var userID: String
    public var atMicros: Int

    enum CodingKeys: String, CodingKey {
        case emoji
        case channelID = "channel_id"
        case messageID = "message_id"
        case userID = "user_id"
        case atMicros = "at_us"
    }
}

/// An attachment object as Discord (and the simulator) returns it on a created message.
public struct SimulatedAttachment: Decodable, Sendable, Equatable {
    public var id: String
    public var filename: String
    public var description: String?
    public var contentType: String?
    public var size: Int
    /// Where the exact uploaded bytes can be fetched, without authentication.
    public var url: String
    public var proxyURL: String

    enum CodingKeys: String, CodingKey {
        case id, filename, description, size, url
        case contentType = "content_type"
        case proxyURL = "proxy_url"
    }
}
