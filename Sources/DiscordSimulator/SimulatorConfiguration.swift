import Foundation

/// Runtime settings, read from command-line flags with environment fallbacks.
struct SimulatorConfiguration: Sendable {
    /// Messages allowed per window for one channel's message-create bucket.
    struct RateLimit: Sendable, Equatable {
        var limit: Int
        var window: TimeInterval
    }

    var port = 8787
    var botToken = "sim-token"
    var heartbeatIntervalMilliseconds = 41_250
    /// `nil` means message creates are never rate limited.
    var rateLimit: RateLimit? = RateLimit(limit: 5, window: 5)
    /// Mirrors Discord closing with 4014 when a privileged intent is requested but not enabled.
    var requireMessageContentIntent = false
    /// Requests per second the bot may make across all authenticated REST routes; `nil` = no limit.
    var globalLimit: Int?
    /// Guilds in the world: the fixed `Sim Guild` plus `guildCount - 1` extra ones.
    var guildCount = 1
    /// `shards` that `GET /gateway/bot` recommends.
    var shardCount = 1
    /// `session_start_limit.max_concurrency`, which the gateway enforces on IDENTIFY.
    var maxConcurrency = 1
    /// Bytes of files one multipart message create may carry, all files together as on Discord.
    /// Discord documents 25 MiB by default (more with boosts); 10 MiB keeps the simulator, which
    /// holds every upload in memory, small.
    var maxUploadBytes = 10 * 1024 * 1024
    /// Seconds an interaction token stays valid for its webhook (follow-ups, `@original`);
    /// Discord's is 15 minutes.
    var interactionTokenTTL: TimeInterval = 15 * 60
    /// The 32-byte Ed25519 seed that signs HTTP deliveries; `nil` makes a fresh key pair at start.
    var interactionsPrivateKey: [UInt8]?
    /// The Interactions Endpoint URL that `deliver: http` POSTs to.
    var interactionsURL: String?

    static let usage = """
        Usage: DiscordSimulator [options]
          --port N                    listen port on 127.0.0.1 (env SIM_PORT, default 8787, 0 = any free port)
          --token T                   the only accepted bot token (env SIM_BOT_TOKEN, default sim-token)
          --heartbeat-ms N            heartbeat_interval sent in HELLO (default 41250)
          --rate-limit N/S            message creates per channel per S seconds (default 5/5)
          --no-rate-limit             never rate limit message creates
          --require-message-content   close with 4014 when IDENTIFY lacks the MESSAGE_CONTENT intent
          --global-limit N            REST requests per second across all authenticated routes (default off)
          --guilds N                  guilds in the world, the fixed Sim Guild included (default 1)
          --shards N                  shards recommended by GET /gateway/bot (default 1)
          --max-concurrency N         session_start_limit.max_concurrency; faster IDENTIFYs count as
                                      identify_violations in /_sim/stats (default 1)
          --max-upload-bytes N        bytes of files per message create; more is 413, code 40005
                                      (default 10485760)
          --interaction-token-ttl S   seconds an interaction token is valid for follow-ups and
                                      @original; later is 401, code 50027 (default 900)
          --interactions-private-key H
                                      64 hex digits, the Ed25519 seed signing HTTP deliveries
                                      (default: a fresh key each start; GET /_sim/application)
          --interactions-url URL      the Interactions Endpoint URL for deliver "http" (default none)
        """

    struct ParseError: Error, CustomStringConvertible {
        let description: String
    }

    /// Thrown for `--help`, which is not a failure.
    struct HelpRequested: Error {}

    /// Flags win over environment variables, which win over defaults.
    static func parse(
        arguments: [String] = Array(CommandLine.arguments.dropFirst()),
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws -> SimulatorConfiguration {
        var configuration = SimulatorConfiguration()
        if let port = environment["SIM_PORT"] {
            configuration.port = try parsePort(port)
        }
        if let token = environment["SIM_BOT_TOKEN"], !token.isEmpty {
            configuration.botToken = token
        }

        var remaining = arguments[...]
        func value(for flag: String) throws -> String {
            guard let value = remaining.popFirst() else {
                throw ParseError(description: "\(flag) needs a value")
            }
            return value
        }
        while let argument = remaining.popFirst() {
            switch argument {
            case "--port":
                configuration.port = try parsePort(try value(for: argument))
            case "--token":
                configuration.botToken = try value(for: argument)
            case "--heartbeat-ms":
                configuration.heartbeatIntervalMilliseconds = try parsePositive(try value(for: argument), flag: argument)
            case "--rate-limit":
                configuration.rateLimit = try parseRateLimit(try value(for: argument))
            case "--no-rate-limit":
                configuration.rateLimit = nil
            case "--require-message-content":
                configuration.requireMessageContentIntent = true
            case "--global-limit":
                configuration.globalLimit = try parsePositive(try value(for: argument), flag: argument)
            case "--guilds":
                configuration.guildCount = try parsePositive(try value(for: argument), flag: argument)
            case "--shards":
                configuration.shardCount = try parsePositive(try value(for: argument), flag: argument)
            case "--max-concurrency":
                configuration.maxConcurrency = try parsePositive(try value(for: argument), flag: argument)
            case "--max-upload-bytes":
                configuration.maxUploadBytes = try parsePositive(try value(for: argument), flag: argument)
            case "--interaction-token-ttl":
                let raw = try value(for: argument)
                guard let seconds = TimeInterval(raw), seconds > 0 else {
                    throw ParseError(description: "\(argument) expects a positive number of seconds, got '\(raw)'")
                }
                configuration.interactionTokenTTL = seconds
            case "--interactions-private-key":
                let raw = try value(for: argument)
                guard let seed = parseHex(raw), seed.count == 32 else {
                    throw ParseError(description: "\(argument) expects 64 hex digits (a 32-byte Ed25519 seed)")
                }
                configuration.interactionsPrivateKey = seed
            case "--interactions-url":
                let raw = try value(for: argument)
                guard let url = URL(string: raw), ["http", "https"].contains(url.scheme?.lowercased() ?? ""), url.host != nil else {
                    throw ParseError(description: "\(argument) expects an absolute http(s) URL, got '\(raw)'")
                }
                configuration.interactionsURL = raw
            case "-h", "--help":
                throw HelpRequested()
            default:
                throw ParseError(description: "unknown argument '\(argument)'\n\(usage)")
            }
        }
        return configuration
    }

    private static func parseHex(_ raw: String) -> [UInt8]? {
        let digits = Array(raw.utf8)
        guard digits.count % 2 == 0, raw.allSatisfy(\.isHexDigit) else { return nil }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            bytes.append(byte)
        }
        return bytes
    }

    private static func parsePort(_ raw: String) throws -> Int {
        guard let port = Int(raw), (0...65_535).contains(port) else {
            throw ParseError(description: "invalid port '\(raw)'")
        }
        return port
    }

    private static func parsePositive(_ raw: String, flag: String) throws -> Int {
        guard let number = Int(raw), number > 0 else {
            throw ParseError(description: "\(flag) expects a positive integer, got '\(raw)'")
        }
        return number
    }

    /// Parses `N/S`, e.g. `5/5` for five creates per five seconds.
    private static func parseRateLimit(_ raw: String) throws -> RateLimit {
        let parts = raw.split(separator: "/")
        guard parts.count == 2,
            let limit = Int(parts[0]), limit > 0,
            let window = TimeInterval(parts[1]), window > 0
        else {
            throw ParseError(description: "--rate-limit expects N/S with positive numbers, got '\(raw)'")
        }
        return RateLimit(limit: limit, window: window)
    }
}
