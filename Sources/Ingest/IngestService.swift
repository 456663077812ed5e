import Foundation
import Logging
import Shared

/// Ingest: holds the gateway connection and turns accepted Discord messages into
/// `InboundMessage` records (with their pending reply context) on the bus.
struct IngestService {
    let config: ConnectorConfig
    let logger: Logger

    func run() async throws {
        if config.dryRun {
            logger.notice("DRY_RUN=1: not connecting to the Discord gateway; Ingest idles until stopped")
            while !Task.isCancelled { try? await Task.sleep(for: .seconds(3600)) }
            return
        }
        let token = try config.requireDiscordToken()
        let keys = BusKeys(connectorAgentName: config.connectorAgentName)
        let redis = RedisClient(config: config, name: "ingest-redis")
        let rest = DiscordREST(apiBase: config.apiBase, token: token)

        guard let botUser = try await discordCall("identifying the bot user", { try await rest.currentUser() }) else { return }
        logger.info("bot user is \(botUser.username) (\(botUser.id)), token \(redacted(token))")
        let gatewayURL: String
        if let configured = config.gatewayURL {
            gatewayURL = configured
        } else {
            guard let discovered = try await discordCall("asking for the gateway URL", { try await rest.gatewayURL() }) else { return }
            gatewayURL = discovered
        }

        let store = RedisSessionStore(redis: redis, key: keys.gatewaySession, logger: logger)
        let handler = InboundEventHandler(
            botUserID: botUser.id,
            router: config.router,
            pendingTTL: config.pendingTTL,
            keys: keys,
            redis: redis,
            directory: ChannelDirectory(rest: rest, logger: logger),
            logger: logger
        )
        let gateway = GatewayClient(token: token, gatewayURL: gatewayURL, store: store, resumable: await store.load(), logger: logger) { event in
            await handler.handle(event)
        }
        try await gateway.run()
    }

    /// Retries a start-up call to Discord while it fails for transient reasons; a 401 ends the
    /// process with a message about the token. Returns nil when cancelled.
    private func discordCall<T: Sendable>(_ what: String, _ call: () async throws -> T) async throws -> T? {
        var backoff = Backoff(base: .seconds(1), cap: .seconds(30))
        while !Task.isCancelled {
            do {
                return try await call()
            } catch let failure as DiscordREST.Failure where failure.status == 401 {
                throw GatewayFatalError(description: "Discord rejected DISCORD_BOT_TOKEN (401) while \(what): check the token in the Developer Portal")
            } catch {
                let delay = backoff.next()
                logger.error("failed \(what): \(error); retrying in \(delay)")
                try? await Task.sleep(for: delay)
            }
        }
        return nil
    }
}
