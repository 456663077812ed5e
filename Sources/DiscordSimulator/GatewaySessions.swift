/// Open gateway connections and the sessions they carry.
///
/// Sessions outlive connections so a client can RESUME: while a session has no connection,
/// its dispatches accumulate in a backlog that a resume replays. Owned by `World`, so a
/// state change and the events it dispatches are one atomic step.
struct GatewaySessions {
    typealias ConnectionId = Int
    typealias Outbox = AsyncStream<GatewayFrame>.Continuation

    private struct Connection {
        let outbox: Outbox
        var sessionId: String?
    }

    private struct Session {
        var lastSequence = 0
        /// Dispatches a RESUME may replay, oldest first.
        var backlog: [(sequence: Int, frame: String)] = []
        var connectionId: ConnectionId?
    }

    /// Bounds memory for sessions that are never resumed; far more than any test produces.
    private static let backlogLimit = 20_000

    private var connections: [ConnectionId: Connection] = [:]
    private var sessions: [String: Session] = [:]
    private var nextConnectionId: ConnectionId = 1

    var connectionCount: Int { connections.count }
    var sessionCount: Int { sessions.count }
    /// Open connections that carry a session.
    var activeSessionCount: Int { connections.values.filter { $0.sessionId != nil }.count }

    // MARK: Connections

    mutating func open(outbox: Outbox) -> ConnectionId {
        let id = nextConnectionId
        nextConnectionId += 1
        connections[id] = Connection(outbox: outbox)
        return id
    }

    /// Forgets the connection; its session (if any) stays resumable.
    mutating func close(_ connectionId: ConnectionId) {
        guard let connection = connections.removeValue(forKey: connectionId) else { return }
        if let sessionId = connection.sessionId, sessions[sessionId]?.connectionId == connectionId {
            sessions[sessionId]?.connectionId = nil
        }
    }

    func sessionId(of connectionId: ConnectionId) -> String? {
        connections[connectionId]?.sessionId
    }

    /// Sends a frame to every open connection, identified or not; returns how many got it.
    func sendToAll(_ frame: GatewayFrame) -> Int {
        for connection in connections.values {
            connection.outbox.yield(frame)
        }
        return connections.count
    }

    // MARK: Sessions

    mutating func startSession(on connectionId: ConnectionId) -> String {
        let sessionId = Self.makeSessionId()
        sessions[sessionId] = Session(connectionId: connectionId)
        connections[connectionId]?.sessionId = sessionId
        return sessionId
    }

    /// Attaches `sessionId` to the connection and replays what it missed after `sequence`.
    /// Returns `nil` when the session is unknown (never existed, expired or invalidated).
    mutating func resume(_ sessionId: String, on connectionId: ConnectionId, after sequence: Int) -> Int? {
        guard var session = sessions[sessionId], let connection = connections[connectionId] else { return nil }
        // A session lives on one connection at a time; a stale connection just stops receiving.
        if let previous = session.connectionId, previous != connectionId {
            connections[previous]?.sessionId = nil
        }
        session.connectionId = connectionId
        sessions[sessionId] = session
        connections[connectionId]?.sessionId = sessionId
        let missed = session.backlog.filter { $0.sequence > sequence }
        for entry in missed {
            connection.outbox.yield(.text(entry.frame))
        }
        return missed.count
    }

    /// Assigns the session's next sequence number and delivers the event if it is connected.
    /// Replayable events are kept so that a later RESUME can deliver what the client missed.
    mutating func dispatch(_ event: String, data: String, to sessionId: String, replayable: Bool = true) {
        guard var session = sessions[sessionId] else { return }
        session.lastSequence += 1
        let frame = GatewayPayload.render(.dispatch, data: data, sequence: session.lastSequence, event: event)
        if replayable {
            session.backlog.append((session.lastSequence, frame))
            if session.backlog.count > Self.backlogLimit {
                session.backlog.removeFirst(session.backlog.count - Self.backlogLimit)
            }
        }
        if let connectionId = session.connectionId {
            connections[connectionId]?.outbox.yield(.text(frame))
        }
        sessions[sessionId] = session
    }

    /// Dispatches to every session, connected or not.
    mutating func broadcast(_ event: String, data: String) {
        for sessionId in Array(sessions.keys) {
            dispatch(event, data: data, to: sessionId)
        }
    }

    /// Sends op 9 to every connection. A non-resumable invalidation also ends the sessions,
    /// so their connections may IDENTIFY again and a RESUME of them fails.
    mutating func invalidateAll(resumable: Bool) -> Int {
        let notified = sendToAll(.text(GatewayPayload.invalidSession(resumable: resumable)))
        if !resumable {
            expireAll()
        }
        return notified
    }

    /// Forgets every session; their connections stay open but no longer receive dispatches.
    @discardableResult
    mutating func expireAll() -> Int {
        let count = sessions.count
        sessions.removeAll()
        for id in Array(connections.keys) {
            connections[id]?.sessionId = nil
        }
        return count
    }

    private static func makeSessionId() -> String {
        (0..<16).map { _ in
            let byte = UInt8.random(in: .min ... .max)
            return String(byte >> 4, radix: 16) + String(byte & 0x0f, radix: 16)
        }.joined()
    }
}
