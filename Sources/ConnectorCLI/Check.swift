import ArgumentParser
import Foundation
import Shared

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Validate the whole configuration; then reach Redis (PING) and Discord (GET /users/@me).",
        discussion: """
        Prints the configuration with secrets redacted. Exit 0 when everything holds, 2 when a \
        variable is missing or malformed or a check fails; each message names the variable to fix. \
        --offline touches no network. Discord is not contacted under DRY_RUN=1.
        """
    )

    @OptionGroup var options: ConfigOptions
    @Flag(help: "Only validate the configuration; connect to nothing.") var offline = false
    @Flag(help: "Print a JSON object.") var json = false

    struct Probe: Encodable {
        var name: String
        var ok: Bool
        var detail: String
    }

    struct Report: Encodable {
        var ok: Bool
        var configuration: [String: String]
        var checks: [Probe]
        var error: String?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(ok, forKey: .ok)
            try container.encode(configuration, forKey: .configuration)
            try container.encode(checks, forKey: .checks)
            try container.encode(error, forKey: .error)
        }

        enum CodingKeys: String, CodingKey { case ok, configuration, checks, error }
    }

    func run() async throws {
        let config: ConnectorConfig
        do {
            config = try options.load()
            _ = try config.requireDiscordToken()
        } catch {
            if json {
                try printJSON(Report(ok: false, configuration: [:], checks: [], error: error.description))
            }
            printError("connector check: \(error)")
            throw ExitCode(2)
        }

        var probes: [Probe] = []
        if !offline {
            probes.append(await Self.probeRedis(config))
            if !config.dryRun, let token = config.discordToken {
                probes.append(await Self.probeDiscord(config, token: token))
            }
        }
        let ok = probes.allSatisfy(\.ok)
        if json {
            var lines: [String: String] = [:]
            for line in config.redactedDescription.split(separator: "\n") {
                let parts = line.split(separator: "=", maxSplits: 1)
                lines[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
            try printJSON(Report(ok: ok, configuration: lines, checks: probes, error: nil))
        } else {
            print("configuration OK")
            print(config.redactedDescription)
            if offline { print("(--offline: Redis and Discord not contacted)") }
            for probe in probes {
                print("\(probe.name): \(probe.ok ? "OK" : "FAILED"): \(probe.detail)")
            }
        }
        if !ok {
            for probe in probes where !probe.ok { printError("connector check: \(probe.name): \(probe.detail)") }
            throw ExitCode(2)
        }
    }

    static func probeRedis(_ config: ConnectorConfig) async -> Probe {
        let redis = RedisClient(url: config.busURL, user: config.connectorAgentName, password: config.busToken, timeout: .seconds(3), name: "connector-check")
        let who = config.busURL.username ?? (config.busURL.password == nil && config.busToken != nil ? config.connectorAgentName : "default")
        do {
            let reply = try await redis.send("PING").string ?? ""
            return Probe(name: "redis", ok: reply == "PONG", detail: "\(config.busURL.redactedDescription) answered \(reply) (user \(who))")
        } catch {
            // A connection error already names the address.
            var detail = error.message.contains(config.busURL.description) ? error.message : "\(config.busURL.redactedDescription): \(error.message)"
            if error.message.contains("authentication failed") || error.message.contains("WRONGPASS") || error.message.contains("NOAUTH") {
                detail += " (check MUMEGA_BUS_TOKEN and CONNECTOR_AGENT_NAME, or the credentials in MUMEGA_BUS_URL)"
            } else if error.kind == .connection {
                detail += " (check MUMEGA_BUS_URL; is redis-server running?)"
            } else if error.message.hasPrefix("NOPERM") {
                detail += " (the ACL user \(who) may not run PING; see `connector acl print`)"
            }
            return Probe(name: "redis", ok: false, detail: detail)
        }
    }

    static func probeDiscord(_ config: ConnectorConfig, token: String) async -> Probe {
        // No shared limiter: the check must work while Redis is down, and it sends one request.
        let discord = DiscordClient(apiBase: config.apiBase, token: token, http: HTTPClient(timeout: .seconds(10), name: "connector-check"), limiter: nil, logger: quietLogger)
        do {
            let user = try await discord.perform(.currentUser, retries: .attempts(1), as: DiscordUser.self)
            return Probe(name: "discord", ok: true, detail: "DISCORD_BOT_TOKEN \(redacted(token)) is valid: bot \(user.username) (\(user.id)) at \(config.apiBase)")
        } catch {
            switch error.status {
            case 401?:
                return Probe(name: "discord", ok: false, detail: "DISCORD_BOT_TOKEN \(redacted(token)) was rejected (401 Unauthorized); copy the token again from the Developer Portal's Bot page")
            case let status?:
                return Probe(name: "discord", ok: false, detail: "GET /users/@me answered \(status) (check DISCORD_API_BASE and DISCORD_BOT_TOKEN)")
            case nil:
                return Probe(name: "discord", ok: false, detail: "cannot reach DISCORD_API_BASE \(config.apiBase): \(error)")
            }
        }
    }
}
