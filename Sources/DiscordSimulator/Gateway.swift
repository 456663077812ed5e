import Foundation
import HummingbirdWebSocket
import Logging
import NIOWebSocket

/// Serves one gateway WebSocket connection: HELLO, heartbeats, IDENTIFY/RESUME and the
/// dispatches `World` queues for the connection's session.
///
/// Each connection runs three tasks: a reader handling client payloads, a heartbeat watchdog,
/// and a writer draining the connection's outbox. Everything sent, including replies to the
/// client's own payloads, goes through the outbox so frames leave in the order they were queued.
struct GatewayServer: Sendable {
    /// Cap on one client payload and on a WebSocket frame. Far above Discord's own 4 KiB
    /// client limit, so oversized-but-valid client payloads never fail here first.
    static let maxInboundMessageSize = 1 << 20
    /// How long to wait for the client to answer our close frame before dropping it.
    private static let closeHandshakeGrace: Duration = .seconds(5)

    let world: World
    let configuration: SimulatorConfiguration
    let logger: Logger

    func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let (frames, outbox) = AsyncStream<GatewayFrame>.makeStream()
        let connection = await world.openConnection(outbox: outbox)
        let logger = connectionLogger(connection)
        logger.debug("Gateway connection opened")

        outbox.yield(.text(GatewayPayload.hello(heartbeatIntervalMilliseconds: configuration.heartbeatIntervalMilliseconds)))
        let heartbeats = HeartbeatMonitor()

