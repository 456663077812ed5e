import Foundation
import Testing
@testable import Shared

@Suite("CommandRegistrar")
struct CommandRegistrarTests {
    func config(_ environment: [String: String]) throws -> ConnectorConfig {
        try ConnectorConfig(environment: environment)
    }

    @Test("/ask has a required prompt and an agent option whose choices are the configured agents")
    func definition() throws {
        let commands = CommandRegistrar.commands(for: try config(["MUMEGA_AGENT_MAP": #"{"1": "loom", "2": "builder"}"#]))
        #expect(commands.map(\.name) == ["ask"])
        let options = try #require(commands.first?.options)
        #expect(options.map(\.name) == ["prompt", "agent"])
        #expect(options[0].required == true)
        #expect(options[1].choices?.map(\.value) == ["builder", "kasra", "loom"])
        #expect(CommandRegistrar.commands(for: try config(["SLASH_COMMAND": ""])).isEmpty)
        #expect(CommandRegistrar.commands(for: try config(["SLASH_COMMAND": "hey"])).first?.name == "hey")
    }

    @Test("more than 25 agents: no choices, any name may be typed")
    func manyAgents() throws {
        let map = "{" + (1...30).map { "\"\($0)\": \"agent-\($0)\"" }.joined(separator: ",") + "}"
        let options = try #require(CommandRegistrar.commands(for: try config(["MUMEGA_AGENT_MAP": map])).first?.options)
        #expect(options[1].choices == nil)
    }

    @Test("what Discord returns for the same command matches; a changed option does not")
    func comparison() throws {
        let wanted = CommandRegistrar.commands(for: try config([:]))
        // Discord's answer: extra fields, required false left out, in its own order.
        let registered = try JSON.decode([CommandRegistrar.Command].self, from: Data(#"""
        [{"id":"1","application_id":"2","version":"3","default_member_permissions":null,"type":1,"name":"ask","description":"Ask an agent","dm_permission":true,"nsfw":false,
          "options":[{"type":3,"name":"prompt","description":"What to ask","required":true},
                     {"type":3,"name":"agent","description":"Which agent answers (default: the channel's)","choices":[{"name":"kasra","value":"kasra"}]}]}]
        """#.utf8))
        #expect(CommandRegistrar.matches(registered: registered, wanted: wanted))
        var changed = registered
        changed[0].options[1].choices = [.init(name: "loom", value: "loom")]
        #expect(!CommandRegistrar.matches(registered: changed, wanted: wanted))
        #expect(!CommandRegistrar.matches(registered: [], wanted: wanted))
        #expect(CommandRegistrar.matches(registered: [], wanted: []))
    }

    @Test("SLASH_COMMAND and COMMANDS_GUILD_ID are checked at start-up")
    func settings() {
        for (name, value) in [("SLASH_COMMAND", "Ask Me"), ("SLASH_COMMAND", String(repeating: "a", count: 33)), ("COMMANDS_GUILD_ID", "guild"), ("INTERACTIONS_PORT", "99999"), ("DISCORD_PUBLIC_KEY", "abcd")] {
            let error = #expect(throws: ConfigError.self) { try ConnectorConfig(environment: [name: value]) }
            #expect(error?.variable == name)
        }
    }
}
