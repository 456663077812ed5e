import Foundation

/// The gateway connection's state as a value: events in, actions out. The I/O layer
/// (`GatewayClient`) performs the actions; every transition is testable without a socket.
public struct GatewaySession: Sendable, Equatable {
    /// What must survive a reconnect (and, kept in Redis, a restart) to RESUME.
    public struct Resumable: Sendable, Equatable, Codable {
        public var sessionID: String
        public var sequence: Int
        public var resumeURL: String

        public init(sessionID: String, sequence: Int, resumeURL: String) {
            self.sessionID = sessionID
            self.sequence = sequence
            self.resumeURL = resumeURL
        }
    }

    public enum Action: Equatable, Sendable {
        case send(String)
        /// Start heartbeating: the first beat after `interval * jitter`, then every `interval`.
        case startHeartbeat(intervalMilliseconds: Int)
        /// Close this connection (with a 4000-range code, so the session stays resumable) and
        /// connect again; `resume` says whether to RESUME or IDENTIFY anew.
        case reconnect(resume: Bool, reason: String)
        case fatal(String)
        /// A dispatch to hand on; its sequence is committed by `commit(sequence:)` once handled.
        case dispatch(GatewayFrame.EventRef)
    }

    public private(set) var resumable: Resumable?
    public private(set) var awaitingHeartbeatAck = false
    /// The highest sequence received (sent in heartbeats); `resumable.sequence` trails it until
    /// the event is handled, so a crash replays what was not yet handled.
    public private(set) var lastSequence: Int?
    private let token: String
    private let intents: GatewayIntents
    private let shardID: Int
    private let shardCount: Int

    public init(token: String, intents: GatewayIntents = .connector, resumable: Resumable? = nil, shard: (id: Int, count: Int) = (0, 1)) {
        self.token = token
        self.intents = intents
        self.resumable = resumable
        self.lastSequence = resumable?.sequence
        self.shardID = shard.id
        self.shardCount = shard.count
    }

    /// HELLO: identify or resume, and start heartbeating.
    public mutating func onHello(heartbeatInterval: Int) -> [Action] {
        awaitingHeartbeatAck = false
        let greeting: String
        if let resumable {
            greeting = GatewayCommand.resume(token: token, sessionID: resumable.sessionID, sequence: resumable.sequence)
        } else {
            greeting = GatewayCommand.identify(token: token, intents: intents, shard: shardCount > 1 ? (shardID, shardCount) : nil)
        }
        return [.startHeartbeat(intervalMilliseconds: heartbeatInterval), .send(greeting)]
    }

    public mutating func onFrame(_ frame: GatewayFrame) -> [Action] {
        switch GatewayOpcode(rawValue: frame.opcode) {
        case .dispatch:
            if let sequence = frame.sequence { lastSequence = max(lastSequence ?? 0, sequence) }
            if frame.eventName == "READY", let ready = try? frame.payload(Ready.self) {
                resumable = Resumable(sessionID: ready.sessionID, sequence: frame.sequence ?? 0, resumeURL: ready.resumeGatewayURL)
            }
            return [.dispatch(GatewayFrame.EventRef(frame))]
        case .heartbeat:
            return [.send(GatewayCommand.heartbeat(sequence: lastSequence))]
        case .heartbeatAck:
            awaitingHeartbeatAck = false
            return []
        case .reconnect:
            return [.reconnect(resume: resumable != nil, reason: "Discord asked for a reconnect (op 7)")]
        case .invalidSession:
            let canResume = (try? frame.payload(Bool.self)) ?? false
            if !canResume { forgetSession() }
            return [.reconnect(resume: canResume && resumable != nil, reason: "session invalidated (op 9, resumable: \(canResume))")]
        case .hello:
            let interval = (try? frame.payload(Hello.self))?.heartbeatInterval ?? 41_250
            return onHello(heartbeatInterval: interval)
        case .identify, .resume, .none:
            return []
        }
    }

    /// A dispatch was received but skipped unread (the client's `skipsUnread`): its sequence
    /// counts as received, for heartbeats; it is committed by the next handled event's commit.
    public mutating func onSkipped(sequence: Int) {
        lastSequence = max(lastSequence ?? 0, sequence)
    }

    /// The heartbeat timer fired: beat, unless the last beat was never acknowledged (a zombie
    /// connection), in which case reconnect and resume.
    public mutating func onHeartbeatDue() -> [Action] {
        if awaitingHeartbeatAck {
            return [.reconnect(resume: resumable != nil, reason: "no heartbeat ACK: zombie connection")]
        }
        awaitingHeartbeatAck = true
        return [.send(GatewayCommand.heartbeat(sequence: lastSequence))]
    }

    /// The connection closed (by Discord or the network).
    public mutating func onClose(code: Int?) -> [Action] {
        switch GatewayClosePolicy.forCode(code) {
        case .fatal(let message): return [.fatal(message)]
        case .reidentify:
            forgetSession()
            return [.reconnect(resume: false, reason: "gateway closed with \(code.map(String.init) ?? "no code"); identifying anew")]
        case .resume:
            return [.reconnect(resume: resumable != nil, reason: "gateway closed with \(code.map(String.init) ?? "no code")")]
        }
    }

    /// Records that the event with this sequence was handled, so a RESUME starts after it.
    public mutating func commit(sequence: Int) {
        guard var resumable, sequence > resumable.sequence else { return }
        resumable.sequence = sequence
        self.resumable = resumable
    }

    public mutating func forgetSession() {
        resumable = nil
        lastSequence = nil
    }

    struct Hello: Decodable {
        var heartbeatInterval: Int
        enum CodingKeys: String, CodingKey { case heartbeatInterval = "heartbeat_interval" }
    }

    public struct Ready: Decodable, Sendable {
        public var sessionID: String
        public var resumeGatewayURL: String
        public var user: DiscordUser
        enum CodingKeys: String, CodingKey {
            case user
            case sessionID = "session_id"
            case resumeGatewayURL = "resume_gateway_url"
        }
    }
}

extension GatewayFrame {
    /// A dispatch as handed to the application: its name, sequence and raw payload.
    public struct EventRef: Sendable, Equatable {
        public var name: String
        public var sequence: Int
        public var data: Data

        public init(_ frame: GatewayFrame) {
            name = frame.eventName ?? ""
            sequence = frame.sequence ?? 0
            data = frame.data
        }
    }
}
