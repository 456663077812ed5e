import Foundation
import Testing
@testable import Shared

/// What becomes of each interaction: the routing and refusals of CONTRACT section 7.
@Suite("InteractionIntake")
struct InteractionIntakeTests {
    static let router = AgentRouter(channelAgents: ["300000000000000002": "builder"], defaultAgent: "kasra")
    static let now = Date(timeIntervalSince1970: 1_764_000_000)

    static func command(name: String = "ask", options: String = #"[{"name":"prompt","type":3,"value":"summarise today's deploys"}]"#, guild: Bool = true, channel: String = "300000000000000001", user: String = "400000000000000001", extra: String = "") -> Interaction {
        let who = guild
            ? #""guild_id":"200000000000000001","member":{"nick":"Al","user":{"id":"\#(user)","username":"alice"}}"#
            : #""user":{"id":"\#(user)","username":"alice","global_name":"Alice"}"#
        let json = #"{"id":"900000000000000001","application_id":"100000000000000001","type":2,"token":"tok","channel_id":"\#(channel)",\#(who),"data":{"id":"1","name":"\#(name)","type":1,"options":\#(options)}\#(extra)}"#
        return try! JSON.decode(Interaction.self, from: Data(json.utf8))
    }

    func decide(_ interaction: Interaction, allowlist: Allowlist = Allowlist(), slashCommand: String = "ask") -> InteractionIntake.Decision {
        InteractionIntake(router: Self.router, allowlist: allowlist, slashCommand: slashCommand, componentSigner: Self.signer).decide(interaction, requestID: "req", now: Self.now)
    }

    static let signer = ComponentIDSigner(key: "intake-test-key")

