import Foundation
import Testing
@testable import Shared

@Suite("AUTO_THREAD and OUTBOUND_POLICY")
struct ChannelPoliciesTests {
    @Test("AUTO_THREAD: 1, 0, unset, and a per-channel JSON map", arguments: [
        (nil, [] as Set<String>?, false),
        ("0", [], false),
        ("off", [], false),
        ("1", nil, true),
        ("true", nil, true),
        (#"{"111": 1, "222": 0, "333": true, "444": "off"}"#, ["111", "333"], false),
    ] as [(String?, Set<String>?, Bool)])
    func autoThreadParses(raw: String?, channels: Set<String>?, everywhere: Bool) throws {
        let parsed = try AutoThread.parse(raw)
        #expect(parsed.channels == channels)
        #expect(parsed.applies(to: "999") == everywhere)
        if let channels { for channel in channels { #expect(parsed.applies(to: channel)) } }
    }

    @Test("AUTO_THREAD refuses what it cannot read, naming the variable", arguments: [
        "yes please", #"{"general": 1}"#, #"{"111": "maybe"}"#, #"["111"]"#,
    ])
    func autoThreadRefuses(raw: String) {
        #expect(throws: ConfigError.self) { try AutoThread.parse(raw) }
        do {
            _ = try ConnectorConfig(environment: ["AUTO_THREAD": raw])
            Issue.record("accepted \(raw)")
        } catch {
            #expect(error.variable == "AUTO_THREAD")
        }
    }

    @Test("a request's thread is named after its first line, without mentions, within Discord's limit", arguments: [
        ("<@123> can you deploy the staging build?", "alice", "can you deploy the staging build?"),
        ("<@!123>   fix   the\ttests\nand then the docs", "alice", "fix the tests"),
        ("<@123>", "alice", "Request from alice"),
        ("", "", "Request"),
        ("<#555> look at <@&777> this", "bob", "look at this"),
    ])
    func threadNames(content: String, author: String, expected: String) {
        #expect(AutoThread.threadName(content: content, author: author) == expected)
    }

    @Test("a long first line is cut at a word, at most 80 characters")
    func longThreadName() {
        let content = String(repeating: "word ", count: 40)
        let name = AutoThread.threadName(content: content, author: "a")
        #expect(name.count <= 80)
        #expect(name.hasSuffix("word…"))
        let unbroken = String(repeating: "x", count: 200)
        #expect(AutoThread.threadName(content: unbroken, author: "a").count == 80)
    }

    @Test("OUTBOUND_POLICY: unset lets every agent post anywhere")
    func openPolicy() throws {
        let policy = try OutboundPolicy.parse(nil)
        #expect(policy.decide(agent: "kasra", channelID: "1", channelName: nil) == .allowed)
    }

    @Test("OUTBOUND_POLICY: by id, by name (any spelling), a thread of an allowed channel, the * entries; everything else refused with the reason", arguments: [
        ("kasra", "100", nil, nil, true),
        ("kasra", "200", "Ops", nil, true),
        ("kasra", "300", "#ops", nil, true),
        ("kasra", "400", nil, "100", true),
        ("kasra", "500", "random", nil, false),
        ("loom", "500", "random", nil, true),
        ("river", "100", nil, nil, false),
        ("river", "600", "announcements", nil, true),
    ] as [(String, String, String?, String?, Bool)])
    func policyDecides(agent: String, channelID: String, channelName: String?, parentID: String?, allowed: Bool) throws {
        let policy = try OutboundPolicy.parse(#"{"kasra": ["100", "ops"], "loom": ["*"], "*": ["announcements"]}"#)
        let decision = policy.decide(agent: agent, channelID: channelID, channelName: channelName, parentID: parentID)
        if allowed {
            #expect(decision == .allowed)
        } else {
            guard case .refused(let reason) = decision else { Issue.record("allowed \(agent) in \(channelID)"); return }
            #expect(reason.contains("OUTBOUND_POLICY"))
            #expect(reason.contains(agent))
        }
    }

    @Test("OUTBOUND_POLICY: an agent not named, with no * entry, may post nowhere without a request")
    func unlistedAgent() throws {
        let policy = try OutboundPolicy.parse(#"{"kasra": ["100"]}"#)
        #expect(policy.decide(agent: "loom", channelID: "100", channelName: "general") != .allowed)
    }

    @Test("OUTBOUND_POLICY refuses what it cannot read, naming the variable", arguments: [
        "[]", #"{"kasra": "100"}"#, #"{"kasra": [1]}"#, #"{"bad name": ["1"]}"#, #"{"kasra": [""]}"#, "not json",
    ])
    func policyRefuses(raw: String) {
        do {
            _ = try ConnectorConfig(environment: ["OUTBOUND_POLICY": raw])
            Issue.record("accepted \(raw)")
        } catch {
            #expect(error.variable == "OUTBOUND_POLICY")
        }
    }
}
