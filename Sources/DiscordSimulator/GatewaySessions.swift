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
        /// Bounds memory for sessions that are never resumed; far more than any test produces.
        static let backlogLimit = 20_000
        /// The backlog is trimmed only once it holds this many entries more than the limit, so a
        /// busy session pays for one bulk move now and then instead of a shift on every dispatch.
        static let backlogSlack = 5_000

        let shard: Shard
        var lastSequence = 0
        /// Dispatches a RESUME may replay, oldest first.
        var backlog: [(sequence: Int, frame: String)] = []
        var connectionId: ConnectionId?

        /// Stamps the event with the next sequence number and keeps it for replay if asked to.
        mutating func nextFrame(_ event: String, data: String, replayable: Bool) -> String {
            lastSequence += 1
            let frame = GatewayPayload.render(.dispatch, data: data, sequence: lastSequence, event: event)
            if replayable {
                backlog.append((lastSequence, frame))
                if backlog.count > Self.backlogLimit + Self.backlogSlack {
                    backlog.removeFirst(backlog.count - Self.backlogLimit)
                }
            }
            return frame
        }
    }

    private var connections: [ConnectionId: Connection] = [:]
    private var sessions: [String: Session] = [:]
    private var nextConnectionId: ConnectionId = 1

    var connectionCount: Int { connections.count }
    var sessionCount: Int { sessions.count }
    /// Open connections that carry a session.
    var activeSessionCount: Int { connections.values.filter { $0.sessionId != nil }.count }

    /// Open connections that carry a session, per shard id.
    var activeSessionsByShard: [Int: Int] {
        var counts: [Int: Int] = [:]
        for case let sessionId? in connections.values.map(\.sessionId) {
            if let shard = sessions[sessionId]?.shard {
                counts[shard.id, default: 0] += 1
            }
        }
        return counts
    }

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

    mutating func startSession(on connectionId: ConnectionId, shard: Shard) -> String {
        let sessionId = Self.makeSessionId()
        sessions[sessionId] = Session(shard: shard, connectionId: connectionId)
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
        guard let index = sessions.index(forKey: sessionId) else { return }
        // Mutated in place: a copy of the session would copy its whole backlog on append.
        let frame = sessions.values[index].nextFrame(event, data: data, replayable: replayable)
        if let connectionId = sessions.values[index].connectionId {
            connections[connectionId]?.outbox.yield(.text(frame))
        }
    }

    /// Dispatches to every session, connected or not, whose shard receives `guildId`'s events
    /// (`nil` for events outside any guild, such as DMs).
    mutating func broadcast(_ event: String, data: String, guildId: Snowflake?) {
        let recipients = sessions.compactMap { $0.value.shard.receives(guildId: guildId) ? $0.key : nil }
        for sessionId in recipients {
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
