import Foundation
import Shared
import Testing
import TestSupport

/// The MCP server (ConnectorMCP) driven from outside the project by the official MCP Python SDK
/// (`pip install mcp`) over stdio, as an agent's MCP client would: Tests/MCPClient/drive.py
/// makes the tool calls and prints what it got back as JSON; this suite checks that, and checks
/// Discord (the simulator) and the bus for the effects a user would look for.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct MCPServerTests {
    typealias World = DiscordSimulatorProcess.World
    static let tools = ["ask_human", "create_thread", "download_attachment", "fetch_messages", "list_channels", "react", "read_inbox", "reply", "send_discord_message", "send_file", "update_progress"]
    static let agentName = "mcp-test-agent"

    // MARK: Running the driver

    /// The package root, where Tests/MCPClient/drive.py lives.
    static var packageRoot: String {
        let fromSource = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
        if FileManager.default.fileExists(atPath: fromSource + "/Tests/MCPClient/drive.py") { return fromSource }
        return FileManager.default.currentDirectoryPath
    }

    /// The environment of the Python driver: what Python needs from ours (PATH, HOME, pyenv and
    /// virtualenv settings), never the connector's variables, plus `extra`.
    static func driverEnvironment(_ extra: [String: String]) -> [String: String] {
        let passed = ProcessInfo.processInfo.environment.filter { key, _ in
            ["PATH", "HOME", "LANG", "VIRTUAL_ENV"].contains(key) || key.hasPrefix("PYENV") || key.hasPrefix("PYTHON") || key.hasPrefix("LC_")
        }
        return passed.merging(extra) { _, new in new }
    }

    /// `MCP_PYTHON`, else the first python3 on PATH.
    static func python(_ environment: [String: String]) -> String? {
        if let configured = ProcessInfo.processInfo.environment["MCP_PYTHON"] { return configured }
        let path = environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs drive.py with `scenario` and returns the report it printed. Fails the test with a
    /// clear message when Python or its `mcp` package is missing.
    func drive(_ scenario: String, environment extra: [String: String]) async throws -> JSONValue {
        let environment = Self.driverEnvironment(extra.merging(["CONNECTOR_MCP_BIN": BuildProducts.path("ConnectorMCP")]) { _, new in new })
        let python = try #require(Self.python(environment), "python3 is not on PATH (set MCP_PYTHON to a Python with `pip install mcp`)")
        let probe = try await runToCompletion(python, arguments: ["-c", "import mcp"], environment: environment)
        try #require(probe.code == 0, "the MCP Python SDK is missing: pip install mcp (\(python): \(probe.output.suffix(300)))")

        let directory = try makeScratchDirectory("mcp-driver")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let driver = try ChildProcess(
            name: "drive.py",
            executable: python,
            arguments: [Self.packageRoot + "/Tests/MCPClient/drive.py", scenario],
            environment: environment,
            workingDirectory: directory,
            logPath: directory + "/drive.log",
            stdoutPath: directory + "/report.json"
        )
        if !(await driver.waitForExit(timeout: .seconds(90))) { await driver.stop() }
        let output = (try? String(contentsOfFile: directory + "/report.json", encoding: .utf8)) ?? ""
        guard driver.exitCode == 0, let report = try? JSON.decode(JSONValue.self, from: output) else {
            throw TestSupportError("drive.py \(scenario) failed (exit \(driver.exitCode.map(String.init) ?? "none")):\n\(output.suffix(2000))\n--- its log (with the server's) ---\n\(driver.log.suffix(6000))")
        }
        return report
    }

    // MARK: Tests

    @Test("--check validates the configuration without touching the network; a bad MCP_AGENT_NAME stops it with exit 2")
    func checkConfiguration() async throws {
        let ok = try await runToCompletion("ConnectorMCP", arguments: ["--check"], environment: [
            "MUMEGA_BUS_URL": "redis://:bus-secret-9876@127.0.0.1:1", "MCP_AGENT_NAME": "claude-1",
        ])
        #expect(ok.code == 0)
        #expect(ok.output.contains("MCP_AGENT_NAME=claude-1"))
        #expect(!ok.output.contains("bus-secret-9876"))

        let bad = try await runToCompletion("ConnectorMCP", arguments: [], environment: ["MCP_AGENT_NAME": "no spaces please"])
        #expect(bad.code == 2)
        #expect(bad.output.contains("configuration error: MCP_AGENT_NAME"))
    }

    @Test("with Redis unreachable every tool answers with a tool error naming the address, and the server keeps answering")
    func redisUnreachable() async throws {
        let report = try await drive("unreachable", environment: ["MUMEGA_BUS_URL": "redis://127.0.0.1:1", "MCP_AGENT_NAME": Self.agentName])
        #expect(report["tools"].strings == Self.tools)
        for tool in ["list_channels", "send", "read_inbox", "reply"] {
            #expect(report[tool]?["is_error"] == .bool(true), "\(tool): \(report[tool].debug)")
            #expect(report[tool]?["text"]?.stringValue?.hasPrefix("Redis unreachable at redis://127.0.0.1:1") == true, "\(tool): \(report[tool].debug)")
        }
        #expect(report["tools_after_errors"].strings == Self.tools)
    }

    @Test("an MCP client lists the tools, sends by channel name, reads its inbox and replies; bad arguments are tool errors")
    func toolsEndToEnd() async throws {
        try await ConnectorStack.with(label: "mcp", startingServices: true) { stack in
            // The connector learns channel names from GUILD_CREATE.
            let channelsKey = BusKeys(connectorAgentName: "discord-connector").channels
            let learned = await eventually { () -> Bool? in
                ((try? await stack.redis.client.send("HLEN", channelsKey).int) ?? 0) >= 3 ? true : nil
            }
            try #require(learned == true, "Ingest did not record the guild's channels in \(channelsKey)")

            var environment = stack.environment
            environment["PATH"] = nil  // the driver's Python needs our PATH, not the services' minimal one
            environment["MCP_AGENT_NAME"] = Self.agentName
            environment["SIM_CONTROL_URL"] = "http://127.0.0.1:\(stack.simulator.port)"
            environment["SIM_GENERAL_CHANNEL"] = World.general
            let report = try await drive("full", environment: environment)

            // The handshake and the tools.
            #expect(report["server_name"]?.stringValue == "discord-connector")
            #expect(report["tools"].strings == Self.tools)
            #expect(report["schemas"]?["send_discord_message"]?["required"].strings == ["channel_name", "message"])

            // list_channels shows the simulator's guild.
            let channels = report["list_channels"]?["json"]?["channels"]?.array ?? []
            let general = channels.first { $0["name"]?.stringValue == "general" }
            #expect(report["list_channels"]?["is_error"] == .bool(false))
            #expect(general?["id"]?.stringValue == World.general)
            #expect(general?["guild_id"]?.stringValue == World.guildID)
            let names = Set(channels.compactMap { $0["name"]?.stringValue })
            #expect(names.isSuperset(of: ["general", "agents", "ops"]), "\(names)")

            // send_discord_message: "#General" resolves to #general; the rig name is a prefix.
            #expect(report["send"]?["is_error"] == .bool(false), "\(report["send"].debug)")
            #expect(report["send"]?["json"]?["channel_id"]?.stringValue == World.general)
            #expect(report["send"]?["json"]?["parts"]?.doubleValue == 1)
            // 4,500 characters: the agent is told it becomes three messages.
            #expect(report["send_long"]?["is_error"] == .bool(false), "\(report["send_long"].debug)")
            #expect(report["send_long"]?["json"]?["parts"]?.doubleValue == 3)

            // read_inbox returned the human's mention, once.
            let messages = report["inbox_messages"]?.array ?? []
            #expect(messages.count == 1, "\(report["read_inbox"].debug)")
            let fields = messages.first?["fields"]
            #expect(fields?["content"]?.stringValue?.contains("is the build green?") == true)
            #expect(fields?["message_id"]?.stringValue == report["injected_message_id"]?.stringValue)
            let requestID = try #require(report["request_id"]?.stringValue)
            #expect(report["read_again"]?["is_error"] == .bool(false))
            #expect(report["read_again"]?["json"]?["count"]?.doubleValue == 0)
            let pending = try await stack.redis.client.send("XPENDING", BusKeys.inbox("kasra"), "mcp").array?.first?.int
            #expect(pending == 0)  // what was read was acknowledged
            #expect(report["reply"]?["is_error"] == .bool(false), "\(report["reply"].debug)")
            #expect(report["reply"]?["json"]?["request_id"]?.stringValue == requestID)

            // Discord: the message with its prefix, and the reply answering the human's message.
            let generalPosts = try await posts(stack, channel: World.general, count: 2)
            let sent = generalPosts.first { $0.content == "[rig-7] hello from the MCP test" }
            #expect(sent != nil, "posts in #general: \(generalPosts.map(\.content))")
            #expect(sent?.messageReference == nil)
            let answer = generalPosts.first { $0.content == "All green, from the MCP test." }
            #expect(answer != nil, "posts in #general: \(generalPosts.map(\.content))")
            #expect(answer?.messageReference?.messageID == report["injected_message_id"]?.stringValue)
            let opsPosts = try await posts(stack, channel: World.ops, count: 3)
            #expect(opsPosts.count == 3)
            #expect(opsPosts.allSatisfy { $0.content.utf16.count <= 2000 })
            #expect(opsPosts.map(\.content).joined(separator: " ") == report["long_message"]?.stringValue)
            // The records went to the agent's own outbox (the connector takes them as the agent's);
            // nothing was dead-lettered.
            let queued = try await stack.entries(BusKeys.outbox(Self.agentName))
            #expect(queued.count == 3)
            #expect(queued.allSatisfy { $0.fields["from"] == Self.agentName })
            #expect(try await stack.entries(BusKeys.inbox("discord-connector")).isEmpty)
            #expect(try await stack.entries("discord:dead").isEmpty)

            // Bad arguments: tool errors that say what is wrong.
            let expected: [(String, String)] = [
                ("unknown_channel", "no channel named 'no-such-channel'"),
                ("empty_message", "message is empty"),
                ("missing_arguments", "missing required argument 'channel_name'"),
                ("wrong_type", "'max' must be a whole number"),
                ("out_of_range", "'wait_ms' must be from 0 to 30000"),
                ("invalid_agent", "not a valid agent name"),
                ("invalid_request_id", "request_id must be the UUID"),
                ("unknown_request_id", "no open request"),
                ("empty_reply", "text is empty"),
                ("unknown_argument", "unknown argument 'verbose'"),
            ]
            for (name, phrase) in expected {
                let result = report["errors"]?[name]
                #expect(result?["is_error"] == .bool(true), "\(name): \(result.debug)")
                #expect(result?["text"]?.stringValue?.contains(phrase) == true, "\(name): \(result.debug)")
            }
            // The unknown channel's error lists names that do exist.
            #expect(report["errors"]?["unknown_channel"]?["text"]?.stringValue?.contains("general") == true)
            // An unknown tool is a protocol error (MCP specification), raised by the client.
            #expect(report["errors"]?["unknown_tool"]?["raised"] != nil, "\(report["errors"]?["unknown_tool"].debug ?? "")")
            #expect(report["errors"]?["unknown_tool"]?["text"]?.stringValue?.contains("no_such_tool") == true)
            // None of them was queued for Discord, and the server still answers.
            #expect(try await stack.entries(BusKeys.outbox(Self.agentName)).count == 3)
            #expect(report["tools_after_errors"].strings == Self.tools)
            #expect(report["list_channels_after_errors"]?["is_error"] == .bool(false))
        }
    }

    @Test("ask_human posts the options as buttons and returns who chose what once someone clicks; nobody clicking is a clear timeout")
    func askHuman() async throws {
        try await ConnectorStack.with(label: "mcp-ask", startingServices: true) { stack in
            let channelsKey = BusKeys(connectorAgentName: "discord-connector").channels
            let learned = await eventually { () -> Bool? in
                ((try? await stack.redis.client.send("HLEN", channelsKey).int) ?? 0) >= 3 ? true : nil
            }
            try #require(learned == true, "Ingest did not record the guild's channels in \(channelsKey)")
            var environment = stack.environment
            environment["PATH"] = nil
            environment["MCP_AGENT_NAME"] = Self.agentName
            environment["SIM_CONTROL_URL"] = "http://127.0.0.1:\(stack.simulator.port)"
            let report = try await drive("ask", environment: environment)

            let answered = report["answered"]?["json"]
            #expect(report["answered"]?["is_error"] == .bool(false), "\(report["answered"].debug)")
            #expect(answered?["status"]?.stringValue == "answered")
            #expect(answered?["choice"]?.stringValue == "Deny")
            #expect(answered?["index"]?.intValue == 1)
            #expect(answered?["user_id"]?.stringValue == World.human)
            #expect(answered?["message_id"]?.stringValue == report["clicked"]?["message_id"]?.stringValue)
            // The question now says who chose what, and its buttons are gone.
            let messageID = try #require(report["clicked"]?["message_id"]?.stringValue)
            let shown = await eventually { () -> SimulatedPost? in
                guard let post = try? await stack.simulator.posts().first(where: { $0.id == messageID }), post.content.contains("**Deny**") else { return nil }
                return post
            }
            #expect(shown?.content.hasPrefix("Deploy 1.4.2 to prod?\n**Deny**, chosen by") == true, "\(shown?.content ?? "not edited")")
            #expect(shown.map { $0.components == nil || $0.components == .array([]) } == true)

            #expect(report["timeout"]?["is_error"] == .bool(false))
            #expect(report["timeout"]?["json"]?["status"]?.stringValue == "timeout")
            #expect(report["timeout"]?["json"]?["note"]?.stringValue?.contains("nobody chose within 2 s") == true)
            #expect(report["too_many_options"]?["is_error"] == .bool(true))
            #expect(report["too_many_options"]?["text"]?.stringValue?.contains("1 to 5") == true)
            #expect(report["both_places"]?["is_error"] == .bool(true))
            #expect(report["both_places"]?["text"]?.stringValue?.contains("exactly one of channel_name") == true)

            #expect(report["send_with_buttons"]?["is_error"] == .bool(false), "\(report["send_with_buttons"].debug)")
            let released = await eventually { try? await stack.simulator.posts().first { $0.content == "Release notes are ready" } }
            #expect(released?.components != nil)
        }
    }


    @Test("react, update_progress, send_file and create_thread through the official Python client do what they say in Discord")
    func memberTools() async throws {
        try await ConnectorStack.with(label: "mcp-members", startingServices: true) { stack in
            let message = try await stack.simulator.inject(channelID: World.general, content: "can you check?", mentionBot: true)
            let entry = try #require(await eventually { try? await stack.entries("sos:inbox:kasra").first })
            var environment = stack.environment
            environment["PATH"] = nil
            environment["MCP_AGENT_NAME"] = Self.agentName
            environment["REQUEST_ID"] = entry.fields["request_id"]
            let report = try await drive("members", environment: environment)
            for tool in ["react", "progress", "file", "thread"] {
                #expect(report[tool]?["is_error"] == .bool(false), "\(tool): \(report[tool].debug)")
            }
            #expect(report["missing_file"]?["text"]?.stringValue?.contains("cannot read /nonexistent/report.pdf") == true)
            #expect(report["bad_request"]?["text"]?.stringValue?.contains("no open request") == true)

            let reacted = await eventually { try? await stack.simulator.reactions().first { $0.messageID == message } }
            #expect(reacted?.emoji == "👍")
            let file = try #require(await eventually { try? await stack.simulator.posts().first { $0.content == "the bytes" } })
            #expect(file.attachments.first?.filename == "bytes.bin")
            let bytes = try await HTTPClient(name: "mcp-members").request(method: "GET", url: try #require(file.attachments.first?.url)).body
            #expect(bytes == Data(0...255))
            // The status message came first, and the answer removed it.
            let status = await eventually { try? await stack.simulator.posts().first { $0.content == "step 1/2: reading" && $0.deleted } }
            #expect(status != nil, "the status message was not posted, or not removed by the answer")
            let threaded = try #require(await eventually { try? await stack.simulator.posts().first { $0.content == "continuing here" } })
            #expect(threaded.channelID == message)
        }
    }


    @Test("fetch_messages pages a channel's history and download_attachment returns a delivered message's files, by bytes or to a path")
    func historyAndAttachments() async throws {
        try await ConnectorStack.with(label: "mcp-history", environment: ["MUMEGA_AGENT_MAP": "{\"\(World.general)\": \"\(Self.agentName)\"}"], startingServices: true) { stack in
            for text in ["first", "second", "third"] {
                _ = try await stack.simulator.inject(channelID: World.general, content: text)
            }
            let binary = Data((0..<1000).map { UInt8($0 % 256) })
            let message = try await stack.simulator.inject(channelID: World.general, content: "two files", attachments: [
                (filename: "all-bytes.bin", contentType: "application/octet-stream", data: binary),
                (filename: "notes.txt", contentType: "text/plain", data: Data("notes\n".utf8)),
            ])
            _ = try #require(await eventually { try? await stack.entries("sos:inbox:\(Self.agentName)").first { $0.fields["message_id"] == message } })
            let path = stack.directory + "/notes-downloaded.txt"
            var environment = stack.environment
            environment["PATH"] = nil
            environment["MCP_AGENT_NAME"] = Self.agentName
            environment["MESSAGE_ID"] = message
            environment["DOWNLOAD_PATH"] = path
            let report = try await drive("history", environment: environment)

            let first = try #require(report["first_page"]?["json"], "\(report["first_page"].debug)")
            let firstIDs = first["messages"]?.array?.compactMap { $0["id"]?.stringValue } ?? []
            #expect(firstIDs.first == message, "newest first: \(report["first_page"].debug)")
            #expect(first["messages"]?.array?.first?["attachments"]?.array?.count == 2)
            let second = report["second_page"]?["json"]?["messages"]?.array?.compactMap { $0["content"]?.stringValue }
            #expect(second == ["second", "first"] || second?.first == "second", "the second page goes on where the first stopped: \(report["second_page"].debug)")
            #expect(report["unknown_channel"]?["is_error"] == .bool(true))

            let download = try #require(report["download"]?["json"], "\(report["download"].debug)")
            let bytes = try #require(download["base64"]?.stringValue.flatMap { Data(base64Encoded: $0) })
            #expect(bytes == binary)
            #expect(download["sha256"]?.stringValue == sha256Hex(binary))
            #expect(report["download_to_path"]?["json"]?["size"]?.doubleValue == 6)
            #expect(FileManager.default.contents(atPath: path) == Data("notes\n".utf8))
            #expect(report["no_such_file"]?["text"]?.stringValue?.contains("has 2 attachment(s)") == true, "\(report["no_such_file"].debug)")
            #expect(report["not_mine"]?["text"]?.stringValue?.contains("no message 123456789012345678") == true, "\(report["not_mine"].debug)")
        }
    }

    @Test("under connector acl apply the MCP server is its agent: its inbox reads, another agent's is refused by Redis, and what it sends is posted under its name")
    func ownInboxUnderACL() async throws {
        let busToken = "connector-secret-for-acl-test"
        try await ConnectorStack.with(label: "mcp-acl", environment: ["MUMEGA_BUS_TOKEN": busToken, "AGENT_IDENTITY": "webhook", "MUMEGA_DEFAULT_AGENT": Self.agentName]) { stack in
            let passwords = stack.directory + "/agents.json"
            try JSON.encode(["\(Self.agentName)": "mcp-agent-password", "loom": "loom-password"]).write(to: URL(fileURLWithPath: passwords))
            let applied = try await runToCompletion("connector", arguments: ["acl", "apply", "--agent-passwords-file", passwords, "--admin-url", stack.redis.url], environment: stack.environment)
            try #require(applied.code == 0, "acl apply: \(applied.output)")
            try await stack.startServices()
            _ = try await stack.simulator.inject(channelID: World.general, content: "for loom", mentionBot: true)
            let message = try await stack.simulator.inject(channelID: World.general, content: "who can answer?", mentionBot: true)
            let entry = try #require(await eventually { try? await stack.entries("sos:inbox:\(Self.agentName)").first { $0.fields["message_id"] == message } })

            var environment = stack.environment
            environment["PATH"] = nil
            environment["MUMEGA_BUS_TOKEN"] = nil
            environment["MCP_AGENT_NAME"] = Self.agentName
            environment["MCP_BUS_TOKEN"] = "mcp-agent-password"
            environment["OTHER_AGENT"] = "loom"
            environment["REQUEST_ID"] = entry.fields["request_id"]
            let report = try await drive("own_inbox", environment: environment)
            #expect(report["own"]?["is_error"] == .bool(false), "\(report["own"].debug)")
            #expect(report["own"]?["json"]?["count"]?.doubleValue ?? 0 >= 1)
            #expect(report["other"]?["is_error"] == .bool(true))
            #expect(report["other"]?["text"]?.stringValue?.contains("NOPERM") == true, "Redis itself refuses: \(report["other"].debug)")
            let answer = try #require(await eventually { try? await stack.simulator.posts().first { $0.content.contains("answered under my own name") } })
            #expect(answer.authorName == Self.agentName)
            let sent = try #require(await eventually { try? await stack.simulator.posts().first { $0.content == "sent by me" } })
            #expect(sent.authorName == Self.agentName)
        }
    }

    func posts(_ stack: ConnectorStack, channel: String, count: Int) async throws -> [SimulatedPost] {
        let found = try await eventually(timeout: .seconds(10)) { () -> [SimulatedPost]? in
            let posts = try await stack.simulator.posts(channelID: channel)
            return posts.count >= count ? posts : nil
        }
        if let found { return found }
        return try await stack.simulator.posts(channelID: channel)
    }
}

private extension JSONValue {
    var array: [JSONValue]? {
        if case .array(let items) = self { return items }
        return nil
    }
}

private extension Optional where Wrapped == JSONValue {
    /// An array of strings, or nil.
    var strings: [String]? {
        guard case .array(let items)? = self else { return nil }
        return items.compactMap(\.stringValue)
    }

    /// For failure messages.
    var debug: String {
        guard let self, let text = try? JSON.encodeString(self) else { return "(missing)" }
        return String(text.prefix(1500))
    }
}
