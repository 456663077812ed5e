import Testing
@testable import Shared

@Suite("AgentRouter")
struct AgentRouterTests {
    @Test("parseMap reads a JSON object of channel id -> agent name")
    func parsesMap() throws {
        #expect(try AgentRouter.parseMap("{}") == [:])
        #expect(try AgentRouter.parseMap(#"{"123": "river", "456":"kasra.v2-b_1"}"#) == ["123": "river", "456": "kasra.v2-b_1"])
        #expect(try AgentRouter.parseMap(" \n{ \"1\" : \"a\" }\n") == ["1": "a"])
    }

    @Test("parseMap errors name MUMEGA_AGENT_MAP", arguments: [
        "not json",
        "{\"123\": \"river\"",
        "[\"123\", \"river\"]",
        "\"river\"",
        "42",
        "null",
        "",
        #"{"general": "river"}"#,
        #"{"12a": "river"}"#,
        #"{"": "river"}"#,
        #"{"-12": "river"}"#,
        #"{"123": 5}"#,
        #"{"123": null}"#,
        #"{"123": ["river"]}"#,
        #"{"123": {"name": "river"}}"#,
        #"{"123": ""}"#,
        #"{"123": "river kasra"}"#,
        #"{"123": "river/../x"}"#,
        #"{"123": "ri:ver"}"#,
    ])
    func parseMapErrors(json: String) {
        let error = #expect(throws: ConfigError.self) { try AgentRouter.parseMap(json) }
        #expect(error?.variable == "MUMEGA_AGENT_MAP")
        #expect(error?.description.contains("MUMEGA_AGENT_MAP") == true)
    }

    @Test("agent names: letters, digits, '-', '_', '.', 1 to 64 characters", arguments: [
        ("kasra", true), ("river-2", true), ("a_b.c", true), (String(repeating: "a", count: 64), true),
        ("", false), (String(repeating: "a", count: 65), false), ("a b", false), ("a:b", false),
        ("a/b", false), ("é", false), ("a*", false),
    ])
    func agentNames(name: String, valid: Bool) {
        #expect(AgentRouter.isValidAgentName(name) == valid)
    }

    @Test("mappedAgent looks at the thread, then the parent channel")
    func mappedAgent() {
        let router = AgentRouter(channelAgents: ["1": "river", "3": "thread-agent"], defaultAgent: "kasra")
        #expect(router.mappedAgent(channelID: "1") == "river")
        #expect(router.mappedAgent(channelID: "1", threadID: "2") == "river")
        #expect(router.mappedAgent(channelID: "1", threadID: "3") == "thread-agent")
        #expect(router.mappedAgent(channelID: "9") == nil)
        #expect(router.mappedAgent(channelID: "9", threadID: "8") == nil)
    }
}
