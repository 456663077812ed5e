import Foundation
import Testing
@testable import Shared

/// GatewaySession as a state machine: a script of events in, the observable effects out.
@Suite("GatewaySession state machine")
struct GatewaySessionTests {
    static let token = "test-bot-token"

    enum Event: Sendable {
        case hello(Int)
        case frame(String)
        case heartbeatDue
        case close(Int?)
        case commit(Int)
    }

    /// An action with the JSON it sends decoded to what matters.
    enum Effect: Equatable, Sendable {
        case startHeartbeat(Int)
        case identify
        case resume(sessionID: String, sequence: Int)
        case heartbeat(Int?)
        case reconnect(resume: Bool)
        case fatal
        case dispatch(String, Int)
        case unreadableSend(String)
    }

    struct Step: Sendable {
        var event: Event
        var effects: [Effect]
        init(_ event: Event, _ effects: [Effect]) {
            self.event = event
            self.effects = effects
        }
    }

    struct Scenario: Sendable, CustomTestStringConvertible {
        var name: String
        var stored: GatewaySession.Resumable? = nil
        var steps: [Step]
        var testDescription: String { name }
    }

    static func effect(of action: GatewaySession.Action) -> Effect {
        switch action {
        case .startHeartbeat(let interval): return .startHeartbeat(interval)
        case .reconnect(let resume, _): return .reconnect(resume: resume)
        case .fatal: return .fatal
        case .dispatch(let event): return .dispatch(event.name, event.sequence)
        case .send(let json):
            guard let object = Fixtures.jsonObject(json), let op = object["op"] as? Int else { return .unreadableSend(json) }
            let d = object["d"]
            switch op {
            case 1: return .heartbeat(d as? Int)
            case 2:
                guard let d = d as? [String: Any], d["token"] as? String == token else { return .unreadableSend(json) }
                return .identify
            case 6:
                guard let d = d as? [String: Any], d["token"] as? String == token,
                      let session = d["session_id"] as? String, let seq = d["seq"] as? Int else { return .unreadableSend(json) }
                return .resume(sessionID: session, sequence: seq)
            default: return .unreadableSend(json)
            }
        }
    }

    static let sid = GatewayFixtures.sessionID
    static let stored = GatewaySession.Resumable(sessionID: "stored-session", sequence: 42, resumeURL: "wss://resume.example")