        enum Finished { case reader, watchdog, graceExpired }
        await withTaskGroup(of: Finished.self) { group in
            group.addTask {
                await readPayloads(from: inbound, connection: connection, outbox: outbox, heartbeats: heartbeats, logger: logger)
                return .reader
            }
            group.addTask {
                await watchHeartbeats(heartbeats, outbox: outbox)
                return .watchdog
            }
            let closedByServer = await writeFrames(frames, to: outbound, logger: logger)
            if closedByServer {
                // Let the reader see the client's answering close frame, so the close handshake completes.
                group.addTask {
                    try? await Task.sleep(for: Self.closeHandshakeGrace)
                    return .graceExpired
                }
                while let finished = await group.next(), finished == .watchdog {}
            }
            group.cancelAll()
        }
        outbox.finish()
        await world.closeConnection(connection)
        logger.debug("Gateway connection closed")
    }

    private func connectionLogger(_ connection: GatewaySessions.ConnectionId) -> Logger {
        var logger = logger
        logger[metadataKey: "gateway.connection"] = "\(connection)"
        return logger
    }

    /// Drains the outbox until it finishes or a close frame is sent.
    /// - Returns: whether the server initiated the close.
    private func writeFrames(_ frames: AsyncStream<GatewayFrame>, to outbound: WebSocketOutboundWriter, logger: Logger) async -> Bool {
        do {
            for await frame in frames {
                switch frame {
                case .text(let text):
                    try await outbound.writeTextMessage(text)
                case .close(let code, let reason):
                    logger.debug("Closing gateway connection", metadata: ["code": "\(code)"])
                    try await outbound.close(.unknown(code), reason: reason)
                    return true
                }
            }
        } catch {
            logger.debug("Gateway write failed: \(error)")
        }
        return false
    }

    private func readPayloads(
        from inbound: WebSocketInboundStream,
        connection: GatewaySessions.ConnectionId,
        outbox: GatewaySessions.Outbox,
        heartbeats: HeartbeatMonitor,
        logger: Logger
    ) async {
        do {
            for try await message in inbound.messages(maxSize: Self.maxInboundMessageSize) {
                // With encoding=json every payload is a text frame.
                guard case .text(let text) = message else {
                    outbox.yield(.close(.decodeError))
                    return
                }
                if let closeCode = await handlePayload(text, connection: connection, outbox: outbox, heartbeats: heartbeats, logger: logger) {
                    outbox.yield(.close(closeCode))
                    return
                }
            }
        } catch {
            logger.debug("Gateway read failed: \(error)")
        }
        // The client went away; ending the outbox stops the writer.
        outbox.finish()
    }

    /// Handles one client payload; returns a close code when the connection must end.
    private func handlePayload(
        _ text: String,
        connection: GatewaySessions.ConnectionId,
        outbox: GatewaySessions.Outbox,
        heartbeats: HeartbeatMonitor,
        logger: Logger
    ) async -> GatewayCloseCode? {
        let data = Data(text.utf8)
        let decoder = JSONCoding.decoder()
        guard let header = try? decoder.decode(InboundHeader.self, from: data) else {
            return .decodeError
        }
        switch GatewayOpcode(rawValue: header.op) {
        case .heartbeat:
            await heartbeats.beat()
            outbox.yield(.text(GatewayPayload.heartbeatAck))
            return nil

        case .identify:
            guard let identify = try? decoder.decode(Inbound<IdentifyData>.self, from: data).d else {
                return .decodeError
            }
            guard identify.token == configuration.botToken else {
                return .authenticationFailed
            }
            let intents = identify.intents ?? 0
            if configuration.requireMessageContentIntent, intents & GatewayIntent.messageContent == 0 {
                return .disallowedIntents
            }
            var shard: Shard?
            if let pair = identify.shard {
                guard let valid = Shard(pair) else { return .invalidShard }
                shard = valid
            }
            switch await world.identify(connection: connection, shard: shard) {
            case .ready:
                logger.info("Gateway session identified", metadata: ["intents": "\(intents)", "shard": "\(identify.shard ?? [0, 1])"])
                return nil
            case .alreadyAuthenticated:
                return .alreadyAuthenticated
            }

        case .resume:
            guard let resume = try? decoder.decode(Inbound<ResumeData>.self, from: data).d else {
                return .decodeError
            }
            guard resume.token == configuration.botToken else {
                return .authenticationFailed
            }
            switch await world.resume(connection: connection, sessionId: resume.sessionId, after: resume.seq ?? 0) {
            case .resumed(let replayed):
                logger.info("Gateway session resumed", metadata: ["replayed": "\(replayed)"])
                return nil
            case .unknownSession:
                // Discord answers with a non-resumable INVALID_SESSION and lets the client re-identify.
                outbox.yield(.text(GatewayPayload.invalidSession(resumable: false)))
                return nil
            case .alreadyAuthenticated:
                return .alreadyAuthenticated
            }

        case .presenceUpdate, .voiceStateUpdate, .requestGuildMembers, .requestSoundboardSounds:
            // Accepted and ignored: the simulator has no presences, voice or member lists.
            return await world.isIdentified(connection) ? nil : .notAuthenticated

        case .dispatch, .reconnect, .invalidSession, .hello, .heartbeatAck, nil:
            // Server-to-client opcodes and unknown ones.
            return .unknownOpcode
        }
    }

    /// Closes with 4009 when the client stops heartbeating; allows two missed beats plus slack.
    private func watchHeartbeats(_ heartbeats: HeartbeatMonitor, outbox: GatewaySessions.Outbox) async {
        let timeout = Duration.milliseconds(configuration.heartbeatIntervalMilliseconds * 2) + .seconds(5)
        while !Task.isCancelled {
            let deadline = await heartbeats.lastBeat + timeout
            if ContinuousClock.now >= deadline {
                outbox.yield(.close(.sessionTimedOut))
                return
            }
            do {
                try await Task.sleep(until: deadline, clock: .continuous)
            } catch {
                return
            }
        }
    }
}

/// When the client last heartbeated; the connection's start counts as the first beat.
private actor HeartbeatMonitor {
    private(set) var lastBeat = ContinuousClock.now

    func beat() {
        lastBeat = .now
    }
}

// MARK: - Client payloads

private struct InboundHeader: Decodable {
    let op: Int
}

private struct Inbound<Payload: Decodable>: Decodable {
    let d: Payload
}

private struct IdentifyData: Decodable {
    let token: String
    let intents: Int?
    let shard: [Int]?
}

private struct ResumeData: Decodable {
    let token: String
    let sessionId: String
    let seq: Int?
}