    /// A click (or a select's choice) on the component at `index` of `set`, as Discord sends it.
    static func click(customID: String, values: [String]? = nil, channel: String = "300000000000000002") -> Interaction {
        let data = values.map { #"{"custom_id":"\#(customID)","component_type":3,"values":\#(try! JSON.encodeString($0))}"# } ?? #"{"custom_id":"\#(customID)","component_type":2}"#
        let json = #"{"id":"900000000000000077","application_id":"100000000000000001","type":3,"token":"click-token","channel_id":"\#(channel)","guild_id":"200000000000000001","member":{"user":{"id":"400000000000000001","username":"alice"}},"message":{"id":"500000000000000042","channel_id":"\#(channel)"},"data":\#(data)}"#
        return try! JSON.decode(Interaction.self, from: Data(json.utf8))
    }

    @Test("a click on a signed component becomes a component request for the agent that posted it, with its own custom_id")
    func click() throws {
        let signed = Self.signer.sign(.init(set: "1733250000123-0", index: 1))
        guard case .click(let click) = decide(Self.click(customID: signed)) else { Issue.record("not a click"); return }
        #expect(click.target == .init(set: "1733250000123-0", index: 1))
        #expect(click.message.kind == .component)
        #expect(click.message.messageID == "500000000000000042")
        #expect(click.message.interactionID == "900000000000000077")
        #expect(click.message.dedupeID == "900000000000000077")
        #expect(click.reply.token == "click-token")
        #expect(InteractionIntake.Decision.click(click).response == .deferredUpdate)

        let context = ComponentContext(agent: "loom", answersRequest: "req-7", channelID: "300000000000000002", items: [
            .init(customID: "approve", label: "Approve"), .init(customID: "deny", label: "Deny"),
        ])
        let message = try #require(click.resolved(with: context))
        #expect(message.customID == "deny")
        #expect(message.componentLabel == "Deny")
        #expect(message.answersRequest == "req-7")
        // The posting agent, though the channel maps to another and the configuration never names it.
        #expect(Self.router.agent(for: message) == "loom")
        #expect(try InboundMessage(fields: message.streamFields) == message)
        #expect(message.streamFields["values"] == "[]")
        let text = AgentInboxRecord.text(for: message, ctxBlock: "[ctx:x]")
        #expect(text.contains(#"clicked "Deny" (custom_id deny) on message 500000000000000042, answering request req-7"#))
        // A place the set does not hold names nothing.
        #expect(ComponentClick(target: .init(set: "1733250000123-0", index: 2), message: click.message, reply: click.reply).resolved(with: context) == nil)
    }

    @Test("a select delivers its chosen values as a JSON array")
    func select() throws {
        let signed = Self.signer.sign(.init(set: "1-0", index: 0))
        guard case .click(let click) = decide(Self.click(customID: signed, values: ["eu-west", "us-east"])) else { Issue.record("not a click"); return }
        #expect(click.message.values == #"["eu-west","us-east"]"#)
    }

    @Test("clicks refused: a forged id, a tampered one, one signed with another key, someone the allowlists refuse")
    func clickRefusals() {
        let signed = Self.signer.sign(.init(set: "1733250000123-0", index: 0))
        let cases: [(String, Allowlist)] = [
            ("approve", Allowlist()),
            (signed.replacingOccurrences(of: ":0:", with: ":1:"), Allowlist()),
            (ComponentIDSigner(key: "another-key").sign(.init(set: "1733250000123-0", index: 0)), Allowlist()),
            (signed, Allowlist(users: ["499999999999999999"])),
        ]
        for (customID, allowlist) in cases {
            guard case .refuse = decide(Self.click(customID: customID), allowlist: allowlist) else {
                Issue.record("accepted \(customID) with \(allowlist)")
                continue
            }
        }
    }

    @Test("a guild /ask becomes a command request for the channel's agent, with the token kept for the answer")
    func guildCommand() throws {
        guard case .accept(let message, let reply) = decide(Self.command()) else { Issue.record("not accepted"); return }
        #expect(message.kind == .command)
        #expect(message.command == "ask")
        #expect(message.content == "summarise today's deploys")
        #expect(message.messageID == "900000000000000001")
        #expect(message.authorID == "400000000000000001")
        #expect(message.authorName == "Al")
        #expect(message.guildID == "200000000000000001")
        #expect(message.requestedAgent == "")
        #expect(Self.router.agent(for: message) == "kasra")
        #expect(reply == .init(applicationID: "100000000000000001", token: "tok", expiresAtMilliseconds: 1_764_000_900_000))
    }

    @Test("the agent option wins over the channel's mapping; an unknown agent is refused")
    func namedAgent() {
        let named = Self.command(options: #"[{"name":"prompt","type":3,"value":"hi"},{"name":"agent","type":3,"value":"kasra"}]"#, channel: "300000000000000002")
        guard case .accept(let message, _) = decide(named) else { Issue.record("not accepted"); return }
        #expect(Self.router.agent(for: message) == "kasra")
        guard case .accept(let mapped, _) = decide(Self.command(channel: "300000000000000002")) else { Issue.record("not accepted"); return }
        #expect(Self.router.agent(for: mapped) == "builder")
        guard case .refuse(let text) = decide(Self.command(options: #"[{"name":"prompt","type":3,"value":"hi"},{"name":"agent","type":3,"value":"mallory"}]"#)) else {
            Issue.record("an unknown agent was accepted"); return
        }
        #expect(text.contains("builder, kasra"))
    }

    @Test("in a thread the parent channel maps and the thread receives the answer")
    func thread() {
        let inThread = Self.command(channel: "300000000000000010", extra: #","channel":{"id":"300000000000000010","type":11,"parent_id":"300000000000000002","name":"design-thread"}"#)
        guard case .accept(let message, _) = decide(inThread) else { Issue.record("not accepted"); return }
        #expect(message.channelID == "300000000000000002")
        #expect(message.threadID == "300000000000000010")
        #expect(message.replyChannelID == "300000000000000010")
        #expect(Self.router.agent(for: message) == "builder")
    }

    @Test("refused: someone outside ALLOWED_USERS, another command, an empty prompt, no command configured, a component")
    func refusals() {
        let cases: [(Interaction, Allowlist, String)] = [
            (Self.command(), Allowlist(users: ["499999999999999999"]), "ask"),
            (Self.command(), Allowlist(channels: ["399999999999999999"]), "ask"),
            (Self.command(name: "other"), Allowlist(), "ask"),
            (Self.command(options: #"[{"name":"prompt","type":3,"value":"   "}]"#), Allowlist(), "ask"),
            (Self.command(), Allowlist(), ""),
            (try! JSON.decode(Interaction.self, from: Data(#"{"id":"1","application_id":"2","type":3,"token":"t","channel_id":"3","user":{"id":"4","username":"a"},"data":{"custom_id":"forged","component_type":2}}"#.utf8)), Allowlist(), "ask"),
        ]
        for (interaction, allowlist, command) in cases {
            guard case .refuse = decide(interaction, allowlist: allowlist, slashCommand: command) else {
                Issue.record("accepted \(interaction.data?.name ?? interaction.data?.customID ?? "?") with \(allowlist)")
                continue
            }
        }
    }

    @Test("a DM command reads as a direct message in the agent's text; a PING is answered with PONG")
    func dmAndPing() throws {
        guard case .accept(let message, _) = decide(Self.command(guild: false)) else { Issue.record("not accepted"); return }
        #expect(message.guildID == "")
        #expect(message.authorName == "Alice")
        let text = AgentInboxRecord.text(for: message, ctxBlock: "[ctx:x]")
        #expect(text.hasPrefix("[request_id:req] Discord command /ask from Alice in a direct message: summarise today's deploys"))
        let ping = try JSON.decode(Interaction.self, from: Data(#"{"id":"1","application_id":"2","type":1,"token":"t"}"#.utf8))
        #expect(decide(ping) == .pong)
    }

    @Test("a command request keeps its kind, command and named agent through the bus codec and the pending context")
    func codec() throws {
        guard case .accept(var message, let reply) = decide(Self.command(options: #"[{"name":"prompt","type":3,"value":"hi"},{"name":"agent","type":3,"value":"builder"}]"#)) else { Issue.record("not accepted"); return }
        message.requestID = "1b4e28ba-2fa1-41d2-883f-0016d3cca427"
        #expect(try InboundMessage(fields: message.streamFields) == message)
        var context = PendingContext(message)
        context.interaction = reply
        #expect(try PendingContext(fields: context.streamFields) == context)
    }
}
