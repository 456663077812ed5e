import Foundation
import Hummingbird
import HummingbirdWebSocket
import Logging
import NIOCore

// A local stand-in for Discord (REST v10 + Gateway v10, JSON encoding) plus a `/_sim`
// control API, for the connector's development mode and integration tests.

let configuration: SimulatorConfiguration
do {
    configuration = try SimulatorConfiguration.parse()
} catch is SimulatorConfiguration.HelpRequested {
    print(SimulatorConfiguration.usage)
    exit(0)
} catch {
    FileHandle.standardError.write(Data("DiscordSimulator: \(error)\n".utf8))
    exit(2)
}

// stdout is reserved for the single "listening" line tests parse; logs go to stderr.
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
    return handler
}
let logger = Logger(label: "DiscordSimulator")

// Test harnesses stop the simulator with SIGTERM and expect it gone at once; a graceful
// shutdown would wait for open WebSocket close handshakes.
let signalSources = [SIGTERM, SIGINT].map { signalNumber in
    signal(signalNumber, SIG_IGN)
    let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
    source.setEventHandler { exit(0) }
    source.resume()
    return source
}

let signer: InteractionSigner
do {
    signer = try InteractionSigner(seed: configuration.interactionsPrivateKey)
} catch {
    FileHandle.standardError.write(Data("DiscordSimulator: --interactions-private-key: \(error)\n".utf8))
    exit(2)
}
let world = World(configuration: configuration, signer: signer, logger: logger)

let router = Router()
// Added first so that it wraps every route, including the not-found fallback.
router.add(middleware: DiscordErrorMiddleware())
RESTRoutes(world: world, configuration: configuration).register(on: router)
ControlRoutes(world: world).register(on: router)

// Clients connect to the bare URL from /gateway/bot (plus `?v=10&encoding=json`); some append /gateway.
let gateway = GatewayServer(world: world, configuration: configuration, logger: logger)
let webSocketRouter = Router(context: BasicWebSocketRequestContext.self)
for path in ["/", "/gateway"] {
    webSocketRouter.ws(RouterPath(path)) { inbound, outbound, _ in
        await gateway.serve(inbound: inbound, outbound: outbound)
    }
}

let app = Application(
    router: router,
    server: .http1WebSocketUpgrade(
        webSocketRouter: webSocketRouter,
        configuration: .init(ws: .init(
            maxFrameSize: GatewayServer.maxInboundMessageSize,
            // Discord relies on its own op 1/op 11 heartbeats, not WebSocket pings.
            autoPing: .disabled
        ))
    ),
    configuration: .init(address: .hostname("127.0.0.1", port: configuration.port)),
    onServerRunning: { channel in
        let port = channel.localAddress?.port ?? configuration.port
        await world.setPort(port)
        // Unbuffered write: the parent process reads this line to learn the port.
        FileHandle.standardOutput.write(Data("DiscordSimulator listening on http://127.0.0.1:\(port)\n".utf8))
    },
    logger: logger
)

do {
    try await app.run()
} catch {
    logger.critical("Simulator stopped: \(error)")
    exit(1)
}
