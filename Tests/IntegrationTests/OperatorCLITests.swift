import Foundation
import Logging
import Shared
import Testing
import TestSupport

/// The operator CLI (`connector`) as a real process against a real `redis-server`: status
/// figures, dead-letter replay, sends by channel name, ACL users enforced by Redis, and `check`.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct OperatorCLITests {
    typealias World = DiscordSimulatorProcess.World

    /// A fresh redis-server for `body`, stopped afterwards, pass or fail.
    func withRedis(_ label: String, _ body: (RedisServer) async throws -> Void) async throws {
        let directory = try makeScratchDirectory(label)
        let redis = try await RedisServer(directory: directory)
        do {
            try await body(redis)
        } catch {
            await redis.stop()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        await redis.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs `connector` with only the given environment (and PATH).
    func connector(_ arguments: [String], _ environment: [String: String]) async throws -> (code: Int32?, output: String) {
        try await runToCompletion("connector", arguments: arguments, environment: ["PATH": "/usr/bin:/bin"].merging(environment) { _, new in new })
    }

    func json(_ output: String) throws -> JSONValue {
        do {
            return try JSON.decode(JSONValue.self, from: output)
        } catch {
            throw TestSupportError("not JSON: \(output)")
        }
    }

    func items(_ value: JSONValue?) -> [JSONValue] {
        if case .array(let items) = value { return items }
        return []
    }

    func int(_ value: JSONValue?) -> Int? { value?.doubleValue.map { Int($0) } }

    @discardableResult
    func add(_ redis: RedisClient, _ stream: String, _ fields: String...) async throws -> String {
        try #require(try await redis.send(["XADD", stream, "*"] + fields).string)
    }

    // MARK: status

    @Test("status --json reports each stream's length and each group's consumers, pending, lag and oldest pending age, dead letters, counters and heartbeats")
    func statusReportsQueues() async throws {
        try await withRedis("cli-status") { server in
            let redis = server.client
            // discord:inbound: 5 entries, 2 delivered to c1 and not acknowledged, 3 never delivered.
            try await redis.send("XGROUP", "CREATE", "discord:inbound", "dispatcher", "$", "MKSTREAM")
            for index in 1...5 { try await add(redis, "discord:inbound", "n", String(index)) }
            let read = try await redis.send("XREADGROUP", "GROUP", "dispatcher", "c1", "COUNT", "2", "STREAMS", "discord:inbound", ">")
            let delivered = try StreamEntry.fromRead(read)
            #expect(delivered.count == 2)
            // The connector's inbox: 3 entries all delivered to r1 and r2, one acknowledged.
            try await redis.send("XGROUP", "CREATE", "sos:inbox:discord-connector", "replier", "$", "MKSTREAM")
            for index in 1...3 { try await add(redis, "sos:inbox:discord-connector", "from", "kasra", "text", "reply \(index)") }
            let first = try StreamEntry.fromRead(try await redis.send("XREADGROUP", "GROUP", "replier", "r1", "COUNT", "1", "STREAMS", "sos:inbox:discord-connector", ">"))
            _ = try await redis.send("XREADGROUP", "GROUP", "replier", "r2", "COUNT", "2", "STREAMS", "sos:inbox:discord-connector", ">")
            try await redis.send("XACK", "sos:inbox:discord-connector", "replier", try #require(first.first?.id))
            // An agent inbox without a group, and a key under sos:inbox: that is not a stream.
            try await add(redis, "sos:inbox:kasra", "text", "a")
            try await add(redis, "sos:inbox:kasra", "text", "b")
            try await redis.send("SET", "sos:inbox:not-a-stream", "x")
            // Two dead letters, counters, a live and a stale heartbeat.
            try await add(redis, "discord:dead", "reason", "test one", "stream", "discord:inbound", "entry_id", "1-0", "group", "dispatcher", "field:n", "1")
            try await add(redis, "discord:dead", "reason", "test two", "stream", "discord:inbound", "entry_id", "2-0", "group", "dispatcher", "field:n", "2")
            try await redis.send("HSET", "discord:stats", "replies_posted", "7", "replies_unroutable", "2")
            let now = Int(Date().timeIntervalSince1970 * 1000)
            try await redis.send("HSET", "discord:heartbeats", "Replier@host-a:101", String(now - 1_000), "Dispatcher@host-b:202", String(now - 60_000))
            try await Task.sleep(for: .milliseconds(400))  // time must pass: the pending entries' age and idle time are checked as >= 400 ms

            let result = try await connector(["status", "--json"], ["MUMEGA_BUS_URL": server.url])
            #expect(result.code == 0, "\(result.output)")
            let report = try json(result.output)
            let streams = items(report["streams"])
            #expect(streams.compactMap { $0["stream"]?.stringValue } == ["discord:inbound", "sos:inbox:discord-connector", "sos:inbox:kasra"])

            let inbound = try #require(streams.first { $0["stream"]?.stringValue == "discord:inbound" })
            #expect(int(inbound["length"]) == 5)
            let dispatcher = try #require(items(inbound["groups"]).first)
            #expect(dispatcher["name"]?.stringValue == "dispatcher")
            #expect(int(dispatcher["consumers"]) == 1)
            #expect(int(dispatcher["pending"]) == 2)
            #expect(int(dispatcher["lag"]) == 3)
            #expect(dispatcher["oldest_pending_id"]?.stringValue == delivered.first?.id)
            #expect(dispatcher["oldest_pending_consumer"]?.stringValue == "c1")
            #expect(int(dispatcher["oldest_pending_deliveries"]) == 1)
            let age = try #require(int(dispatcher["oldest_pending_age_ms"]))
            #expect(age >= 400 && age < 30_000, "oldest pending age \(age) ms")
            #expect(int(dispatcher["oldest_pending_idle_ms"]).map { $0 >= 400 } == true)

            let replyInbox = try #require(streams.first { $0["stream"]?.stringValue == "sos:inbox:discord-connector" })
            #expect(int(replyInbox["length"]) == 3)
            let replier = try #require(items(replyInbox["groups"]).first)
            #expect(int(replier["consumers"]) == 2)
            #expect(int(replier["pending"]) == 2)
            #expect(int(replier["lag"]) == 0)
            #expect(replier["oldest_pending_consumer"]?.stringValue == "r2")
            #expect(items(replier["consumer_list"]).compactMap { $0["name"]?.stringValue } == ["r1", "r2"])
            #expect(items(replier["consumer_list"]).compactMap { int($0["pending"]) } == [0, 2])

            let kasra = try #require(streams.first { $0["stream"]?.stringValue == "sos:inbox:kasra" })
            #expect(int(kasra["length"]) == 2)
            #expect(items(kasra["groups"]).isEmpty)

            #expect(int(report["dead_letters"]) == 2)
            #expect(int(report["stats"]?["replies_posted"]) == 7)
            #expect(int(report["stats"]?["replies_unroutable"]) == 2)
            let services = items(report["services"])
            #expect(services.compactMap { $0["service"]?.stringValue } == ["Dispatcher", "Replier"])
            #expect(services.first?["stale"] == .bool(true))
            #expect(services.last?["stale"] == .bool(false))
            #expect(services.last?["instance"]?.stringValue == "host-a:101")

            // The table for people says the same.
            let table = try await connector(["status"], ["MUMEGA_BUS_URL": server.url])
            #expect(table.code == 0)
            #expect(table.output.contains("discord:inbound"))
            #expect(table.output.contains("Dead letters: 2"))
            #expect(table.output.contains("STALE"))
            #expect(table.output.contains("replies_posted=7"))
        }
    }

    @Test("status against an unreachable Redis fails with a message naming MUMEGA_BUS_URL")
    func statusWithoutRedis() async throws {
        let result = try await connector(["status"], ["MUMEGA_BUS_URL": "redis://127.0.0.1:1"])
        #expect(result.code == 1)
        #expect(result.output.contains("MUMEGA_BUS_URL"))
        #expect(!result.output.contains("Fatal error"))
    }

    // MARK: tail

    @Test("tail prints the last N entries oldest first, and --follow prints new ones as they arrive")
    func tailAndFollow() async throws {
        try await withRedis("cli-tail") { server in
            let redis = server.client
            for index in 1...12 { try await add(redis, "sos:inbox:kasra", "n", String(index), "text", "entry \(index)") }
            let env = ["MUMEGA_BUS_URL": server.url]

            let last = try await connector(["tail", "sos:inbox:kasra", "--count", "3", "--json"], env)
            #expect(last.code == 0, "\(last.output)")
            let lines = last.output.split(separator: "\n").map { try? json(String($0)) }
            #expect(lines.map { $0?["fields"]?["n"]?.stringValue } == ["10", "11", "12"])

            let human = try await connector(["tail", "sos:inbox:kasra", "-c", "1"], env)
            #expect(human.code == 0)
            #expect(human.output.contains("text: entry 12"))

            let missing = try await connector(["tail", "sos:inbox:nobody"], env)
            #expect(missing.code == 0)
            #expect(missing.output.contains("empty or does not exist"))
            try await redis.send("HSET", "discord:stats", "a", "1")
            let hash = try await connector(["tail", "discord:stats"], env)
            #expect(hash.code == 1)
            #expect(hash.output.contains("not a stream"))

            let follower = try ChildProcess(
                name: "connector-tail",
                executable: BuildProducts.path("connector"),
                arguments: ["tail", "sos:inbox:kasra", "--count", "1", "--follow", "--json"],
                environment: ["PATH": "/usr/bin:/bin"].merging(env) { _, new in new },
                workingDirectory: server.directory,
                logPath: server.directory + "/tail.log"
            )
            let started = await eventually { follower.log.contains("entry 12") ? true : nil }
            #expect(started == true, "\(follower.log)")
            try await add(redis, "sos:inbox:kasra", "n", "13", "text", "entry 13")
            try await add(redis, "sos:inbox:kasra", "n", "14", "text", "entry 14")
            let followed = await eventually(timeout: .seconds(5)) { follower.log.contains("entry 14") ? true : nil }
            await follower.stop(grace: .seconds(2))
            #expect(followed == true, "\(follower.log)")
            let seen = follower.log.split(separator: "\n").compactMap { try? json(String($0))["fields"]?["n"]?.stringValue }
            #expect(seen == ["12", "13", "14"])
        }
    }

    // MARK: dead letters

    @Test("dead replay puts the original fields back on their stream and removes the dead letter, once")
    func deadReplay() async throws {
        try await withRedis("cli-dead") { server in
            let redis = server.client
            try await redis.send("XGROUP", "CREATE", "sos:inbox:discord-connector", "replier", "$", "MKSTREAM")
            let deadID = try await add(redis, "discord:dead",
                "reason", "unroutable reply: no ack_for and no ctx block", "stream", "sos:inbox:discord-connector",
                "entry_id", "1700000000000-0", "group", "replier", "at", "2025-01-01T00:00:00Z",
                "field:from", "kasra", "field:text", "line one\nline two", "field:to", "discord-connector")
            try await add(redis, "discord:dead", "reason", "another", "stream", "discord:inbound", "entry_id", "1-0", "group", "dispatcher", "field:n", "1")
            let env = ["MUMEGA_BUS_URL": server.url]

            let list = try await connector(["dead", "list", "--json"], env)
            #expect(list.code == 0, "\(list.output)")
            let letters = items(try json(list.output))
            #expect(letters.count == 2)
            #expect(letters.first?["id"]?.stringValue == deadID)
            #expect(letters.first?["fields"]?["text"]?.stringValue == "line one\nline two")
            #expect(letters.first?["reason"]?.stringValue == "unroutable reply: no ack_for and no ctx block")

            let replay = try await connector(["dead", "replay", deadID, "--json"], env)
            #expect(replay.code == 0, "\(replay.output)")
            let result = try json(replay.output)
            let newID = try #require(result["new_id"]?.stringValue)
            #expect(result["stream"]?.stringValue == "sos:inbox:discord-connector")

            let back = try StreamEntry.list(from: try await redis.send("XRANGE", "sos:inbox:discord-connector", "-", "+"))
            #expect(back.map(\.id) == [newID])
            #expect(back.first?.fields == ["from": "kasra", "text": "line one\nline two", "to": "discord-connector"])
            let remaining = try StreamEntry.list(from: try await redis.send("XRANGE", "discord:dead", "-", "+"))
            #expect(remaining.map { $0.fields["reason"] } == ["another"])
            // The replayed entry is new to the group, so the Replier reads it again.
            let info = try await redis.send("XINFO", "GROUPS", "sos:inbox:discord-connector")
            #expect(info.array?.first.map { replyMapForTest($0)["lag"] } == .integer(1))

            let again = try await connector(["dead", "replay", deadID], env)
            #expect(again.code == 1)
            #expect(again.output.contains("no dead letter \(deadID)"))
            #expect(try await redis.send("XLEN", "sos:inbox:discord-connector").int == 1)
        }
    }

    func replyMapForTest(_ value: RedisValue) -> [String: RedisValue] {
        var map: [String: RedisValue] = [:]
        let items = value.array ?? []
        for index in stride(from: 0, to: items.count - 1, by: 2) {
            if let key = items[index].string { map[key] = items[index + 1] }
        }
        return map
    }

    // MARK: send

    @Test("send --channel resolves the name with the catalog and queues an outbound record; unknown and ambiguous names fail clearly")
    func sendByChannelName() async throws {
        try await withRedis("cli-send") { server in
            let redis = server.client
            try await redis.send("HSET", "discord:channels",
                "111", #"{"id":"111","name":"general","type":0,"guild_id":"900"}"#,
                "112", #"{"id":"112","name":"ops","type":0,"guild_id":"900"}"#,
                "113", #"{"id":"113","name":"ops","type":0,"guild_id":"900","parent_id":"114"}"#)
            let env = ["MUMEGA_BUS_URL": server.url]

            let sent = try await connector(["send", "--channel", "#General", "--rig", "ci", "--json", "build", "is", "green"], env)
            #expect(sent.code == 0, "\(sent.output)")
            let id = try #require(try json(sent.output)["id"]?.stringValue)
            let entries = try StreamEntry.list(from: try await redis.send("XRANGE", "sos:inbox:discord-connector", "-", "+"))
            #expect(entries.map(\.id) == [id])
            let record = try ReplyRecord(fields: try #require(entries.first?.fields))
            #expect(record == ReplyRecord(from: "operator", to: "discord-connector", text: "build is green", channelID: "111", channelName: "general", rigName: "ci"))

            let unknown = try await connector(["send", "--channel", "nowhere", "hello"], env)
            #expect(unknown.code == 1)
            #expect(unknown.output.contains("unknown channel 'nowhere'"))
            #expect(unknown.output.contains("general"))

            let ambiguous = try await connector(["send", "--channel", "ops", "hello"], env)
            #expect(ambiguous.code == 1)
            #expect(ambiguous.output.contains("ambiguous"))
            #expect(ambiguous.output.contains("112, 113"))
            #expect(try await redis.send("XLEN", "sos:inbox:discord-connector").int == 1)
        }
    }

    // MARK: ACLs

    @Test("acl apply: agents read only their own inbox and may only XADD to their own outbox (not the shared inbox, not another's); the connector's user stays within its keys")
    func aclUsersAreEnforced() async throws {
        try await withRedis("cli-acl") { server in
            let admin = server.client
            let url = try RedisURL(parsing: server.url)
            let busToken = "connector-bus-token-5678"
            let directory = try makeScratchDirectory("cli-acl-passwords")
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let passwordsFile = directory + "/agents.json"
            try Data(#"{"alice": "alice-secret-1", "bob": "bob-secret-2"}"#.utf8).write(to: URL(fileURLWithPath: passwordsFile))
            let env = ["MUMEGA_BUS_URL": server.url, "MUMEGA_BUS_TOKEN": busToken]

            // Print never shows a password; apply makes the users.
            let printed = try await connector(["acl", "print", "--agents", "alice,bob", "--agent-passwords-file", passwordsFile], env)
            #expect(printed.code == 0, "\(printed.output)")
            #expect(printed.output.contains("ACL SETUSER discord-connector reset on #"))
            #expect(printed.output.contains("\"(%W~sos:outbox:alice +xadd)\""))
            for secret in [busToken, "alice-secret-1", "bob-secret-2"] { #expect(!printed.output.contains(secret)) }

            let applied = try await connector(["acl", "apply", "--agents", "alice,bob", "--agent-passwords-file", passwordsFile], env)
            #expect(applied.code == 0, "\(applied.output)")
            #expect(applied.output.contains("verified: discord-connector, alice, bob can log in"))
            #expect(applied.output.contains("ACL SETUSER default off"))
            for secret in [busToken, "alice-secret-1", "bob-secret-2"] { #expect(!applied.output.contains(secret)) }

            // Both inboxes have a group and an entry.
            for agent in ["alice", "bob"] {
                try await admin.send("XGROUP", "CREATE", "sos:inbox:\(agent)", "agent", "$", "MKSTREAM")
                try await add(admin, "sos:inbox:\(agent)", "text", "for \(agent)")
            }

            let alice = RedisClient(url: url, user: "alice", password: "alice-secret-1", name: "alice")
            func refused(_ arguments: [String], by client: RedisClient) async -> Bool {
                do {
                    _ = try await client.send(arguments)
                    return false
                } catch {
                    return error.message.hasPrefix("NOPERM")
                }
            }
            #expect(await refused(["XREADGROUP", "GROUP", "agent", "alice", "COUNT", "1", "STREAMS", "sos:inbox:bob", ">"], by: alice))
            #expect(await refused(["XREAD", "COUNT", "1", "STREAMS", "sos:inbox:bob", "0"], by: alice))
            #expect(await refused(["XADD", "sos:inbox:bob", "*", "text", "spoof"], by: alice))
            let own = try StreamEntry.fromRead(try await alice.send("XREADGROUP", "GROUP", "agent", "alice", "COUNT", "1", "STREAMS", "sos:inbox:alice", ">"))
            #expect(own.map { $0.fields["text"] } == ["for alice"])
            #expect(try await alice.send("XACK", "sos:inbox:alice", "agent", try #require(own.first?.id)).int == 1)
            // Her records go to her own outbox only: the connector posts them under her name and no
            // other, so she cannot write where her name is not the one the connector uses.
            let answer = try await alice.send("XADD", "sos:outbox:alice", "*", "from", "alice", "to", "discord-connector", "text", "done")
            #expect(answer.string != nil)
            #expect(await refused(["XADD", "sos:inbox:discord-connector", "*", "from", "bob", "text", "spoof"], by: alice))
            #expect(await refused(["XADD", "sos:outbox:bob", "*", "from", "bob", "text", "spoof"], by: alice))
            #expect(await refused(["XRANGE", "sos:outbox:alice", "-", "+"], by: alice))
            #expect(await refused(["XTRIM", "sos:outbox:alice", "MAXLEN", "0"], by: alice))
            #expect(await refused(["XDEL", "sos:outbox:alice", try #require(answer.string)], by: alice))
            #expect(await refused(["GET", "discord:ctx-signing-key"], by: alice))
            // What the MCP server needs: channel names, whether a request is open (not its fields).
            _ = try await alice.send("HGETALL", "discord:channels")
            _ = try await alice.send("EXISTS", "discord:pending:1b4e28ba-2fa1-41d2-883f-0016d3cca427")
            #expect(await refused(["HGETALL", "discord:pending:1b4e28ba-2fa1-41d2-883f-0016d3cca427"], by: alice))
            #expect(await refused(["HSET", "discord:channels", "1", "{}"], by: alice))
            #expect(try await admin.send("XLEN", "sos:outbox:alice").int == 1)
            #expect(try await admin.send("EXISTS", "sos:inbox:discord-connector").int == 0)
            // The Replier reads the outboxes of the agents apply registered.
            #expect(Set(try await admin.send("SMEMBERS", "discord:outboxes").array?.compactMap(\.string) ?? []) == ["alice", "bob"])
            // A wrong password is refused.
            let impostor = RedisClient(url: url, user: "alice", password: "bob-secret-2", name: "impostor")
            await #expect(throws: RedisError.self) { try await impostor.send("PING") }

            // The connector's user: its keys, its Lua scripts, nothing else.
            let connectorUser = RedisClient(url: url, user: "discord-connector", password: busToken, name: "connector-user")
            #expect(await refused(["SET", "other:key", "1"], by: connectorUser))
            #expect(await refused(["GET", "other:key"], by: connectorUser))
            #expect(await refused(["FLUSHALL"], by: connectorUser))
            #expect(await refused(["KEYS", "*"], by: connectorUser))
            #expect(await refused(["CONFIG", "GET", "*"], by: connectorUser))
            try await connectorUser.send("SET", "discord:probe", "1", "EX", "60")
            try await connectorUser.send("HSET", "discord:stats", "probe", "1")
            try await connectorUser.send("XGROUP", "CREATE", "discord:inbound", "dispatcher", "$", "MKSTREAM")
            try await add(connectorUser, "discord:inbound", "message_id", "1")
            let pending = try StreamEntry.fromRead(try await connectorUser.send("XREADGROUP", "GROUP", "dispatcher", "d1", "COUNT", "1", "STREAMS", "discord:inbound", ">"))
            // EVALSHA (NOSCRIPT, then EVAL) with key ACLs: the Dispatcher's own script works.
            let moved = try await connectorUser.evaluate(BusScripts.forwardToInbox, keys: ["discord:inbound", "sos:inbox:kasra"], arguments: ["dispatcher", try #require(pending.first?.id), "kasra", "text", "hi"])
            #expect(moved.int == 1)
            #expect(try await connectorUser.evaluate(BusScripts.forwardToInbox, keys: ["discord:inbound", "sos:inbox:kasra"], arguments: ["dispatcher", "0-1", "kasra", "text", "x"]).int == 0)
            #expect(try await admin.send("XLEN", "sos:inbox:kasra").int == 1)
            #expect(try await connectorUser.send("MULTI") == .status("OK"))
            #expect(try await connectorUser.send("EXEC") == .array([]))
            // A script cannot reach outside the patterns either.
            await #expect(throws: RedisError.self) {
                try await connectorUser.send("EVAL", "return redis.call('SET', KEYS[1], '1')", "1", "other:key")
            }
            #expect(try await admin.send("EXISTS", "other:key").int == 0)

            // The CLI itself, as the connector's user, still reads the bus; check passes with the
            // right token and names the variable with a wrong one.
            let status = try await connector(["status", "--json"], env)
            #expect(status.code == 0, "\(status.output)")
            let checked = try await connector(["check"], env.merging(["DRY_RUN": "1"]) { _, new in new })
            #expect(checked.code == 0, "\(checked.output)")
            #expect(checked.output.contains("user discord-connector"))
            let wrong = try await connector(["check"], ["MUMEGA_BUS_URL": server.url, "MUMEGA_BUS_TOKEN": "not-the-token-0000", "DRY_RUN": "1"])
            #expect(wrong.code == 2)
            #expect(wrong.output.contains("MUMEGA_BUS_TOKEN"))
            #expect(!wrong.output.contains("not-the-token-0000"))
        }
    }

    @Test("acl print generates agent passwords once, requires MUMEGA_BUS_TOKEN, and acl apply --save needs an aclfile")
    func aclPrintAndSave() async throws {
        let missing = try await connector(["acl", "print", "--agents", "alice"], ["MUMEGA_BUS_URL": "redis://127.0.0.1:1"])
        #expect(missing.code == 2)
        #expect(missing.output.contains("MUMEGA_BUS_TOKEN"))

        let generated = try await connector(["acl", "print", "--agents", "carol", "--json"], ["MUMEGA_BUS_TOKEN": "connector-bus-token-5678"])
        #expect(generated.code == 0, "\(generated.output)")
        let plan = try json(generated.output)
        let password = try #require(plan["generated_passwords"]?["carol"]?.stringValue)
        #expect(password.count == 64)
        #expect(!generated.output.contains("connector-bus-token-5678"))
        let lines = items(plan["command_lines"]).compactMap(\.stringValue)
        #expect(lines.count == 2)
        #expect(lines.last?.hasPrefix("ACL SETUSER carol reset on #") == true)
        #expect(!lines.joined().contains(password))

        let invalid = try await connector(["acl", "print", "--agents", "bad*name"], ["MUMEGA_BUS_TOKEN": "connector-bus-token-5678"])
        #expect(invalid.code == 2)
        #expect(invalid.output.contains("not a valid agent name"))

        try await withRedis("cli-acl-save") { server in
            let result = try await connector(["acl", "apply", "--agents", "alice", "--save"], ["MUMEGA_BUS_URL": server.url, "MUMEGA_BUS_TOKEN": "connector-bus-token-5678"])
            #expect(result.code == 1)
            #expect(result.output.contains("no aclfile"))
            // Nothing was changed.
            #expect(try await server.client.send("ACL", "USERS").array?.compactMap(\.string) == ["default"])
        }

        // With an aclfile, --save writes the users to it.
        let directory = try makeScratchDirectory("cli-aclfile")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let aclFile = directory + "/users.acl"
        FileManager.default.createFile(atPath: aclFile, contents: Data())
        let port = try freeLoopbackPort()
        let server = try ChildProcess(
            name: "redis-server",
            executable: "/usr/bin/redis-server",
            arguments: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", directory, "--aclfile", aclFile],
            environment: [:],
            logPath: directory + "/redis.log"
        )
        let client = RedisClient(url: try RedisURL(parsing: "redis://127.0.0.1:\(port)"), name: "aclfile-redis")
        let up = await eventually { try? await client.send("PING").string }
        #expect(up == "PONG", "\(server.log)")
        let saved = try await connector(["acl", "apply", "--agents", "alice", "--save"], ["MUMEGA_BUS_URL": "redis://127.0.0.1:\(port)", "MUMEGA_BUS_TOKEN": "connector-bus-token-5678"])
        _ = try? await client.send("SHUTDOWN", "NOSAVE")
        await server.stop(grace: .seconds(3))
        #expect(saved.code == 0, "\(saved.output)")
        #expect(saved.output.contains("saved with ACL SAVE"))
        let written = (try? String(contentsOfFile: aclFile, encoding: .utf8)) ?? ""
        #expect(written.contains("user alice on"))
        #expect(written.contains("user discord-connector on"))
        #expect(!written.contains("connector-bus-token-5678"))
    }

    @Test("with the ACLs applied, the services run as the connector's user and an agent answers as its own user: a full round trip")
    func roundTripUnderACLs() async throws {
        let busToken = "connector-bus-token-acl-e2e"
        try await ConnectorStack.with(label: "cli-acl-e2e", environment: ["MUMEGA_BUS_TOKEN": busToken]) { stack in
            let directory = stack.directory
            let passwordsFile = directory + "/agents.json"
            try Data(#"{"kasra": "kasra-secret-3"}"#.utf8).write(to: URL(fileURLWithPath: passwordsFile))
            // The admin is the default user (the bus URL has no credentials).
            let applied = try await connector(["acl", "apply", "--agent-passwords-file", passwordsFile], stack.environment)
            #expect(applied.code == 0, "\(applied.output)")
            try await stack.startServices()

            try await stack.simulator.inject(channelID: World.general, content: "under ACLs", mentionBot: true)
            let kasra = RedisClient(url: try RedisURL(parsing: stack.redis.url), user: "kasra", password: "kasra-secret-3", name: "kasra")
            try await kasra.send("XGROUP", "CREATE", "sos:inbox:kasra", "agent", "0", "MKSTREAM")
            let request = await eventually { () -> StreamEntry? in
                guard let reply = try? await kasra.send("XREADGROUP", "GROUP", "agent", "kasra", "COUNT", "1", "STREAMS", "sos:inbox:kasra", ">") else { return nil }
                return (try? StreamEntry.fromRead(reply))?.first
            }
            let requestID = try #require(request?.fields["request_id"], "\(stack.logs())")
            // Under the ACLs an agent answers on its own outbox, which only it may write to.
            try await kasra.send("XADD", "sos:outbox:kasra", "*", "from", "kasra", "to", "discord-connector", "text", "answered under ACLs {ack_for:\(requestID)}")
            try await kasra.send("XACK", "sos:inbox:kasra", "agent", try #require(request?.id))
            let posts = await eventually { () -> [SimulatedPost]? in
                let posts = try? await stack.simulator.posts(channelID: World.general)
                return posts?.isEmpty == false ? posts : nil
            }
            #expect(posts?.map(\.content) == ["answered under ACLs"], "\(stack.logs())")

            let status = try await connector(["status", "--json"], stack.environment)
            #expect(status.code == 0, "\(status.output)")
            let services = items(try json(status.output)["services"]).compactMap { $0["service"]?.stringValue }
            #expect(Set(services) == ["Dispatcher", "Ingest", "Replier"])
            #expect(!stack.logs().contains("NOPERM"), "\(stack.logs())")
        }
    }

    // MARK: check

    @Test("check exits 0 with the configuration redacted, 2 with a message naming the variable at fault")
    func checkExitCodes() async throws {
        let token = "MTIzNDU2Nzg5.cli-check-token.abcdWXYZ"
        let offline = try await connector(["check", "--offline"], ["DISCORD_BOT_TOKEN": token, "MUMEGA_BUS_URL": "redis://:bus-secret-9876@127.0.0.1:1"])
        #expect(offline.code == 0, "\(offline.output)")
        #expect(offline.output.contains("DISCORD_BOT_TOKEN=****WXYZ"))
        #expect(!offline.output.contains(token))
        #expect(!offline.output.contains("bus-secret-9876"))

        let noToken = try await connector(["check", "--offline"], [:])
        #expect(noToken.code == 2)
        #expect(noToken.output.contains("DISCORD_BOT_TOKEN"))

        let malformed = try await connector(["check", "--offline"], ["DISCORD_BOT_TOKEN": token, "MUMEGA_AGENT_MAP": "{not json"])
        #expect(malformed.code == 2)
        #expect(malformed.output.contains("configuration error: MUMEGA_AGENT_MAP"))
        #expect(!malformed.output.contains("Fatal error"))

        let unreachable = try await connector(["check"], ["DRY_RUN": "1", "MUMEGA_BUS_URL": "redis://127.0.0.1:1"])
        #expect(unreachable.code == 2)
        #expect(unreachable.output.contains("MUMEGA_BUS_URL"))

        let jsonFailure = try await connector(["check", "--json", "--offline"], ["PENDING_TTL": "a day", "DRY_RUN": "1"])
        #expect(jsonFailure.code == 2)
        #expect(jsonFailure.output.contains("PENDING_TTL"))

        try await withRedis("cli-check") { server in
            let reachable = try await connector(["check", "--json"], ["DRY_RUN": "1", "MUMEGA_BUS_URL": server.url])
            #expect(reachable.code == 0, "\(reachable.output)")
            let report = try json(reachable.output)
            #expect(report["ok"] == .bool(true))
            #expect(items(report["checks"]).first?["name"]?.stringValue == "redis")
            #expect(report["configuration"]?["DRY_RUN"]?.stringValue == "1")
        }
    }

    // MARK: against the simulator

    @Test("with the services running: check validates the token with Discord, channels create makes a channel that send can post to")
    func channelsCreateAndSendThroughTheReplier() async throws {
        try await ConnectorStack.with(label: "cli-sim", startingServices: true) { stack in
            let env = stack.environment
            let checked = try await connector(["check"], env)
            #expect(checked.code == 0, "\(checked.output)")
            #expect(checked.output.contains("discord: OK"))
            #expect(!checked.output.contains(stack.simulator.token))
            let rejected = try await connector(["check"], env.merging(["DISCORD_BOT_TOKEN": "wrong-token-value-abcd1234"]) { _, new in new })
            #expect(rejected.code == 2)
            #expect(rejected.output.contains("DISCORD_BOT_TOKEN"))
            #expect(!rejected.output.contains("wrong-token-value-abcd1234"))

            // Ingest has published the guild's channels; the guild is found from them.
            let listed = await eventually { () -> JSONValue? in
                guard let result = try? await connector(["channels", "list", "--json"], env), result.code == 0,
                      let value = try? json(result.output), !items(value["channels"]).isEmpty else { return nil }
                return value
            }
            let channels = items(try #require(listed)["channels"])
            #expect(channels.contains { $0["id"]?.stringValue == World.general && $0["name"]?.stringValue == "general" })

            let created = try await connector(["channels", "create", "release-notes", "--json"], env)
            #expect(created.code == 0, "\(created.output)")
            let channel = try json(created.output)
            let channelID = try #require(channel["id"]?.stringValue)
            #expect(channel["guild_id"]?.stringValue == World.guildID)
            let discord = DiscordClient(apiBase: stack.simulator.apiBase, token: stack.simulator.token, limiter: nil, logger: Logger(label: "test"))
            let inGuild = try await discord.perform(.guildChannels(World.guildID), as: [DiscordChannel].self)
            #expect(inGuild.contains { $0.id == channelID && $0.name == "release-notes" })

            let sent = try await connector(["send", "--channel", "release-notes", "shipped 1.2"], env)
            #expect(sent.code == 0, "\(sent.output)")
            let posts = await eventually { () -> [SimulatedPost]? in
                let posts = try? await stack.simulator.posts(channelID: channelID)
                return posts?.isEmpty == false ? posts : nil
            }
            #expect(posts?.map(\.content) == ["shipped 1.2"])

            let noToken = try await connector(["channels", "create", "x"], env.merging(["DISCORD_BOT_TOKEN": ""]) { _, new in new })
            #expect(noToken.code == 2)
            #expect(noToken.output.contains("DISCORD_BOT_TOKEN"))
        }
    }
}
