import Crypto
import Foundation
import Shared
import Testing
import TestSupport

/// Rich replies end to end (CONTRACT section 6): files, reactions, live progress and threads,
/// from an agent's record on the connector's inbox to what the simulator received.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct RichReplyTests {
    typealias World = DiscordSimulatorProcess.World
    static let connectorInbox = "sos:inbox:discord-connector"

    /// A human's request in `channel`, delivered to kasra: its request id and message id.
    func request(_ stack: ConnectorStack, _ text: String, channel: String = World.general) async throws -> (request: String, message: String) {
        let before = try await stack.entries("sos:inbox:kasra").count
        let message = try await stack.simulator.inject(channelID: channel, content: text, mentionBot: true)
        let entry = try #require(await eventually { () -> StreamEntry? in
            let entries = try? await stack.entries("sos:inbox:kasra")
            return (entries?.count ?? 0) > before ? entries?.last : nil
        })
        return (try #require(entry.fields["request_id"]), message)
    }

    func reply(_ stack: ConnectorStack, from agent: String = "kasra", _ fields: StreamFields) async throws {
        var all: StreamFields = [("from", agent), ("to", "discord-connector")]
        all.append(contentsOf: fields)
        try await stack.redis.client.run(XADD(Self.connectorInbox, fields: all))
    }

    func post(_ stack: ConnectorStack, timeout: Duration = .seconds(15), where match: @escaping @Sendable (SimulatedPost) -> Bool) async -> SimulatedPost? {
        await eventually(timeout: timeout) { try? await stack.simulator.posts().first(where: match) }
    }

    func download(_ url: String) async throws -> Data {
        try await HTTPClient(name: "rich-test").request(method: "GET", url: url).body
    }

    @Test("a reply with two files (one with every byte value) arrives with identical bytes and its text; files over MAX_UPLOAD_BYTES keep the text, are named, and dead-letter the record")
    func files() async throws {
        try await ConnectorStack.with(label: "rich-files", environment: ["MAX_UPLOAD_BYTES": "300000"]) { stack in
            try await stack.startServices()
            let (requestID, _) = try await request(stack, "the report please")
            let binary = Data((0..<4096).map { UInt8($0 % 256) })
            let notes = Data("line one\nline two\n".utf8)
            var fields: StreamFields = [("text", "here is the report"), ("ack_for", requestID)]
            fields.append("file:report.bin", bytes: RedisBytes(Array(binary)))
            fields.append("file:notes.txt", bytes: RedisBytes(Array(notes)))
            try await reply(stack, fields)
            let posted = try #require(await post(stack) { $0.content == "here is the report" })
            #expect(posted.attachments.map(\.filename) == ["report.bin", "notes.txt"])
            let fetched = try await download(try #require(posted.attachments.first?.url))
            #expect(Data(SHA256.hash(data: fetched)) == Data(SHA256.hash(data: binary)))
            #expect(try await download(try #require(posted.attachments.last?.url)) == notes)
            #expect(posted.attachments.last?.contentType?.hasPrefix("text/plain") == true)

            var big: StreamFields = [("text", "too much"), ("ack_for", requestID)]
            big.append("file:huge.bin", bytes: RedisBytes(Array(repeating: 7, count: 400_000)))
            try await reply(stack, big)
            let kept = try #require(await post(stack) { $0.content.hasPrefix("too much") })
            #expect(kept.attachments.isEmpty)
            #expect(kept.content.contains("huge.bin, 400000 bytes, is not attached"))
            let dead = await eventually { try? await stack.entries("discord:dead").first { $0.fields["reason"]?.contains("MAX_UPLOAD_BYTES") == true } }
            #expect(dead?.fields.bytes("field:file:huge.bin")?.count == 400_000, "the dead letter keeps the file")
        }
    }

    @Test("an 11 MiB file with the default MAX_UPLOAD_BYTES (10 MiB): the text is posted naming the file, the record is dead-lettered with its bytes")
    func elevenMebibytes() async throws {
        try await ConnectorStack.with(label: "rich-11mib") { stack in
            try await stack.startServices()
            let (requestID, _) = try await request(stack, "the big export please")
            let size = 11 * 1024 * 1024
            var fields: StreamFields = [("text", "the export"), ("ack_for", requestID)]
            fields.append("file:export.bin", bytes: RedisBytes(Array(repeating: 0x5a, count: size)))
            try await reply(stack, fields)
            let kept = try #require(await post(stack) { $0.content.hasPrefix("the export") })
            #expect(kept.attachments.isEmpty)
            #expect(kept.content.contains("export.bin, \(size) bytes, is not attached"), "\(kept.content)")
            let dead = await eventually { try? await stack.entries("discord:dead").first { $0.fields["reason"]?.contains("MAX_UPLOAD_BYTES") == true } }
            #expect(dead?.fields.bytes("field:file:export.bin")?.count == size, "the dead letter keeps the file")
        }
    }

    @Test("Discord refusing a file as too large (413, 40005) still posts the text with the file named, and dead-letters the record")
    func discordRefusesTheFile() async throws {
        try await ConnectorStack.with(label: "rich-413", simulatorArguments: ["--max-upload-bytes", "1000"]) { stack in
            try await stack.startServices()
            let (requestID, _) = try await request(stack, "a screenshot?")
            var fields: StreamFields = [("text", "see attached"), ("ack_for", requestID)]
            fields.append("file:shot.png", bytes: RedisBytes(Array(repeating: 1, count: 5_000)))
            try await reply(stack, fields)
            let kept = try #require(await post(stack) { $0.content.hasPrefix("see attached") })
            #expect(kept.content.contains("shot.png, 5000 bytes, is not attached: Discord refused it"))
            let dead = await eventually { try? await stack.entries("discord:dead").first { $0.fields["reason"]?.contains("too large") == true } }
            #expect(dead != nil)
        }
    }

    @Test("react adds the emoji to the request's message (unicode and custom) and posts nothing else")
    func react() async throws {
        try await ConnectorStack.with(label: "rich-react") { stack in
            try await stack.startServices()
            let (requestID, messageID) = try await request(stack, "ship it")
            let postsBefore = try await stack.simulator.posts().count
            try await reply(stack, [("react", "👍"), ("ack_for", requestID)])
            let reacted = await eventually { () -> JSONValue? in
                guard let feedback = try? await stack.simulator.feedback(), case .array(let reactions)? = feedback["reactions"],
                      let match = reactions.first(where: { $0["message_id"]?.stringValue == messageID }) else { return nil }
                return match
            }
            #expect(reacted?["emoji"]?.stringValue == "👍")
            try await reply(stack, [("react", "shipit:700000000000000001"), ("ack_for", requestID)])
            let custom = await eventually { () -> SimulatedReaction? in
                try? await stack.simulator.reactions().first { $0.messageID == messageID && $0.emoji.contains("shipit") }
            }
            #expect(custom != nil, "the custom emoji was not added")
            try await Task.sleep(for: .milliseconds(300))  // a quiet period: a stray post would show by now
            #expect(try await stack.simulator.posts().count == postsBefore)
        }
    }

    @Test("progress: three status records and a final give one status message edited in place, at most once a second, then the final as a new message and the status deleted")
    func progress() async throws {
        try await ConnectorStack.with(label: "rich-progress") { stack in
            try await stack.startServices()
            let (requestID, _) = try await request(stack, "run the tests")
            for step in 1...3 {
                try await reply(stack, [("text", "step \(step)/3"), ("ack_for", requestID), ("progress", "1")])
            }
            try await reply(stack, [("text", "all green"), ("ack_for", requestID)])
            let final = try #require(await post(stack) { $0.content == "all green" })
            let status = try #require(try await stack.simulator.posts().first { $0.content.hasPrefix("step ") })
            #expect(status.content == "step 3/3")
            #expect(status.edits.count == 2)
            let times = [status.receivedAtMicros ?? 0] + status.edits.map(\.atMicros)
            for (earlier, later) in zip(times, times.dropFirst()) {
                #expect(later - earlier >= 950_000, "edits \(later - earlier) µs apart")
            }
            #expect((final.receivedAtMicros ?? 0) > (times.last ?? .max))
            let deleted = await eventually { try? await stack.simulator.posts().first { $0.id == status.id && $0.deleted } }
            #expect(deleted != nil, "the status message was not deleted")
            #expect(try await stack.simulator.posts().filter { $0.content.hasPrefix("step ") }.count == 1)
        }
    }

    @Test("thread starts a thread on the request's message once; later replies to the request go there too")
    func thread() async throws {
        try await ConnectorStack.with(label: "rich-thread") { stack in
            try await stack.startServices()
            let (requestID, messageID) = try await request(stack, "let's discuss the design")
            try await reply(stack, [("text", "moving this to a thread"), ("ack_for", requestID), ("thread", "design talk")])
            let first = try #require(await post(stack) { $0.content == "moving this to a thread" })
            // A thread started on a message has the message's id.
            #expect(first.channelID == messageID)
            try await reply(stack, [("text", "second thought"), ("ack_for", requestID), ("thread", "design talk")])
            let second = try #require(await post(stack) { $0.content == "second thought" })
            #expect(second.channelID == messageID)
            let threads = try await stack.simulator.threads()
            #expect(threads.count == 1)
        }
    }

    @Test("progress across a Replier SIGKILL: still one status message, edited, then removed by the answer")
    func progressAcrossRestart() async throws {
        try await ConnectorStack.with(label: "rich-progress-kill") { stack in
            try await stack.startServices()
            let (requestID, _) = try await request(stack, "long job")
            try await reply(stack, [("text", "step 1/2"), ("ack_for", requestID), ("progress", "1")])
            let status = try #require(await post(stack) { $0.content == "step 1/2" })
            let replier = try #require(stack.services["Replier"])
            replier.signal(SIGKILL)
            await replier.waitForExit(timeout: .seconds(5))
            try await reply(stack, [("text", "step 2/2"), ("ack_for", requestID), ("progress", "1")])
            try stack.start("Replier")
            let statusID = status.id
            let edited = await eventually(timeout: .seconds(30)) { () -> SimulatedPost? in
                try? await stack.simulator.posts().first { $0.id == statusID && $0.content == "step 2/2" }
            }
            #expect(edited != nil, "the status message was not edited after the restart")
            try await reply(stack, [("text", "done"), ("ack_for", requestID)])
            _ = try #require(await post(stack) { $0.content == "done" })
            let removed = await eventually { try? await stack.simulator.posts().first { $0.id == statusID && $0.deleted } }
            #expect(removed != nil)
            #expect(try await stack.simulator.posts().filter { $0.content.hasPrefix("step ") }.count == 1)
        }
    }

    @Test("a human's attachments are listed in the agent's record, and the URL serves the bytes")
    func attachmentsIn() async throws {
        try await ConnectorStack.with(label: "rich-attachments-in") { stack in
            try await stack.startServices()
            let screenshot = Data((0..<3000).map { UInt8(($0 * 7) % 256) })
            try await stack.simulator.inject(channelID: World.general, content: "what is wrong here?", mentionBot: true, attachments: [(filename: "screen.png", contentType: "image/png", data: screenshot)])
            let entry = try #require(await eventually { try? await stack.entries("sos:inbox:kasra").first })
            let listed = try JSON.decode([JSONValue].self, from: try #require(entry.fields["attachments"]))
            #expect(listed.count == 1)
            #expect(listed.first?["filename"]?.stringValue == "screen.png")
            #expect(listed.first?["content_type"]?.stringValue == "image/png")
            #expect(listed.first?["size"]?.intValue == 3000)
            #expect(entry.fields["text"]?.contains("[attachment] screen.png (image/png, 3000 bytes): ") == true)
            #expect(try await download(try #require(listed.first?["url"]?.stringValue)) == screenshot)

            // `connector attachment get <message_id> <n>` finds the message on the bus, asks
            // Discord for a fresh URL and writes the bytes.
            let messageID = try #require(entry.fields["message_id"])
            let target = stack.directory + "/fetched.png"
            let fetched = try await runToCompletion("connector", arguments: ["attachment", "get", messageID, "1", "-o", target, "--json"], environment: stack.environment)
            #expect(fetched.code == 0, "\(fetched.output)")
            #expect(FileManager.default.contents(atPath: target) == screenshot)
            #expect(fetched.output.contains(sha256Hex(screenshot)))
            let missing = try await runToCompletion("connector", arguments: ["attachment", "get", messageID, "2"], environment: stack.environment)
            #expect(missing.code == 1)
            #expect(missing.output.contains("has 1 attachment(s)"), "\(missing.output)")
            let tooBig = try await runToCompletion("connector", arguments: ["attachment", "get", messageID, "1", "--max-bytes", "100", "-o", target + ".2"], environment: stack.environment)
            #expect(tooBig.code == 1)
            #expect(tooBig.output.contains("over the limit of 100"), "\(tooBig.output)")
            #expect(!FileManager.default.fileExists(atPath: target + ".2"))
            let unknown = try await runToCompletion("connector", arguments: ["attachment", "get", "123456789012345678"], environment: stack.environment)
            #expect(unknown.code == 1)
            #expect(unknown.output.contains("not in discord:inbound"), "\(unknown.output)")
        }
    }

    @Test("a person's Discord reply to a message an agent posted reaches that agent, no mention needed, as kind=reply")
    func replyToAnAgent() async throws {
        try await ConnectorStack.with(label: "rich-conversation") { stack in
            try await stack.startServices()
            try await reply(stack, from: "loom", [("text", "loom here: the deploy finished"), ("channel_id", World.general)])
            let posted = try #require(await post(stack) { $0.content == "loom here: the deploy finished" })
            let response = try await stack.simulator.control("POST", "/_sim/messages", body: ["channel_id": World.general, "content": "thanks, and the logs?", "reply_to": posted.id])
            #expect(response.status == 200 || response.status == 201, "\(response.bodyText)")
            let delivered = try #require(await eventually { try? await stack.entries("sos:inbox:loom").first })
            #expect(delivered.fields["kind"] == "reply")
            #expect(delivered.fields["replied_message_id"] == posted.id)
            #expect(delivered.fields["content"] == "thanks, and the logs?")
            #expect(delivered.fields["text"]?.contains("Discord reply from") == true)
            // An ordinary message in the same (unmapped) channel, without a mention, still goes nowhere.
            try await stack.simulator.inject(channelID: World.general, content: "just chatting")
            try await Task.sleep(for: .milliseconds(500))  // a quiet period: a stray delivery would show by now
            #expect(try await stack.entries("discord:inbound").count == 1)
        }
    }

    @Test("AGENT_IDENTITY=webhook: two agents post under their own names through one webhook, naming the asker; none comes back as input; a deleted webhook is made again; a reply to an agent's post reaches it")
    func webhookIdentity() async throws {
        try await ConnectorStack.with(label: "rich-webhooks", environment: ["AGENT_IDENTITY": "webhook", "AGENT_AVATARS": #"{"loom": "https://example.com/loom.png"}"#]) { stack in
            try await stack.startServices()
            let (requestID, _) = try await request(stack, "who is on it?")
            try await reply(stack, [("text", "kasra here"), ("ack_for", requestID)])
            try await reply(stack, from: "loom", [("text", "loom too"), ("channel_id", World.general)])
            let kasra = try #require(await post(stack) { $0.content.hasSuffix("kasra here") })
            let loom = try #require(await post(stack) { $0.content == "loom too" })
            #expect(kasra.kind == "webhook")
            #expect(kasra.authorName == "kasra")
            #expect(loom.authorName == "loom")
            #expect(kasra.webhookID != nil && kasra.webhookID == loom.webhookID)
            // A webhook post cannot be a Discord reply: the asker is named (and pinged, PING_ASKER=1).
            #expect(kasra.content == "<@\(World.human)> kasra here")
            #expect(kasra.pinged.users == [World.human])

            // Deleted behind the connector's back: the next post makes a new one.
            try await stack.simulator.deleteWebhook(try #require(kasra.webhookID))
            try await reply(stack, from: "loom", [("text", "still here"), ("channel_id", World.general)])
            let again = try #require(await post(stack) { $0.content == "still here" })
            #expect(again.kind == "webhook")
            #expect(again.webhookID != kasra.webhookID)

            // A person's Discord reply to loom's post reaches loom.
            _ = try await stack.simulator.control("POST", "/_sim/messages", body: ["channel_id": World.general, "content": "thanks loom", "reply_to": loom.id])
            let delivered = try #require(await eventually { try? await stack.entries("sos:inbox:loom").first })
            #expect(delivered.fields["kind"] == "reply")
            try await Task.sleep(for: .milliseconds(300))  // a quiet period: an echo taken as input would show by now
            // Only the two human messages were ever input: the webhook posts were not.
            #expect(try await stack.entries("discord:inbound").count == 2)
        }
    }

    @Test("an allowed bot's message is routed like a person's, up to BOT_LOOP_BUDGET a minute in a channel; other bots are still ignored")
    func botAuthors() async throws {
        let otherBot = "500000000000000001"
        try await ConnectorStack.with(label: "rich-bots", environment: ["ALLOWED_BOT_AUTHORS": otherBot, "BOT_LOOP_BUDGET": "3"]) { stack in
            try await stack.startServices()
            for index in 0..<5 {
                try await stack.simulator.inject(channelID: World.general, content: "ping \(index)", mentionBot: true, authorIsBot: true)
            }
            let dropped = await eventually { () -> Int? in
                let stats = try? await stack.redis.client.run(HGETALL("discord:stats"))
                return stats?["bot_loop_dropped"] == "2" ? 2 : nil
            }
            #expect(dropped == 2)
            // Ingest counts the drops before the Dispatcher has delivered the rest: wait for them.
            _ = await eventually { () -> Int? in
                let count = (try? await stack.entries("sos:inbox:kasra").count) ?? 0
                return count >= 3 ? count : nil
            }
            try await Task.sleep(for: .milliseconds(300))  // a quiet period: a fourth would show by now
            let delivered = try await stack.entries("sos:inbox:kasra")
            #expect(delivered.map { $0.fields["content"] ?? "" }.map { $0.hasSuffix("ping 0") || $0.hasSuffix("ping 1") || $0.hasSuffix("ping 2") } == [true, true, true])
            #expect(delivered.first?.fields["author_id"] == otherBot)
        }
        // Without ALLOWED_BOT_AUTHORS the same bot is never input.
        try await ConnectorStack.with(label: "rich-bots-off") { stack in
            try await stack.startServices()
            try await stack.simulator.inject(channelID: World.general, content: "ping", mentionBot: true, authorIsBot: true)
            try await stack.simulator.inject(channelID: World.general, content: "a person", mentionBot: true)
            let entries = try #require(await eventually { () -> [StreamEntry]? in
                let found = try? await stack.entries("sos:inbox:kasra")
                return found?.isEmpty == false ? found : nil
            })
            try await Task.sleep(for: .milliseconds(300))  // a quiet period: the bot's message would show by now
            #expect(try await stack.entries("sos:inbox:kasra").count == 1)
            #expect(entries.first?.fields["content"]?.hasSuffix("a person") == true)
        }
    }

    @Test("AUTO_THREAD: every request in a listed channel gets its own thread, named after it, for all its answers; other channels answer in place")
    func autoThread() async throws {
        try await ConnectorStack.with(label: "rich-autothread", environment: ["AUTO_THREAD": "{\"\(World.general)\": 1}"]) { stack in
            try await stack.startServices()
            let (first, firstMessage) = try await request(stack, "please review the deploy plan\nit is in the doc")
            let (second, secondMessage) = try await request(stack, "and the rollback plan")
            let (elsewhere, elsewhereMessage) = try await request(stack, "a quick one", channel: World.ops)
            try await reply(stack, [("text", "on it"), ("ack_for", first)])
            try await reply(stack, [("text", "looks good"), ("ack_for", first)])
            try await reply(stack, [("text", "rollback too"), ("ack_for", second)])
            try await reply(stack, [("text", "done here"), ("ack_for", elsewhere)])
            let onIt = try #require(await post(stack) { $0.content == "on it" })
            let looksGood = try #require(await post(stack) { $0.content == "looks good" })
            let rollback = try #require(await post(stack) { $0.content == "rollback too" })
            let inPlace = try #require(await post(stack) { $0.content == "done here" })
            // A thread started on a message has the message's id.
            #expect(onIt.channelID == firstMessage)
            #expect(looksGood.channelID == firstMessage)
            #expect(rollback.channelID == secondMessage)
            #expect(inPlace.channelID == World.ops)
            #expect(inPlace.messageReference?.messageID == elsewhereMessage)
            let threads = try await stack.simulator.threads()
            #expect(threads.count == 2)
            #expect(threads.first { $0.id == firstMessage }?.name == "please review the deploy plan")
            #expect(threads.allSatisfy { $0.parentID == World.general })
        }
    }

    @Test("with connector acl apply: an agent's records are posted under its own name whatever `from` says, it cannot write to the shared inbox or another's outbox, and OUTBOUND_POLICY refuses a channel it does not give")
    func attributableUnderACL() async throws {
        let environment = [
            "MUMEGA_BUS_TOKEN": "connector-secret-attribution", "AGENT_IDENTITY": "webhook",
            "OUTBOUND_POLICY": #"{"loom": ["general"], "kasra": ["*"]}"#,
        ]
        try await ConnectorStack.with(label: "rich-acl", environment: environment) { stack in
            let passwords = stack.directory + "/agents.json"
            try JSON.encode(["kasra": "kasra-password", "loom": "loom-password"]).write(to: URL(fileURLWithPath: passwords))
            let applied = try await runToCompletion("connector", arguments: ["acl", "apply", "--agent-passwords-file", passwords, "--admin-url", stack.redis.url], environment: stack.environment)
            try #require(applied.code == 0, "acl apply: \(applied.output)")
            try await stack.startServices()
            let loom = RedisClient(url: try RedisURL(parsing: stack.redis.url), user: "loom", password: "loom-password", name: "loom")

            // loom claims to be kasra on its own outbox: posted as loom.
            try await loom.run(XADD("sos:outbox:loom", fields: [("from", "kasra"), ("to", "discord-connector"), ("text", "trust me, I am kasra"), ("channel_id", World.general)]))
            let posted = try #require(await post(stack) { $0.content == "trust me, I am kasra" })
            #expect(posted.authorName == "loom")
            // The shared inbox and kasra's outbox are closed to loom.
            for stream in ["sos:inbox:discord-connector", "sos:outbox:kasra"] {
                do {
                    try await loom.run(XADD(stream, fields: [("from", "kasra"), ("text", "spoof"), ("channel_id", World.general)]))
                    Issue.record("loom could write to \(stream)")
                } catch let error as RedisError {
                    #expect(error.message.hasPrefix("NOPERM"), "\(error)")
                }
            }
            // OUTBOUND_POLICY: loom may post to #general (above), not to #ops; the record is dead-lettered with the reason.
            try await loom.run(XADD("sos:outbox:loom", fields: [("from", "loom"), ("to", "discord-connector"), ("text", "ops, listen"), ("channel_name", "ops")]))
            let dead = try #require(await eventually { try? await stack.entries("discord:dead").first { $0.fields["field:text"] == "ops, listen" } })
            #expect(dead.fields["reason"]?.contains("OUTBOUND_POLICY") == true, "\(dead.fields.dictionary)")
            // kasra may post anywhere.
            let kasra = RedisClient(url: try RedisURL(parsing: stack.redis.url), user: "kasra", password: "kasra-password", name: "kasra")
            try await kasra.run(XADD("sos:outbox:kasra", fields: [("to", "discord-connector"), ("text", "ops, from kasra"), ("channel_id", World.ops)]))
            let fromKasra = try #require(await post(stack) { $0.content == "ops, from kasra" })
            #expect(fromKasra.authorName == "kasra")
            #expect(try await stack.simulator.posts().contains { $0.content == "ops, listen" || $0.content == "spoof" } == false)
            let stats = try await stack.redis.client.run(HGETALL("discord:stats"))
            #expect(stats["outbound_refused"] == "1")
        }
    }
}
