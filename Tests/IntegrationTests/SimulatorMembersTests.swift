import Crypto
import Foundation
import Shared
import Testing
import TestSupport

/// The simulator's routes for agents acting as members of a channel, against the simulator
/// process alone: deleting and editing messages, threads from a message, reactions,
/// attachments on injected messages, channel webhooks and history paging.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct SimulatorMembersTests {
    typealias World = DiscordSimulatorProcess.World

    func withSimulator(arguments: [String] = ["--no-rate-limit"], _ body: (DiscordSimulatorProcess, HTTPClient) async throws -> Void) async throws {
        let directory = try makeScratchDirectory("sim-members")
        let simulator = try await DiscordSimulatorProcess(directory: directory, arguments: arguments)
        do {
            try await body(simulator, HTTPClient(timeout: .seconds(10), name: "sim-members-test"))
        } catch {
            await simulator.stop()
            throw error
        }
        await simulator.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A bot-authenticated REST call under `/api/v10`.
    func rest(_ simulator: DiscordSimulatorProcess, _ http: HTTPClient, _ method: String, _ path: String, json: Any? = nil) async throws -> HTTPResponse {
        let body = try json.map { HTTPBody.json(try JSONSerialization.data(withJSONObject: $0)) }
        return try await http.request(method: method, url: simulator.apiBase + path, headers: ["Authorization": "Bot \(simulator.token)"], body: body)
    }

    func post(_ simulator: DiscordSimulatorProcess, _ http: HTTPClient, in channelID: String, _ content: String) async throws -> String {
        let response = try await rest(simulator, http, "POST", "/channels/\(channelID)/messages", json: ["content": content])
        #expect(response.status == 200, "\(response.bodyText)")
        return try #require(Self.decode(response)?["id"]?.stringValue)
    }

    static func decode(_ response: HTTPResponse) -> JSONValue? {
        try? JSON.decode(JSONValue.self, from: response.body)
    }

    static func errorCode(_ response: HTTPResponse) -> Int? {
        decode(response)?["code"]?.intValue
    }

    static func ids(_ response: HTTPResponse) -> [String] {
        guard case .array(let messages)? = decode(response) else { return [] }
        return messages.compactMap { $0["id"]?.stringValue }
    }

    @Test("a deleted message is 204, then Unknown Message, and stays in the posts marked deleted")
    func deleteMessage() async throws {
        try await withSimulator { simulator, http in
            let id = try await post(simulator, http, in: World.general, "to be deleted")
            let deleted = try await rest(simulator, http, "DELETE", "/channels/\(World.general)/messages/\(id)")
            #expect(deleted.status == 204, "\(deleted.bodyText)")

            let get = try await rest(simulator, http, "GET", "/channels/\(World.general)/messages/\(id)")
            #expect(get.status == 404)
            #expect(Self.errorCode(get) == 10008)
            let again = try await rest(simulator, http, "DELETE", "/channels/\(World.general)/messages/\(id)")
            #expect(again.status == 404)
            #expect(Self.errorCode(again) == 10008)
            let history = try await rest(simulator, http, "GET", "/channels/\(World.general)/messages")
            #expect(!Self.ids(history).contains(id))

            let post = try #require(try await simulator.posts(channelID: World.general).first)
            #expect(post.id == id)
            #expect(post.deleted)
            #expect((post.deletedAtMicros ?? 0) >= (post.receivedAtMicros ?? .max))
        }
    }

    @Test("every channel-message PATCH is an entry of the post's edits, with its time")
    func editsRecorded() async throws {
        try await withSimulator { simulator, http in
            let id = try await post(simulator, http, in: World.general, "draft")
            for text in ["draft, more", "draft, done"] {
                let edit = try await rest(simulator, http, "PATCH", "/channels/\(World.general)/messages/\(id)", json: ["content": text])
                #expect(edit.status == 200, "\(edit.bodyText)")
            }
            let post = try #require(try await simulator.posts(channelID: World.general).first)
            #expect(post.content == "draft, done")
            #expect(post.edits.map(\.content) == ["draft, more", "draft, done"])
            let times = post.edits.map(\.atMicros)
            #expect(times == times.sorted())
            #expect((times.first ?? 0) >= (post.receivedAtMicros ?? .max))
        }
    }

    @Test("a thread from a message: its id is the message's, once only, not in a DM or a thread, and takes posts")
    func threadFromMessage() async throws {
        try await withSimulator { simulator, http in
            let messageID = try await simulator.inject(channelID: World.general, content: "let's discuss")
            let created = try await rest(simulator, http, "POST", "/channels/\(World.general)/messages/\(messageID)/threads", json: ["name": "discussion", "auto_archive_duration": 60])
            #expect(created.status == 201, "\(created.bodyText)")
            let thread = try #require(Self.decode(created))
            #expect(thread["id"]?.stringValue == messageID)
            #expect(thread["type"]?.intValue == 11)
            #expect(thread["parent_id"]?.stringValue == World.general)
            #expect(thread["guild_id"]?.stringValue == World.guildID)
            #expect(thread["name"]?.stringValue == "discussion")
            #expect(thread["owner_id"]?.stringValue == World.botUserID)
            #expect(thread["thread_metadata"]?["auto_archive_duration"]?.intValue == 60)

            let second = try await rest(simulator, http, "POST", "/channels/\(World.general)/messages/\(messageID)/threads", json: ["name": "again"])
            #expect(second.status == 400)
            #expect(Self.errorCode(second) == 160004)

            let dmMessage = try await simulator.inject(channelID: World.dm, content: "in private")
            let inDM = try await rest(simulator, http, "POST", "/channels/\(World.dm)/messages/\(dmMessage)/threads", json: ["name": "nope"])
            #expect(inDM.status == 400)
            #expect(Self.errorCode(inDM) == 50024)
            let threadMessage = try await simulator.inject(channelID: World.thread, content: "in a thread")
            let inThread = try await rest(simulator, http, "POST", "/channels/\(World.thread)/messages/\(threadMessage)/threads", json: ["name": "nope"])
            #expect(inThread.status == 400)
            #expect(Self.errorCode(inThread) == 50024)
            let other = try await simulator.inject(channelID: World.general, content: "another")
            let badName = try await rest(simulator, http, "POST", "/channels/\(World.general)/messages/\(other)/threads", json: ["name": ""])
            #expect(badName.status == 400)
            #expect(Self.errorCode(badName) == 50035)

            let reply = try await post(simulator, http, in: messageID, "in the thread")
            let threadPosts = try await simulator.posts(channelID: messageID)
            #expect(threadPosts.map(\.id) == [reply])
            let original = try await rest(simulator, http, "GET", "/channels/\(World.general)/messages/\(messageID)")
            #expect(Self.decode(original)?["thread"]?["id"]?.stringValue == messageID)

            let threads = try await simulator.threads()
            #expect(threads.map(\.id) == [messageID])
            #expect(threads.first?.parentID == World.general)
            #expect(threads.first?.name == "discussion")
            #expect((threads.first?.createdAtMicros ?? 0) > 0)
        }
    }

    @Test("reactions on a human's message: unicode and custom are listed, an unknown custom emoji is 10014")
    func reactions() async throws {
        try await withSimulator { simulator, http in
            let messageID = try await simulator.inject(channelID: World.general, content: "nice work")
            let path = "/channels/\(World.general)/messages/\(messageID)/reactions"
            let thumbs = try await rest(simulator, http, "PUT", path + "/%F0%9F%91%8D/@me")
            #expect(thumbs.status == 204, "\(thumbs.bodyText)")
            let custom = try await rest(simulator, http, "PUT", path + "/shipit%3A700000000000000001/@me")
            #expect(custom.status == 204, "\(custom.bodyText)")
            let unknown = try await rest(simulator, http, "PUT", path + "/nope%3A123456789012345678/@me")
            #expect(unknown.status == 400)
            #expect(Self.errorCode(unknown) == 10014)
            let noMessage = try await rest(simulator, http, "PUT", "/channels/\(World.general)/messages/1/reactions/%F0%9F%91%8D/@me")
            #expect(noMessage.status == 404)
            #expect(Self.errorCode(noMessage) == 10008)

            let reactions = try await simulator.reactions()
            #expect(reactions.map(\.emoji) == ["👍", "shipit:700000000000000001"])
            #expect(reactions.allSatisfy { $0.messageID == messageID && $0.channelID == World.general && $0.userID == World.botUserID })
        }
    }

    @Test("an injected message's attachments are Discord's objects and their bytes are served as sent")
    func injectedAttachments() async throws {
        try await withSimulator { simulator, http in
            var generator = SystemRandomNumberGenerator()
            let bytes = Data((0..<5000).map { _ in UInt8.random(in: 0...255, using: &generator) })
            let messageID = try await simulator.inject(
                channelID: World.general, content: "see attached",
                attachments: [(filename: "report one.bin", contentType: "application/octet-stream", data: bytes), (filename: "note.txt", contentType: nil, data: Data("hi".utf8))]
            )
            let message = try await rest(simulator, http, "GET", "/channels/\(World.general)/messages/\(messageID)")
            guard case .array(let attachments)? = Self.decode(message)?["attachments"] else {
                Issue.record("no attachments: \(message.bodyText)")
                return
            }
            #expect(attachments.count == 2)
            let first = try #require(attachments.first)
            #expect(first["filename"]?.stringValue == "report one.bin")
            #expect(first["size"]?.intValue == 5000)
            #expect(first["content_type"]?.stringValue == "application/octet-stream")
            #expect(first["id"]?.stringValue != nil)
            #expect(first["proxy_url"] == first["url"])
            let url = try #require(first["url"]?.stringValue)
            let served = try await http.request(method: "GET", url: url)
            #expect(served.status == 200)
            #expect(Data(SHA256.hash(data: served.body)) == Data(SHA256.hash(data: bytes)))
            #expect(attachments.last?["content_type"] == nil)
        }
    }

    @Test("channel webhooks: created, executed under a username and into a thread, gone after a delete")
    func channelWebhooks() async throws {
        try await withSimulator { simulator, http in
            let created = try await rest(simulator, http, "POST", "/channels/\(World.general)/webhooks", json: ["name": "agents"])
            #expect(created.status == 200, "\(created.bodyText)")
            let webhook = try #require(Self.decode(created))
            let id = try #require(webhook["id"]?.stringValue)
            let token = try #require(webhook["token"]?.stringValue)
            #expect(webhook["type"]?.intValue == 1)
            #expect(webhook["channel_id"]?.stringValue == World.general)
            #expect(webhook["guild_id"]?.stringValue == World.guildID)
            #expect(webhook["application_id"]?.stringValue == World.botUserID)
            let badName = try await rest(simulator, http, "POST", "/channels/\(World.general)/webhooks", json: ["name": "my Discord hook"])
            #expect(badName.status == 400)
            #expect(Self.errorCode(badName) == 50035)
            let list = try await rest(simulator, http, "GET", "/channels/\(World.general)/webhooks")
            #expect(Self.ids(list) == [id])

            let execute = "\(simulator.apiBase)/webhooks/\(id)/\(token)"
            let named = try await http.request(method: "POST", url: execute + "?wait=true", body: .json(try JSONSerialization.data(withJSONObject: ["content": "hello from kasra", "username": "kasra"])))
            #expect(named.status == 200, "\(named.bodyText)")
            let message = try #require(Self.decode(named))
            #expect(message["webhook_id"]?.stringValue == id)
            #expect(message["author"]?["id"]?.stringValue == id)
            #expect(message["author"]?["username"]?.stringValue == "kasra")
            #expect(message["author"]?["bot"] == .bool(true))
            #expect(message["author"]?["avatar"] == .null)
            let plain = try await http.request(method: "POST", url: execute, body: .json(try JSONSerialization.data(withJSONObject: ["content": "no wait"])))
            #expect(plain.status == 204, "\(plain.bodyText)")
            let clyde = try await http.request(method: "POST", url: execute, body: .json(try JSONSerialization.data(withJSONObject: ["content": "x", "username": "Clyde"])))
            #expect(clyde.status == 400)
            #expect(Self.errorCode(clyde) == 50035)
            let wrongToken = try await http.request(method: "POST", url: "\(simulator.apiBase)/webhooks/\(id)/not-the-token", body: .json(Data(#"{"content":"x"}"#.utf8)))
            #expect(wrongToken.status == 404)
            #expect(Self.errorCode(wrongToken) == 10015)

            // Into a thread of the webhook's channel, multipart with a file.
            let starter = try await simulator.inject(channelID: World.general, content: "thread starter")
            let thread = try await rest(simulator, http, "POST", "/channels/\(World.general)/messages/\(starter)/threads", json: ["name": "work"])
            #expect(thread.status == 201, "\(thread.bodyText)")
            let inThread = try await http.request(method: "POST", url: execute + "?wait=true&thread_id=\(starter)", body: .multipart([
                MultipartPart(name: "payload_json", contentType: "application/json", data: Data(#"{"content":"in the thread","username":"kasra"}"#.utf8)),
                MultipartPart(name: "files[0]", filename: "log.txt", contentType: "text/plain", data: Data("log".utf8)),
            ]))
            #expect(inThread.status == 200, "\(inThread.bodyText)")
            #expect(Self.decode(inThread)?["channel_id"]?.stringValue == starter)
            #expect(Self.decode(inThread)?["attachments"]?.arrayFirst?["filename"]?.stringValue == "log.txt")
            let unknownThread = try await http.request(method: "POST", url: execute + "?thread_id=\(World.thread)", body: .json(Data(#"{"content":"x"}"#.utf8)))
            #expect(unknownThread.status == 404)
            #expect(Self.errorCode(unknownThread) == 10003)

            let posts = try await simulator.posts()
            let webhookPosts = posts.filter { $0.kind == "webhook" }
            #expect(webhookPosts.count == 3)
            #expect(webhookPosts.allSatisfy { $0.webhookID == id })
            #expect(webhookPosts.map(\.authorName) == ["kasra", "agents", "kasra"])
            #expect(webhookPosts.last?.channelID == starter)

            try await simulator.deleteWebhook(id)
            let afterDelete = try await http.request(method: "POST", url: execute, body: .json(Data(#"{"content":"x"}"#.utf8)))
            #expect(afterDelete.status == 404)
            #expect(Self.errorCode(afterDelete) == 10015)

            let another = try #require(Self.decode(try await rest(simulator, http, "POST", "/channels/\(World.general)/webhooks", json: ["name": "second"]))?["id"]?.stringValue)
            let botDelete = try await rest(simulator, http, "DELETE", "/webhooks/\(another)")
            #expect(botDelete.status == 204)
            let deleteAgain = try await rest(simulator, http, "DELETE", "/webhooks/\(another)")
            #expect(Self.errorCode(deleteAgain) == 10015)
        }
    }

    @Test("webhook executes have a bucket per webhook outside the global limit; deletes one per channel")
    func webhookAndDeleteBuckets() async throws {
        // One bot request a second: only the webhook executes may go faster.
        try await withSimulator(arguments: ["--rate-limit", "2/5", "--global-limit", "1"]) { simulator, http in
            let webhook = try #require(Self.decode(try await rest(simulator, http, "POST", "/channels/\(World.general)/webhooks", json: ["name": "agents"])))
            let execute = "\(simulator.apiBase)/webhooks/\(webhook["id"]?.stringValue ?? "")/\(webhook["token"]?.stringValue ?? "")"
            var statuses: [Int] = []
            var buckets: Set<String> = []
            var limited: HTTPResponse?
            for index in 0..<3 {
                let response = try await http.request(method: "POST", url: execute, body: .json(Data(#"{"content":"n\#(index)"}"#.utf8)))
                statuses.append(response.status)
                if let bucket = response.headers["x-ratelimit-bucket"] { buckets.insert(bucket) }
                if response.status == 429 { limited = response }
            }
            #expect(statuses == [204, 204, 429])
            #expect(buckets.count == 1)
            #expect(limited.flatMap(Self.decode)?["global"] == .bool(false))

            // Bot creates in the same channel still have their own two, in another bucket.
            var ids: [String] = []
            for index in 0..<2 {
                try await Task.sleep(for: .milliseconds(1100))
                ids.append(try await post(simulator, http, in: World.general, "bot \(index)"))
            }
            try await Task.sleep(for: .milliseconds(1100))
            let create = try await rest(simulator, http, "POST", "/channels/\(World.general)/messages", json: ["content": "bot three"])
            #expect(create.status == 429)
            #expect(Self.decode(create)?["global"] == .bool(false))
            if let bucket = create.headers["x-ratelimit-bucket"] { #expect(!buckets.contains(bucket)) }

            var deletes: [Int] = []
            for id in [ids[0], ids[1], ids[0]] {
                try await Task.sleep(for: .milliseconds(1100))
                deletes.append(try await rest(simulator, http, "DELETE", "/channels/\(World.general)/messages/\(id)").status)
            }
            #expect(deletes == [204, 204, 429])
            let stats = try await simulator.stats()
            #expect(stats["global_rate_limited"]?.intValue == 0)
        }
    }

    @Test("history pages newest first with before, after, around and limit")
    func historyPaging() async throws {
        try await withSimulator { simulator, http in
            var ids: [String] = []
            for index in 0..<7 {
                ids.append(try await simulator.inject(channelID: World.ops, content: "message \(index)"))
            }
            let path = "/channels/\(World.ops)/messages"
            #expect(Self.ids(try await rest(simulator, http, "GET", path)) == ids.reversed())
            #expect(Self.ids(try await rest(simulator, http, "GET", path + "?limit=3")) == [ids[6], ids[5], ids[4]])
            #expect(Self.ids(try await rest(simulator, http, "GET", path + "?before=\(ids[4])&limit=2")) == [ids[3], ids[2]])
            #expect(Self.ids(try await rest(simulator, http, "GET", path + "?after=\(ids[1])&limit=2")) == [ids[3], ids[2]])
            #expect(Self.ids(try await rest(simulator, http, "GET", path + "?around=\(ids[3])&limit=3")) == [ids[4], ids[3], ids[2]])
            #expect(Self.ids(try await rest(simulator, http, "GET", path + "?around=\(ids[0])&limit=3")) == [ids[2], ids[1], ids[0]])
            for bad in ["0", "101"] {
                let response = try await rest(simulator, http, "GET", path + "?limit=\(bad)")
                #expect(response.status == 400)
                #expect(Self.errorCode(response) == 50035)
            }
        }
    }
}

extension JSONValue {
    fileprivate var arrayFirst: JSONValue? {
        if case .array(let values) = self { return values.first }
        return nil
    }
}
