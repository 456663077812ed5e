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
        let directory = ChannelDirectory(rest: rest, logger: logger)
        let catchUp = CatchUp(
            rest: rest, redis: redis, keys: keys, router: config.router, directory: directory,
            maxAge: TimeInterval(config.catchUpMaxAge), maxMessages: config.catchUpMaxMessages, logger: logger
        )
        let handler = InboundEventHandler(
            botUserID: botUser.id, config: config, keys: keys, redis: redis, directory: directory,
            catchUp: catchUp, lastAlive: await store.lastAlive(), logger: logger
        )
        // The lease has a connection of its own with a short timeout, so a Redis outage is noticed
        // (and the gateway fenced off) in time, not behind other commands.
        let leaseRedis = RedisClient(url: config.busURL, user: config.connectorAgentName, password: config.busToken, timeout: .milliseconds(500), name: "ingest-lease")
        let lease = GatewayLease(redis: leaseRedis, key: keys.gatewayLease, ttl: .milliseconds(config.gatewayLeaseMilliseconds), logger: logger)

        // Hold the gateway while we hold the lease; stand by while another Ingest does.
        while !Task.isCancelled {
            guard await lease.acquire() else { return }
            logger.info("holding the gateway lease", metadata: ["owner": "\(lease.owner)"])
            let gateway = GatewayClient(token: token, gatewayURL: gatewayURL, store: store, resumable: await store.load(), logger: logger) { event in
                await handler.handle(event)
            }
            let fatal = await withTaskGroup(of: GatewayFatalError?.self) { group in
                group.addTask {
                    do throws(GatewayFatalError) { try await gateway.run() } catch { return error }
                    return nil
                }
                group.addTask {
                    await lease.keep()
                    return nil
                }
                // Whichever ends first (the gateway on a fatal close, the keeper on a lost lease,
                // either on shutdown) ends both; the gateway closes resumably before we go on.
                var fatal = await group.next() ?? nil
                group.cancelAll()
                while let next = await group.next() { fatal = fatal ?? next }
                return fatal
            }
            await lease.release()
            if let fatal { throw fatal }
        }
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
