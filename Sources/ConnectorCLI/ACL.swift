import ArgumentParser
import Foundation
import Shared

struct ACL: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "acl",
        abstract: "Redis 7 ACL users: the connector touches only its own keys, each agent only its inbox.",
        discussion: """
        The connector's user (CONNECTOR_AGENT_NAME, password MUMEGA_BUS_TOKEN) may use the keys \
        discord:*, sos:inbox:* and sos:outbox:* with the stream, hash, set, string, sorted-set, \
        scripting, transaction and connection commands the services use, and no dangerous command \
        (FLUSHALL, KEYS, CONFIG, ...). Each agent's user may use its own inbox sos:inbox:<agent> \
        with the stream commands, and may only XADD to its own outbox sos:outbox:<agent> (a \
        write-only selector), whose records the connector posts under that agent's name and no \
        other: it cannot write to the connector's shared inbox, nor read or write another agent's \
        streams. It may also read the channel names (HGETALL discord:channels), ask whether a \
        request is open (EXISTS discord:pending:*) and take part in the shared Discord rate \
        limits (discord:ratelimit:*), which the MCP server needs. The agents are registered in \
        discord:outboxes, so the Replier reads their outboxes. Passwords are given to Redis as \
        SHA-256 hashes (#<hex>), so the commands never carry a secret.
        """,
        subcommands: [Print.self, Apply.self]
    )

    struct UserOptions: ParsableArguments {
        @Option(help: ArgumentHelp("Comma-separated agent names (default: MUMEGA_DEFAULT_AGENT, the agents in MUMEGA_AGENT_MAP and those in --agent-passwords-file).", valueName: "a,b,c"))
        var agents: String?

        @Option(name: .customLong("agent-passwords-file"), help: ArgumentHelp("A JSON file {\"agent\": \"password\"}; agents missing from it get a generated password, printed once.", valueName: "path"))
        var agentPasswordsFile: String?

        @Option(name: .customLong("agent-password-prefix"), help: ArgumentHelp("Print generated passwords as <prefix><AGENT>=<password> lines (for an env file) instead of `agent: password`.", valueName: "prefix"))
        var agentPasswordPrefix: String?
    }

    struct User: Encodable {
        var user: String
        var role: String
        var keys: [String]
        var command: [String]
        /// Only for generated passwords, which must be shown once.
        var passwordForVerification: String

        enum CodingKeys: String, CodingKey { case user, role, keys, command }
    }

    /// What `print` shows and `apply` runs.
    struct Plan: Encodable {
        var users: [User]
        var generatedPasswords: [String: String]
        var warnings: [String]

        var commandLines: [String] { users.map { ACL.commandLine($0.command) } }

        enum CodingKeys: String, CodingKey {
            case users, warnings
            case commandLines = "command_lines"
            case generatedPasswords = "generated_passwords"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(users, forKey: .users)
            try container.encode(commandLines, forKey: .commandLines)
            try container.encode(generatedPasswords, forKey: .generatedPasswords)
            try container.encode(warnings, forKey: .warnings)
        }
    }

    static let defaultUserWarning = "the 'default' user is left as it is; unless redis.conf turns it off it needs no password and may do anything. Once an admin user exists, disable it: ACL SETUSER default off"

    /// The connector's rules: its keys, the command categories its services use, nothing dangerous.
    static func connectorRules(name: String, passwordHash: String) -> [String] {
        ["ACL", "SETUSER", name, "reset", "on", "#" + passwordHash, "resetchannels", "~discord:*", "~sos:inbox:*", "~" + BusKeys.outboxPrefix + "*",
         // On a Redis Cluster, the marks of entries moved to agents' inboxes (`BusMove`).
         "~{sos:inbox:*",
         "+@read", "+@write", "+@stream", "+@hash", "+@set", "+@string", "+@sortedset", "+@scripting", "+@transaction", "+@connection", "-@dangerous"]
    }

    /// An agent's rules: everything stream-wise on its inbox (XREADGROUP writes the group's PEL);
    /// selectors for XADD only, write-only, on its outbox; reading channel names; EXISTS on
    /// pending contexts (whose fields stay unreadable: they hold interaction tokens); and the
    /// rate limiter's keys, which hold no messages.
    static func agentRules(name: String, passwordHash: String, keys: BusKeys = BusKeys(connectorAgentName: "")) -> [String] {
        let limiter = keys.rateLimit.prefix + "*"
        return ["ACL", "SETUSER", name, "reset", "on", "#" + passwordHash, "resetchannels", "~" + BusKeys.inbox(name),
                "+@stream", "+@connection", "-@dangerous",
                "(%W~\(BusKeys.outbox(name)) +xadd)",
                "(%R~\(keys.channels) +hgetall)",
                "(%R~\(keys.pending("*")) +exists)",
                "(~\(limiter) +evalsha +eval +@sortedset +@hash +@string -@dangerous)"]
    }

    static func plan(config: ConnectorConfig, options: UserOptions) throws -> Plan {
        guard let busToken = config.busToken else {
            throw ConfigError(variable: "MUMEGA_BUS_TOKEN", problem: "required: it becomes the password of the connector's ACL user '\(config.connectorAgentName)'")
        }
        var filePasswords: [String: String] = [:]
        if let path = options.agentPasswordsFile {
            guard let data = FileManager.default.contents(atPath: path),
                  let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw CLIError("--agent-passwords-file: cannot read '\(path)' as a JSON object {\"agent\": \"password\"}", code: 2)
            }
            for (agent, value) in object {
                guard let password = value as? String, !password.isEmpty else {
                    throw CLIError("--agent-passwords-file: the password of '\(agent)' is not a non-empty string", code: 2)
                }
                filePasswords[agent] = password
            }
        }
        var agents: [String]
        if let list = options.agents {
            agents = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        } else {
            agents = [config.router.defaultAgent] + config.router.channelAgents.values + filePasswords.keys
        }
        agents = Array(Set(agents)).sorted()
        for agent in agents {
            guard AgentRouter.isValidAgentName(agent) else {
                throw CLIError("'\(agent)' is not a valid agent name (letters, digits, '-', '_', '.')", code: 2)
            }
            guard agent != config.connectorAgentName else {
                throw CLIError("'\(agent)' is the connector's own name (CONNECTOR_AGENT_NAME); list only agents", code: 2)
            }
        }

        var users = [User(
            user: config.connectorAgentName,
            role: "connector",
            keys: ["~discord:*", "~sos:inbox:*", "~" + BusKeys.outboxPrefix + "*"],
            command: connectorRules(name: config.connectorAgentName, passwordHash: sha256Hex(busToken)),
            passwordForVerification: busToken
        )]
        var generated: [String: String] = [:]
        for agent in agents {
            let password: String
            if let given = filePasswords[agent] {
                password = given
            } else {
                password = generatePassword()
                generated[agent] = password
            }
            users.append(User(
                user: agent,
                role: "agent",
                keys: ["~" + BusKeys.inbox(agent), "%W~" + BusKeys.outbox(agent) + " (XADD only)"],
                command: agentRules(name: agent, passwordHash: sha256Hex(password), keys: BusKeys(config: config)),
                passwordForVerification: password
            ))
        }
        var warnings = [defaultUserWarning]
        if agents.isEmpty { warnings.append("no agents: pass --agents a,b,c to create agent users") }
        return Plan(users: users, generatedPasswords: generated, warnings: warnings)
    }

    /// 32 random bytes as hex.
    static func generatePassword() -> String {
        var generator = SystemRandomNumberGenerator()
        return hexString((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    /// One command as a line `redis-cli` reads from standard input (double quotes where needed).
    static func commandLine(_ arguments: [String]) -> String {
        arguments.map { argument in
            let plain = !argument.isEmpty && argument.allSatisfy { !$0.isWhitespace && $0 != "\"" && $0 != "'" && $0 != "\\" }
            if plain { return argument }
            return "\"" + argument.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        .joined(separator: " ")
    }

    static func passwordLines(_ generated: [String: String], prefix: String?) -> [String] {
        generated.sorted { $0.key < $1.key }.map { agent, password in
            if let prefix {
                let variable = prefix + agent.uppercased().map { $0.isLetter || $0.isNumber ? String($0) : "_" }.joined()
                return "\(variable)=\(password)"
            }
            return "\(agent): \(password)"
        }
    }

    static let passwordsHeader = "Generated agent passwords (shown only now; give each agent its own, e.g. in its bus URL redis://<agent>:<password>@host:port):"

    struct Print: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the ACL SETUSER commands, one per line, for `redis-cli` on standard input.",
            discussion: "Generated agent passwords and warnings go to standard error, so standard output can be piped to redis-cli."
        )

        @OptionGroup var options: ConfigOptions
        @OptionGroup var users: UserOptions
        @Flag(help: "Print a JSON object (commands, generated passwords, warnings).") var json = false

        func run() async throws {
            try await reportingErrors("acl print") {
                let config = try options.load()
                let plan = try ACL.plan(config: config, options: users)
                if json {
                    try printJSON(plan)
                    return
                }
                for line in plan.commandLines { print(line) }
                flushStandardOutput()
                for warning in plan.warnings { printError("warning: \(warning)") }
                if !plan.generatedPasswords.isEmpty {
                    printError(ACL.passwordsHeader)
                    for line in ACL.passwordLines(plan.generatedPasswords, prefix: users.agentPasswordPrefix) { printError("  " + line) }
                }
            }
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the ACL SETUSER commands against Redis as an admin, then check each user can log in.",
            discussion: """
            The admin connection is --admin-url, else MUMEGA_BUS_URL as it is (its credentials, or \
            none: the default user). --save persists the users with ACL SAVE, which needs a server \
            started with an aclfile; without it the users last until Redis restarts (or persist \
            them with CONFIG REWRITE into redis.conf).
            """
        )

        @OptionGroup var options: ConfigOptions
        @OptionGroup var users: UserOptions
        @Option(name: .customLong("admin-url"), help: ArgumentHelp("redis://admin:password@host:port of a user allowed to run ACL.", valueName: "url"))
        var adminURL: String?
        @Flag(help: "ACL SAVE afterwards (the server must have an aclfile).") var save = false
        @Flag(help: "Print a JSON object.") var json = false

        struct Result: Encodable {
            var applied: [String]
            var verified: [String]
            var saved: Bool
            var generatedPasswords: [String: String]
            var warnings: [String]

            enum CodingKeys: String, CodingKey {
                case applied, verified, saved, warnings
                case generatedPasswords = "generated_passwords"
            }
        }

        func run() async throws {
            try await reportingErrors("acl apply") {
                let config = try options.load()
                var plan = try ACL.plan(config: config, options: users)
                let url: RedisURL
                if let adminURL {
                    do { url = try RedisURL(parsing: adminURL) } catch { throw CLIError("--admin-url: \(error)", code: 2) }
                } else {
                    url = config.busURL
                }
                let admin = RedisClient(url: url, timeout: .seconds(5), name: "connector-acl-admin")
                let target = url.redactedDescription

                if save {
                    // Refuse before changing anything when the server clearly has no aclfile.
                    if let reply = try? await admin.send("CONFIG", "GET", "aclfile").array, reply.count == 2, reply[1].string?.isEmpty == true {
                        throw CLIError("--save: \(target) has no aclfile (start redis-server with --aclfile <path>, or drop --save and persist with CONFIG REWRITE)")
                    }
                }

                var applied: [String] = []
                for user in plan.users {
                    do {
                        try await admin.send(user.command)
                    } catch let error as RedisError {
                        let needsAdmin = error.message.hasPrefix("NOPERM") || error.message.hasPrefix("NOAUTH") || error.message.contains("unknown command")
                        throw CLIError("ACL SETUSER \(user.user) failed at \(target): \(explain(error))" + (needsAdmin ? " (apply needs an admin: --admin-url redis://admin:password@host:port)" : ""))
                    }
                    applied.append(user.user)
                }

                // The Replier reads the outboxes of the agents registered here.
                let agentNames = plan.users.filter { $0.role == "agent" }.map(\.user)
                if !agentNames.isEmpty {
                    do {
                        try await admin.run(SADD(BusKeys(config: config).outboxAgents, members: agentNames))
                    } catch {
                        throw CLIError("the users are applied, but registering their outboxes in discord:outboxes failed at \(target): \(explain(error))")
                    }
                }

                var saved = false
                if save {
                    do {
                        try await admin.send("ACL", "SAVE")
                        saved = true
                    } catch {
                        throw CLIError("the users are applied, but ACL SAVE failed: \(error)")
                    }
                } else {
                    plan.warnings.append("not saved: the users last until Redis restarts unless you ACL SAVE (with an aclfile, --save) or CONFIG REWRITE")
                }

                // Each user logs in with its password, the way the connector and the agents will.
                var verified: [String] = []
                for user in plan.users {
                    let client = RedisClient(url: RedisURL(endpoint: url.endpoint, database: url.database), user: user.user, password: user.passwordForVerification, timeout: .seconds(5), name: "connector-acl-verify")
                    do {
                        _ = try await client.send("PING")
                        verified.append(user.user)
                    } catch {
                        throw CLIError("applied, but \(user.user) cannot log in: \(error)")
                    }
                }

                let defaultUser = ((try? await admin.send("ACL", "GETUSER", "default")) ?? .null).replyMap
                let flags = (defaultUser["flags"]?.array ?? []).compactMap(\.string)
                if flags.contains("on") {
                    plan.warnings[0] = "the 'default' user is on" + (flags.contains("nopass") ? " and needs no password: anyone who reaches \(target) may do anything." : ".")
                        + " Once an admin user exists, disable it: ACL SETUSER default off"
                } else if !flags.isEmpty {
                    plan.warnings.removeFirst()
                }

                if json {
                    try printJSON(Result(applied: applied, verified: verified, saved: saved, generatedPasswords: plan.generatedPasswords, warnings: plan.warnings))
                    return
                }
                for user in plan.users {
                    print("applied \(user.role) user \(user.user): \(user.keys.joined(separator: " "))")
                }
                print("verified: \(verified.joined(separator: ", ")) can log in")
                if saved { print("saved with ACL SAVE") }
                if !plan.generatedPasswords.isEmpty {
                    print(ACL.passwordsHeader)
                    for line in ACL.passwordLines(plan.generatedPasswords, prefix: users.agentPasswordPrefix) { print("  " + line) }
                }
                flushStandardOutput()
                for warning in plan.warnings { printError("warning: \(warning)") }
            }
        }
    }
}
