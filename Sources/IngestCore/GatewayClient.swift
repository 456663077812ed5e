import Foundation
import Logging
import NIOCore
import Shared
import NIOSSL
import NIOWebSocket
import WSClient

/// Keeps the gateway session somewhere that outlives the process (Redis, in Ingest).
public protocol GatewaySessionStore: Sendable {
    func load() async -> GatewaySession.Resumable?
    func save(_ resumable: GatewaySession.Resumable?) async
}

/// Why the gateway client stopped for good.
public struct GatewayFatalError: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// The Discord gateway v10 client: connects, identifies or resumes, heartbeats, reconnects,
/// and hands the dispatches to `onDispatch`. Protocol decisions live in `GatewaySession`;
/// this type only performs them on a WebSocket.
///
/// Frames are read as they arrive into a buffer; whatever has arrived by the time the last
/// batch is done is handled as the next batch (at most `maxBatch`), so under load a handler can
/// write many events in one round trip, and when idle each event goes alone, at once. A batch's
/// sequence is committed only once the handler says its events are durable.
///
/// A dispatch that the handler would drop unread (`skipsUnread`: the bot's own echoes) is
/// skipped at the read while the handler is idle, so an echo costs no wake-up of the handling
/// task; at least one frame every `skipWindow` still goes to the handler, and its commit covers
/// the skipped ones before it (a RESUME may replay the last few, which are skipped again).
public actor GatewayClient {
    /// Handles consecutive dispatches, in order; returns how many of them (from the first) are
    /// done: fewer than given when it stopped mid-batch, and the rest is replayed by a RESUME.
    public typealias BatchDispatchHandler = @Sendable ([GatewayFrame.EventRef]) async -> Int

    /// The most frames handled as one batch.
    public static let maxBatch = 128
    /// The most frames read ahead of the handler.
    static let maxBuffered = 4_096
    /// How long frames may be skipped at the read before one goes to the handler again.
    static let skipWindow = Duration.milliseconds(250)

    /// Whether a dispatch may be dropped without handling it (see the type's documentation).
    public typealias SkipFilter = @Sendable (GatewayFrame.EventRef) -> Bool

    private var session: GatewaySession
    private let gatewayURL: String
    private let store: any GatewaySessionStore
    private let onDispatch: BatchDispatchHandler
    private let skipsUnread: SkipFilter?
    private let logger: Logger
    private var pendingOutcome: Outcome?
    private var lastSaved = ContinuousClock.now

    enum Outcome {
        case reconnect(resume: Bool, reason: String)
        case fatal(String)
    }

    /// Waits until this client may IDENTIFY: Discord allows `max_concurrency` per 5 seconds
    /// across every process of the bot.
    public typealias IdentifyGate = @Sendable () async -> Void
    private let identifyGate: IdentifyGate?
    /// Told of each frame that could not be decoded (after it was logged and skipped).
    private let onMalformedFrame: (@Sendable (String) async -> Void)?

    public init(
        token: String,
        gatewayURL: String,
        shard: (id: Int, count: Int) = (0, 1),
        store: any GatewaySessionStore,
        resumable: GatewaySession.Resumable?,
        identifyGate: IdentifyGate? = nil,
        onMalformedFrame: (@Sendable (String) async -> Void)? = nil,
        skipsUnread: SkipFilter? = nil,
        logger: Logger,
        onBatch: @escaping BatchDispatchHandler
    ) {
        self.skipsUnread = skipsUnread
        self.onMalformedFrame = onMalformedFrame
        self.session = GatewaySession(token: token, resumable: resumable, shard: shard)
        self.identifyGate = identifyGate
        self.gatewayURL = gatewayURL
        self.store = store
        self.logger = logger
        self.onDispatch = onBatch
    }

    /// Runs until cancelled, or throws when Discord refuses the connection for a reason only a
    /// configuration change can fix (bad token, disallowed intents).
    public func run() async throws(GatewayFatalError) {
        var backoff = Backoff(base: .seconds(1), cap: .seconds(60))
        while !Task.isCancelled {
            pendingOutcome = nil
            let base = session.resumable?.resumeURL ?? gatewayURL
            let url = Self.versioned(base)
            logger.info("connecting to the gateway", metadata: ["url": "\(url)", "resume": "\(session.resumable != nil)"])
            var connected = false
            do {
                var tls = TLSConfiguration.makeClientConfiguration()
                tls.shutdownTimeout = TimeAmount.milliseconds(250)
                let closeFrame = try await WebSocketClient.connect(
                    url: url,
                    configuration: .init(maxFrameSize: GatewayFrame.maxSize, closeTimeout: .seconds(2)),
                    tlsConfiguration: tls,
                    logger: logger
                ) { inbound, outbound, _ in
                    await self.serve(inbound: inbound, outbound: outbound)
                }
                connected = true
                if pendingOutcome == nil {
                    let code = closeFrame.map { Int(UInt16(webSocketErrorCode: $0.closeCode)) }
                    perform(session.onClose(code: code), outbound: nil)
                }
            } catch {
                if pendingOutcome == nil {
                    pendingOutcome = .reconnect(resume: session.resumable != nil, reason: "connection failed: \(error)")
                }
            }
            switch pendingOutcome {
            case .fatal(let message):
                logger.critical("gateway stopped: \(message)")
                throw GatewayFatalError(description: message)
            case .reconnect(let resume, let reason):
                if !resume { await store.save(nil) }
                let delay: Duration = connected ? .milliseconds(Int64.random(in: 500...1500)) : backoff.next()
                if connected { backoff.reset() }
                logger.warning("gateway reconnecting in \(delay): \(reason)", metadata: ["resume": "\(resume)"])
                try? await Task.sleep(for: delay)
            case .none:
                return
            }
        }
    }

    /// Serves one WebSocket connection until it closes or the session decides to reconnect.
    private func serve(inbound: WebSocketInboundStream, outbound: WebSocketOutboundWriter) async {
        let buffer = FrameBuffer()
        let skipsUnread = skipsUnread
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.heartbeatLoop(outbound: outbound, buffer: buffer) }
            group.addTask {
                await withTaskGroup(of: Void.self) { reading in
                    reading.addTask {
                        var handedOver = ContinuousClock.now
                        do {
                            for try await message in inbound.messages(maxSize: GatewayFrame.maxSize) {
                                guard case .text(let text) = message else {
                                    self.logger.warning("ignoring a binary gateway frame (the connector asks for JSON encoding)")
                                    continue
                                }
                                if let skipsUnread, buffer.isIdle, ContinuousClock.now - handedOver < Self.skipWindow,
                                   let frame = try? GatewayFrame.decode(text), frame.opcode == GatewayOpcode.dispatch.rawValue,
                                   let sequence = frame.sequence, skipsUnread(GatewayFrame.EventRef(frame)) {
                                    buffer.noteSkipped(sequence)
                                    continue
                                }
                                handedOver = ContinuousClock.now
                                // Read ahead at most `maxBuffered` frames: past that (a handler held up by a
                                // Redis outage), stop reading, so TCP holds Discord back as before.
                                if buffer.append(text) >= Self.maxBuffered {
                                    while buffer.count >= Self.maxBuffered, !Task.isCancelled {
                                        try? await Task.sleep(for: .milliseconds(10))
                                    }
                                }
                            }
                        } catch {
                            self.logger.warning("gateway read failed: \(error)")
                        }
                        buffer.finish()
                    }
                    // What has arrived, a batch at a time; a closed connection's last frames are
                    // still handled, in order, before this ends.
                    while let texts = await buffer.next(max: Self.maxBatch) {
                        if await self.receive(texts, outbound: outbound, buffer: buffer) { break }
                    }
                    // Stopping on our side: close, so the reading ends too (a 4000-range code
                    // keeps the session resumable; a close already sent makes this a no-op).
                    try? await outbound.close(.unknown(4000), reason: "stopping")
                    reading.cancelAll()
                }
            }
            // Whichever ends first ends the connection.
            await group.next()
            group.cancelAll()
        }
        if pendingOutcome == nil {
            // Stopping (shutdown, or the lease moved): close with a 4000-range code, which keeps
            // the session resumable for whoever connects next; Discord ends it on 1000/1001.
            try? await outbound.close(.unknown(4000), reason: "stopping")
        }
        if session.resumable != nil { await store.save(session.resumable) }
    }

    /// Handles consecutive frames: the dispatches among them go to the handler together, in
    /// order, and the other frames' actions are performed as they come (a HELLO's identify
    /// before any dispatch after it). Returns true when the connection should end.
    private func receive(_ texts: [String], outbound: WebSocketOutboundWriter, buffer: FrameBuffer) async -> Bool {
        if let skipped = buffer.takeSkipped() { session.onSkipped(sequence: skipped) }
        var events: [GatewayFrame.EventRef] = []
        for text in texts {
            let frame: GatewayFrame
            do {
                frame = try GatewayFrame.decode(text)
            } catch {
                logger.error("skipping a malformed gateway frame: \(error)", metadata: ["bytes": "\(text.utf8.count)"])
                await onMalformedFrame?(error.description)
                continue
            }
            if frame.opcode == GatewayOpcode.hello.rawValue, session.resumable == nil, let identifyGate {
                await identifyGate()
            }
            let actions = session.onFrame(frame)
            for action in actions {
                if case .dispatch(let event) = action { events.append(event) }
            }
            perform(actions.filter { if case .dispatch = $0 { false } else { true } }, outbound: outbound)
            if pendingOutcome != nil { break }
        }
        if !events.isEmpty {
            let done = await onDispatch(events)
            if done > 0 {
                let last = events[done - 1]
                session.commit(sequence: last.sequence)
                // Saved at most every 250 ms (and at READY): after a crash, RESUME replays a few
                // events more, which the seen-markers drop, for one Redis write less per event.
                if events[..<done].contains(where: { $0.name == "READY" }) || ContinuousClock.now - lastSaved > .milliseconds(250) {
                    await store.save(session.resumable)
                    lastSaved = ContinuousClock.now
                }
            }
            if done < events.count || Task.isCancelled { return true }
        }
        await flush(outbound: outbound)
        return pendingOutcome != nil
    }

    private var heartbeatInterval: Int?
    private var outgoing: [String] = []

    private func perform(_ actions: [GatewaySession.Action], outbound: WebSocketOutboundWriter?) {
        for action in actions {
            switch action {
            case .send(let text): outgoing.append(text)
            case .startHeartbeat(let interval): heartbeatInterval = interval
            case .reconnect(let resume, let reason): pendingOutcome = .reconnect(resume: resume, reason: reason)
            case .fatal(let message): pendingOutcome = .fatal(message)
            case .dispatch: break
            }
        }
    }

    private func flush(outbound: WebSocketOutboundWriter) async {
        let frames = outgoing
        outgoing.removeAll()
        for text in frames {
            do { try await outbound.write(.text(text)) } catch { logger.warning("gateway write failed: \(error)") }
        }
        if pendingOutcome != nil {
            // A 4000-range code keeps the session resumable; Discord ends it on 1000/1001.
            try? await outbound.close(.unknown(4000), reason: "reconnecting")
        }
    }

    private func heartbeatLoop(outbound: WebSocketOutboundWriter, buffer: FrameBuffer) async {
        // Wait for HELLO to learn the interval.
        while heartbeatInterval == nil {
            if Task.isCancelled { return }
            try? await Task.sleep(for: .milliseconds(20))
        }
        let interval = heartbeatInterval ?? 41_250
        heartbeatInterval = nil
        // The first beat is jittered, as Discord asks, so reconnecting clients don't beat in step.
        var delay = Duration.milliseconds(Int64(Double(interval) * Double.random(in: 0..<1)))
        while !Task.isCancelled {
            try? await Task.sleep(for: delay)
            if Task.isCancelled { return }
            if let skipped = buffer.takeSkipped() { session.onSkipped(sequence: skipped) }
            perform(session.onHeartbeatDue(), outbound: outbound)
            await flush(outbound: outbound)
            if pendingOutcome != nil { return }
            delay = .milliseconds(Int64(interval))
        }
    }

    private static func versioned(_ url: String) -> String {
        let trimmed = url.hasSuffix("/") ? String(url.dropLast()) : url
        return trimmed.contains("?") ? trimmed : trimmed + "/?v=10&encoding=json"
    }
}

