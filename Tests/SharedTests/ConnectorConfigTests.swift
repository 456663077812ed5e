import Foundation
import Testing
@testable import Shared

@Suite("ConnectorConfig")
struct ConnectorConfigTests {
    // Shaped like no real token on purpose (a real-looking one would trip secret scanners).
    static let token = "fake-bot-token-for-config-tests-only-MnOp"
    static let busPassword = "Zq7Rk2Lm9Xw4Tp8N"
    static let busToken = "Hy6Jd3Fs1Vb5Nc0Q"

    @Test("with an empty environment every default matches CONTRACT section 1")
    func defaults() throws {
        let config = try ConnectorConfig(environment: [:])
        #expect(config.discordToken == nil)
        #expect(config.busURL == RedisURL(endpoint: .tcp(host: "127.0.0.1", port: 6379)))
        #expect(config.busURL.description == "redis://127.0.0.1:6379")
        #expect(config.busToken == nil)
        #expect(config.router.channelAgents == [:])
        #expect(config.router.defaultAgent == "kasra")
        #expect(config.connectorAgentName == "discord-connector")
        #expect(config.pollInterval == 15)
        #expect(config.enableReplyLoop == true)
        #expect(config.dryRun == false)
        #expect(config.pendingTTL == 86_400)
        #expect(config.apiBase == "https://discord.com/api/v10")
        #expect(config.gatewayURL == nil)
    }

    @Test("blank values count as unset")
    func blankIsUnset() throws {
        let config = try ConnectorConfig(environment: [
            "MUMEGA_DEFAULT_AGENT": "  ", "POLL_INTERVAL": "", "DRY_RUN": " ", "DISCORD_BOT_TOKEN": "",
        ])
        #expect(config.router.defaultAgent == "kasra")
        #expect(config.pollInterval == 15)
        #expect(config.dryRun == false)
        #expect(config.discordToken == nil)
    }

    @Test("every variable is read")
    func readsEverything() throws {
        let config = try ConnectorConfig(environment: [
            "DISCORD_BOT_TOKEN": Self.token,
            "MUMEGA_BUS_URL": "redis://connector:\(Self.busPassword)@bus.internal:6380/3",
            "MUMEGA_BUS_TOKEN": Self.busToken,
            "MUMEGA_AGENT_MAP": #"{"123": "river"}"#,
            "MUMEGA_DEFAULT_AGENT": "athena",
            "CONNECTOR_AGENT_NAME": "discord-2",
            "POLL_INTERVAL": "30",
            "ENABLE_REPLY_LOOP": "0",
            "DRY_RUN": "1",
            "PENDING_TTL": "600",
            "DISCORD_API_BASE": "http://127.0.0.1:8080/api/v10/",
            "DISCORD_GATEWAY_URL": "ws://127.0.0.1:8080/gateway",
        ])
        #expect(config.discordToken == Self.token)
        #expect(config.busURL == RedisURL(endpoint: .tcp(host: "bus.internal", port: 6380), username: "connector", password: Self.busPassword, database: 3))
        #expect(config.busToken == Self.busToken)
        #expect(config.router == AgentRouter(channelAgents: ["123": "river"], defaultAgent: "athena"))
        #expect(config.connectorAgentName == "discord-2")
        #expect(config.pollInterval == 30)
        #expect(config.enableReplyLoop == false)
        #expect(config.dryRun == true)
        #expect(config.pendingTTL == 600)
        #expect(config.apiBase == "http://127.0.0.1:8080/api/v10")
        #expect(config.gatewayURL == "ws://127.0.0.1:8080/gateway")
    }

    @Test("flags accept 1/0 and true/false", arguments: [
        ("1", true), ("0", false), ("true", true), ("false", false), ("TRUE", true), ("yes", true), ("no", false),
    ])
    func flags(raw: String, value: Bool) throws {
        #expect(try ConnectorConfig(environment: ["DRY_RUN": raw]).dryRun == value)
        #expect(try ConnectorConfig(environment: ["ENABLE_REPLY_LOOP": raw]).enableReplyLoop == value)
    }