    static let scenarios: [Scenario] = [
        Scenario(name: "fresh: HELLO -> start heartbeat and IDENTIFY", steps: [
            Step(.hello(41_250), [.startHeartbeat(41_250), .identify]),
        ]),
        Scenario(name: "stored session: HELLO -> RESUME from the stored sequence", stored: stored, steps: [
            Step(.hello(41_250), [.startHeartbeat(41_250), .resume(sessionID: "stored-session", sequence: 42)]),
            Step(.heartbeatDue, [.heartbeat(42)]),
        ]),
        Scenario(name: "op 10 frame is handled like HELLO", steps: [
            Step(.frame(GatewayFixtures.hello), [.startHeartbeat(45_000), .identify]),
        ]),
        Scenario(name: "READY makes the session resumable", steps: [
            Step(.hello(41_250), [.startHeartbeat(41_250), .identify]),
            Step(.frame(GatewayFixtures.ready(sequence: 1)), [.dispatch("READY", 1)]),
            Step(.close(1006), [.reconnect(resume: true)]),
            Step(.hello(41_250), [.startHeartbeat(41_250), .resume(sessionID: sid, sequence: 1)]),
        ]),
        Scenario(name: "heartbeat due twice without ACK -> reconnect and resume", steps: [
            Step(.hello(41_250), [.startHeartbeat(41_250), .identify]),
            Step(.frame(GatewayFixtures.ready(sequence: 1)), [.dispatch("READY", 1)]),
            Step(.heartbeatDue, [.heartbeat(1)]),
            Step(.heartbeatDue, [.reconnect(resume: true)]),
        ]),
        Scenario(name: "zombie connection before READY -> reconnect without resume", steps: [
            Step(.hello(41_250), [.startHeartbeat(41_250), .identify]),
            Step(.heartbeatDue, [.heartbeat(nil)]),
            Step(.heartbeatDue, [.reconnect(resume: false)]),
        ]),
        Scenario(name: "ACK clears the wait", steps: [
            Step(.hello(41_250), [.startHeartbeat(41_250), .identify]),
            Step(.heartbeatDue, [.heartbeat(nil)]),
            Step(.frame(GatewayFixtures.heartbeatAck), []),
            Step(.heartbeatDue, [.heartbeat(nil)]),
            Step(.frame(GatewayFixtures.heartbeatAck), []),
            Step(.heartbeatDue, [.heartbeat(nil)]),
        ]),
        Scenario(name: "a new HELLO clears an outstanding heartbeat", steps: [
            Step(.hello(41_250), [.startHeartbeat(41_250), .identify]),
            Step(.heartbeatDue, [.heartbeat(nil)]),
            Step(.hello(41_250), [.startHeartbeat(41_250), .identify]),
            Step(.heartbeatDue, [.heartbeat(nil)]),
        ]),
        Scenario(name: "op 7 -> reconnect and resume", steps: [
            Step(.frame(GatewayFixtures.ready(sequence: 1)), [.dispatch("READY", 1)]),
            Step(.frame(GatewayFixtures.reconnect), [.reconnect(resume: true)]),
            Step(.hello(41_250), [.startHeartbeat(41_250), .resume(sessionID: sid, sequence: 1)]),
        ]),
        Scenario(name: "op 9 false -> forget the session and identify anew", steps: [
            Step(.frame(GatewayFixtures.ready(sequence: 1)), [.dispatch("READY", 1)]),
            Step(.frame(GatewayFixtures.messageCreate(sequence: 2)), [.dispatch("MESSAGE_CREATE", 2)]),
            Step(.frame(GatewayFixtures.invalidSessionNotResumable), [.reconnect(resume: false)]),
            Step(.hello(41_250), [.startHeartbeat(41_250), .identify]),
            Step(.heartbeatDue, [.heartbeat(nil)]),
        ]),
        Scenario(name: "op 9 true -> reconnect and resume", steps: [
            Step(.frame(GatewayFixtures.ready(sequence: 1)), [.dispatch("READY", 1)]),
            Step(.frame(GatewayFixtures.invalidSessionResumable), [.reconnect(resume: true)]),
            Step(.hello(41_250), [.startHeartbeat(41_250), .resume(sessionID: sid, sequence: 1)]),
        ]),
        Scenario(name: "op 1 -> immediate heartbeat with the last sequence", steps: [
            Step(.frame(GatewayFixtures.ready(sequence: 1)), [.dispatch("READY", 1)]),
            Step(.frame(GatewayFixtures.messageCreate(sequence: 5)), [.dispatch("MESSAGE_CREATE", 5)]),
            Step(.frame(GatewayFixtures.heartbeatRequest), [.heartbeat(5)]),
        ]),
        Scenario(name: "commit only moves forward; RESUME starts after the last handled event", steps: [
            Step(.frame(GatewayFixtures.ready(sequence: 1)), [.dispatch("READY", 1)]),
            Step(.commit(5), []),
            Step(.commit(3), []),
            Step(.close(4000), [.reconnect(resume: true)]),
            Step(.hello(41_250), [.startHeartbeat(41_250), .resume(sessionID: sid, sequence: 5)]),
        ]),
        Scenario(name: "an event not yet handled is replayed: RESUME from the last commit", steps: [
            Step(.frame(GatewayFixtures.ready(sequence: 1)), [.dispatch("READY", 1)]),
            Step(.frame(GatewayFixtures.messageCreate(sequence: 2)), [.dispatch("MESSAGE_CREATE", 2)]),
            Step(.heartbeatDue, [.heartbeat(2)]),
            Step(.close(1006), [.reconnect(resume: true)]),
            Step(.hello(41_250), [.startHeartbeat(41_250), .resume(sessionID: sid, sequence: 1)]),
        ]),
        Scenario(name: "close 4009 -> identify anew", steps: [
            Step(.frame(GatewayFixtures.ready(sequence: 1)), [.dispatch("READY", 1)]),
            Step(.close(4009), [.reconnect(resume: false)]),
            Step(.hello(41_250), [.startHeartbeat(41_250), .identify]),
        ]),
        Scenario(name: "close 4004 -> fatal", stored: stored, steps: [
            Step(.close(4004), [.fatal]),
        ]),
        Scenario(name: "close without a code keeps the session", stored: stored, steps: [
            Step(.close(nil), [.reconnect(resume: true)]),
            Step(.hello(41_250), [.startHeartbeat(41_250), .resume(sessionID: "stored-session", sequence: 42)]),
        ]),
        Scenario(name: "unknown opcodes are ignored", steps: [
            Step(.frame(#"{"op":42,"d":null}"#), []),
        ]),
    ]

    @Test("scenario", arguments: scenarios)
    func run(_ scenario: Scenario) throws {
        var session = GatewaySession(token: Self.token, resumable: scenario.stored)
        for (index, step) in scenario.steps.enumerated() {
            let actions: [GatewaySession.Action]
            switch step.event {
            case .hello(let interval): actions = session.onHello(heartbeatInterval: interval)
            case .frame(let json): actions = session.onFrame(try GatewayFrame.decode(json))
            case .heartbeatDue: actions = session.onHeartbeatDue()
            case .close(let code): actions = session.onClose(code: code)
            case .commit(let sequence):
                session.commit(sequence: sequence)
                actions = []
            }
            #expect(actions.map(Self.effect) == step.effects, "step \(index): \(step.event)")
        }
    }

    @Test("READY records session id, sequence and resume URL")
    func readyState() throws {
        var session = GatewaySession(token: Self.token)
        #expect(session.resumable == nil)
        _ = session.onFrame(try GatewayFrame.decode(GatewayFixtures.ready(sequence: 1)))
        #expect(session.resumable == GatewaySession.Resumable(sessionID: Self.sid, sequence: 1, resumeURL: GatewayFixtures.resumeURL))
        #expect(session.lastSequence == 1)
    }

    @Test("commit(sequence:) only moves forward")
    func commitForward() {
        var session = GatewaySession(token: Self.token, resumable: Self.stored)
        session.commit(sequence: 43)
        #expect(session.resumable?.sequence == 43)
        session.commit(sequence: 10)
        #expect(session.resumable?.sequence == 43)
        session.commit(sequence: 43)
        #expect(session.resumable?.sequence == 43)
        var fresh = GatewaySession(token: Self.token)
        fresh.commit(sequence: 5)
        #expect(fresh.resumable == nil)
    }

    @Test("op 9 false forgets the session")
    func invalidSessionForgets() throws {
        var session = GatewaySession(token: Self.token, resumable: Self.stored)
        _ = session.onFrame(try GatewayFrame.decode(GatewayFixtures.invalidSessionNotResumable))
        #expect(session.resumable == nil)
        #expect(session.lastSequence == nil)
    }

    @Test("the dispatch hands on the event's payload")
    func dispatchPayload() throws {
        var session = GatewaySession(token: Self.token)
        let actions = session.onFrame(try GatewayFrame.decode(GatewayFixtures.messageCreate(sequence: 7)))
        guard case .dispatch(let event)? = actions.first else {
            Issue.record("expected a dispatch, got \(actions)")
            return
        }
        let message = try JSONDecoder().decode(DiscordMessage.self, from: event.data)
        #expect(message.id == "600000000000000000")
        #expect(message.authorName == "Ada")
        #expect(message.guildID == "800000000000000000")
    }
}
