import Foundation
import Testing
@testable import Shared

/// Every route the connector calls: method, path, the rate-limit route and its major parameter.
@Suite("DiscordEndpoint routes")
struct DiscordEndpointTests {
    struct Row: Sendable, CustomTestStringConvertible {
        var endpoint: DiscordEndpoint
        var method: String
        var path: String
        var route: String
        var major: String
        var botAuthorization = true
        var countsGlobally = true
        var testDescription: String { route }
    }

    static let message = MessageCreate(content: "hi", allowedMentions: .init(repliedUser: false))

    static let rows: [Row] = [
        Row(endpoint: .currentUser, method: "GET", path: "/users/@me", route: "GET /users/@me", major: ""),
        Row(endpoint: .gatewayBot, method: "GET", path: "/gateway/bot", route: "GET /gateway/bot", major: ""),
        Row(endpoint: .channel("11"), method: "GET", path: "/channels/11", route: "GET /channels/{channel.id}", major: "11"),
        Row(endpoint: .messages(channel: "11", after: "5", limit: 250), method: "GET", path: "/channels/11/messages?after=5&limit=100", route: "GET /channels/{channel.id}/messages", major: "11"),
        Row(endpoint: .typing(channel: "11"), method: "POST", path: "/channels/11/typing", route: "POST /channels/{channel.id}/typing", major: "11"),
        Row(endpoint: .createMessage(channel: "11", message), method: "POST", path: "/channels/11/messages", route: "POST /channels/{channel.id}/messages", major: "11"),
        Row(endpoint: .editMessage(channel: "11", message: "22", ["content": "edited"]), method: "PATCH", path: "/channels/11/messages/22", route: "PATCH /channels/{channel.id}/messages/{message.id}", major: "11"),
        Row(endpoint: .deleteMessage(channel: "11", message: "22"), method: "DELETE", path: "/channels/11/messages/22", route: "DELETE /channels/{channel.id}/messages/{message.id}", major: "11"),
        Row(endpoint: .addReaction(channel: "11", message: "22", emoji: "👍"), method: "PUT", path: "/channels/11/messages/22/reactions/%F0%9F%91%8D/@me", route: "PUT /channels/{channel.id}/messages/{message.id}/reactions/{emoji}/@me", major: "11"),
        Row(endpoint: .addReaction(channel: "11", message: "22", emoji: "party_blob:1234"), method: "PUT", path: "/channels/11/messages/22/reactions/party_blob%3A1234/@me", route: "PUT /channels/{channel.id}/messages/{message.id}/reactions/{emoji}/@me", major: "11"),
        Row(endpoint: .startThread(channel: "11", message: "22", name: "design"), method: "POST", path: "/channels/11/messages/22/threads", route: "POST /channels/{channel.id}/messages/{message.id}/threads", major: "11"),
        Row(endpoint: .guildChannels("33"), method: "GET", path: "/guilds/33/channels", route: "GET /guilds/{guild.id}/channels", major: "33"),
        Row(endpoint: .createChannel(guild: "33", ["name": "ops"]), method: "POST", path: "/guilds/33/channels", route: "POST /guilds/{guild.id}/channels", major: "33"),
        Row(endpoint: .executeWebhook(id: "44", token: "tok", threadID: "55", message), method: "POST", path: "/webhooks/44/tok?wait=true&thread_id=55", route: "POST /webhooks/{webhook.id}/{webhook.token}", major: "44", botAuthorization: false, countsGlobally: false),
        Row(endpoint: .editOriginalResponse(applicationID: "77", token: "itok", ["content": "done"]), method: "PATCH", path: "/webhooks/77/itok/messages/@original", route: "PATCH /webhooks/{application.id}/{interaction.token}/messages/@original", major: "77/itok", botAuthorization: false, countsGlobally: false),
        Row(endpoint: .followUp(applicationID: "77", token: "itok", ["content": "more"]), method: "POST", path: "/webhooks/77/itok?wait=true", route: "POST /webhooks/{application.id}/{interaction.token}", major: "77/itok", botAuthorization: false, countsGlobally: false),
        Row(endpoint: .commands(applicationID: "77"), method: "GET", path: "/applications/77/commands", route: "GET /applications/{application.id}/commands", major: "77"),
        Row(endpoint: .overwriteCommands(applicationID: "77", guildID: "33", [String]()), method: "PUT", path: "/applications/77/guilds/33/commands", route: "PUT /applications/{application.id}/guilds/{guild.id}/commands", major: "77"),
        Row(endpoint: .interactionCallback(id: "66", token: "itok", ["type": 5]), method: "POST", path: "/interactions/66/itok/callback", route: "POST /interactions/{interaction.id}/{interaction.token}/callback", major: "66", botAuthorization: false, countsGlobally: false),
    ]

    @Test("method, path, route, major parameter and authorization", arguments: rows)
    func route(row: Row) {
        #expect(row.endpoint.method == row.method)
        #expect(row.endpoint.path == row.path)
        #expect(row.endpoint.route == row.route)
        #expect(row.endpoint.major == row.major)
        #expect(row.endpoint.botAuthorization == row.botAuthorization)
        #expect(row.endpoint.countsGlobally == row.countsGlobally)
    }

    @Test("a message with files is payload_json plus files[n], with attachments naming each file")
    func multipartBody() throws {
        let file = DiscordFile(filename: "report.pdf", contentType: "application/pdf", data: Data([0, 1, 2, 255]))
        let body = try #require(try DiscordEndpoint.createMessage(channel: "11", Self.message, files: [file]).encodedBody())
        guard case .multipart(let parts) = body else { Issue.record("expected multipart, got \(body)"); return }
        #expect(parts.map(\.name) == ["payload_json", "files[0]"])
        #expect(parts[0].contentType == "application/json")
        let payload = try JSON.decode(JSONValue.self, from: parts[0].data)
        #expect(payload["content"]?.stringValue == "hi")
        guard case .array(let attachments)? = payload["attachments"] else { Issue.record("no attachments in \(payload)"); return }
        #expect(attachments.first?["id"]?.intValue == 0)
        #expect(attachments.first?["filename"]?.stringValue == "report.pdf")
        #expect(parts[1].filename == "report.pdf")
        #expect(parts[1].contentType == "application/pdf")
        #expect(parts[1].data == Data([0, 1, 2, 255]))
    }

    @Test("a message without files is JSON without an attachments field")
    func jsonBody() throws {
        let body = try #require(try DiscordEndpoint.createMessage(channel: "11", Self.message).encodedBody())
        guard case .json(let data) = body else { Issue.record("expected JSON"); return }
        let payload = try JSON.decode(JSONValue.self, from: data)
        #expect(payload["attachments"] == nil)
        #expect(payload["allowed_mentions"]?["parse"] == .array([]))
        #expect(try DiscordEndpoint.deleteMessage(channel: "1", message: "2").encodedBody() == nil)
    }
}