    @Test("a bad value is an error naming its variable", arguments: [
        ("MUMEGA_AGENT_MAP", "{not json"),
        ("MUMEGA_AGENT_MAP", "[]"),
        ("MUMEGA_AGENT_MAP", #"{"general": "river"}"#),
        ("DRY_RUN", "maybe"),
        ("DRY_RUN", "2"),
        ("ENABLE_REPLY_LOOP", "enabled"),
        ("PENDING_TTL", "1d"),
        ("PENDING_TTL", "0"),
        ("PENDING_TTL", "-5"),
        ("POLL_INTERVAL", "fast"),
        ("POLL_INTERVAL", "1.5"),
        ("MUMEGA_BUS_URL", "http://127.0.0.1:6379"),
        ("MUMEGA_BUS_URL", "redis://127.0.0.1:notaport"),
        ("MUMEGA_BUS_URL", "127.0.0.1:6379"),
        ("MUMEGA_DEFAULT_AGENT", "two words"),
        ("CONNECTOR_AGENT_NAME", "a/b"),
        ("DISCORD_API_BASE", "discord.com/api"),
        ("DISCORD_GATEWAY_URL", "https://gateway.discord.gg"),
        ("DISCORD_BOT_TOKEN", "Bot abc.def"),
        ("AGENT_IDENTITY", "puppet"),
        ("AGENT_AVATARS", "kasra.png"),
        ("AGENT_AVATARS", #"{"kasra": "ftp://x/kasra.png"}"#),
        ("COMPONENT_TTL", "0"),
        ("MAX_UPLOAD_BYTES", "ten"),
        ("INBOUND_PARTITIONS", "0"),
        ("INBOUND_PARTITIONS", "1000"),
        ("INBOUND_PARTITIONS", "four"),
    ])
    func badValue(variable: String, raw: String) {
        let error = #expect(throws: ConfigError.self) { try ConnectorConfig(environment: [variable: raw]) }
        #expect(error?.variable == variable)
        #expect(error?.description.contains(variable) == true)
    }

    @Test("a malformed bus URL does not leak its password into the error")
    func busURLErrorHidesPassword() {
        let error = #expect(throws: ConfigError.self) {
            try ConnectorConfig(environment: ["MUMEGA_BUS_URL": "redis://u:\(Self.busPassword)@host:99999"])
        }
        #expect(error?.description.contains(Self.busPassword) == false)
    }

    @Test("requireDiscordToken fails naming DISCORD_BOT_TOKEN unless DRY_RUN=1")
    func requireToken() throws {
        let live = try ConnectorConfig(environment: [:])
        let error = #expect(throws: ConfigError.self) { try live.requireDiscordToken() }
        #expect(error?.variable == "DISCORD_BOT_TOKEN")
        #expect(error?.description.contains("DISCORD_BOT_TOKEN") == true)

        let dry = try ConnectorConfig(environment: ["DRY_RUN": "1"])
        #expect(throws: Never.self) { try dry.requireDiscordToken() }

        let withToken = try ConnectorConfig(environment: ["DISCORD_BOT_TOKEN": Self.token])
        #expect(try withToken.requireDiscordToken() == Self.token)
    }

    @Test("redactedDescription shows at most the last 4 characters of any secret")
    func redaction() throws {
        let config = try ConnectorConfig(environment: [
            "DISCORD_BOT_TOKEN": Self.token,
            "MUMEGA_BUS_URL": "redis://connector:\(Self.busPassword)@bus.internal:6380",
            "MUMEGA_BUS_TOKEN": Self.busToken,
            "CTX_SIGNING_KEY": "Sg4Kx8Pq2Wn6Yt0R",
        ])
        let text = config.redactedDescription
        for secret in [Self.token, Self.busPassword, Self.busToken, "Sg4Kx8Pq2Wn6Yt0R"] {
            // No run of 5 consecutive characters of a secret may appear.
            let characters = Array(secret)
            for start in 0...(characters.count - 5) {
                let window = String(characters[start..<start + 5])
                #expect(!text.contains(window), "leaks '\(window)' of a secret")
            }
        }
        #expect(text.contains("DISCORD_BOT_TOKEN=****" + Self.token.suffix(4)))
        #expect(text.contains("bus.internal:6380"))
        #expect(text.contains("DRY_RUN=0"))
        #expect(text.contains("MUMEGA_DEFAULT_AGENT=kasra"))
    }

    @Test("redactedDescription says when a secret is not set")
    func redactionUnset() throws {
        let text = try ConnectorConfig(environment: [:]).redactedDescription
        #expect(text.contains("DISCORD_BOT_TOKEN=(not set)"))
        #expect(text.contains("MUMEGA_BUS_URL=redis://127.0.0.1:6379"))
    }

    @Test("load: the process environment wins over .env, .env wins over defaults")
    func loadPrecedence() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shared-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent(".env").path
        try """
        # connector settings
        export DISCORD_BOT_TOKEN=from-dotenv-token-0000
        MUMEGA_DEFAULT_AGENT=river
        POLL_INTERVAL=20
        """.write(toFile: path, atomically: true, encoding: .utf8)

        let config = try ConnectorConfig.load(
            processEnvironment: ["DISCORD_BOT_TOKEN": "from-process-token-1111", "PENDING_TTL": "60"],
            dotEnvPath: path
        )
        #expect(config.discordToken == "from-process-token-1111")
        #expect(config.router.defaultAgent == "river")
        #expect(config.pollInterval == 20)
        #expect(config.pendingTTL == 60)
        #expect(config.connectorAgentName == "discord-connector")
    }

    @Test("load: a missing .env file is not an error; a malformed one is")
    func loadMissingOrMalformed() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("shared-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let missing = directory.appendingPathComponent("absent.env").path
        #expect(try ConnectorConfig.load(processEnvironment: [:], dotEnvPath: missing).router.defaultAgent == "kasra")

        let bad = directory.appendingPathComponent(".env").path
        try "GOOD=1\nthis line is wrong\n".write(toFile: bad, atomically: true, encoding: .utf8)
        let error = #expect(throws: ConfigError.self) { try ConnectorConfig.load(processEnvironment: [:], dotEnvPath: bad) }
        #expect(error?.description.contains("line 2") == true)
    }
}