/// Text frames read from the WebSocket and not yet handled: filled by the reading task, drained
/// in batches by the handling one.
final class FrameBuffer: @unchecked Sendable {
    private let lock = NSLock()
    private var frames: [String] = []
    private var finished = false
    private var waiter: CheckedContinuation<Void, Never>?
    /// The highest sequence skipped at the read since the session last took it.
    private var skipped: Int?

    /// Adds a frame; answers how many are waiting now.
    @discardableResult
    func append(_ text: String) -> Int {
        let (resumed, count): (CheckedContinuation<Void, Never>?, Int) = lock.withLock {
            frames.append(text)
            defer { waiter = nil }
            return (waiter, frames.count)
        }
        resumed?.resume()
        return count
    }

    /// Frames waiting.
    var count: Int { lock.withLock { frames.count } }

    /// Nothing waiting and the handler waiting for the next frame: every frame given so far is
    /// handled (only the reading task adds frames, so this stays true until it does).
    var isIdle: Bool { lock.withLock { frames.isEmpty && waiter != nil } }

    func noteSkipped(_ sequence: Int) {
        lock.withLock { skipped = Swift.max(skipped ?? 0, sequence) }
    }

    /// The highest sequence skipped since the last call, if any.
    func takeSkipped() -> Int? {
        lock.withLock {
            defer { skipped = nil }
            return skipped
        }
    }

    /// No more frames will come (the connection ended).
    func finish() {
        let resumed: CheckedContinuation<Void, Never>? = lock.withLock {
            finished = true
            defer { waiter = nil }
            return waiter
        }
        resumed?.resume()
    }

    /// Up to `max` frames, in order, waiting for the first; nil once finished and empty (or
    /// cancelled).
    func next(max: Int) async -> [String]? {
        while true {
            let taken: [String]? = lock.withLock {
                guard !frames.isEmpty else { return nil }
                let count = Swift.min(max, frames.count)
                defer { frames.removeFirst(count) }
                return Array(frames.prefix(count))
            }
            if let taken { return taken }
            if lock.withLock({ finished }) || Task.isCancelled { return nil }
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let ready = lock.withLock { () -> Bool in
                        if !frames.isEmpty || finished { return true }
                        waiter = continuation
                        return false
                    }
                    if ready { continuation.resume() }
                }
            } onCancel: {
                self.finish()
            }
        }
    }
}
