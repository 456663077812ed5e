import ArgumentParser
import Foundation
import Shared

/// `connector`: the operator's view of the bus and the connector's configuration.
@main
struct Connector: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "connector",
        abstract: "Operate the Discord <-> Redis connector: queues, dead letters, channels, configuration and ACLs.",
        discussion: """
        Configuration comes from the environment and a .env file in the working directory (see the \
        README's configuration table); the bus is reached as the connector's ACL user \
        (CONNECTOR_AGENT_NAME with the password MUMEGA_BUS_TOKEN) unless MUMEGA_BUS_URL names one. \
        Commands that print data accept --json. Exit codes: 0 success, 1 failure, 2 configuration \
        error (or a failed check), 64 bad arguments.
        """,
        subcommands: [Status.self, Tail.self, Send.self, Dead.self, Channels.self, Commands.self, Attachment.self, Check.self, ACL.self]
    )
}

/// Where the configuration comes from; every subcommand has it.
struct ConfigOptions: ParsableArguments {
    @Option(name: .customLong("env-file"), help: ArgumentHelp("The .env file to read (the environment wins over it).", valueName: "path"))
    var envFile: String = ".env"

    func load() throws(ConfigError) -> ConnectorConfig {
        try ConnectorConfig.load(dotEnvPath: envFile)
    }
}

/// A failure to report as one line on standard error, with its exit code.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    var code: Int32

    init(_ description: String, code: Int32 = 1) {
        self.description = description
        self.code = code
    }
}

/// The configuration, the bus keys and a client on the bus as the connector's user.
struct BusContext {
    let config: ConnectorConfig
    let keys: BusKeys
    let redis: RedisClient

    init(_ options: ConfigOptions) throws(ConfigError) {
        config = try options.load()
        keys = BusKeys(config: config)
        redis = RedisClient(config: config, name: "connector-cli")
    }
}

/// Runs a subcommand's body: errors become one line on standard error (never a trace, never a
/// secret) and a non-zero exit code.
func reportingErrors(_ command: String, _ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch let error as ConfigError {
        printError("connector \(command): \(error)")
        throw ExitCode(2)
    } catch let error as CLIError {
        printError("connector \(command): \(error.description)")
        throw ExitCode(error.code)
    } catch let error as RedisError {
        printError("connector \(command): \(explain(error))")
        throw ExitCode(1)
    } catch let error as DiscordFailure {
        printError("connector \(command): \(error.description)")
        throw ExitCode(1)
    } catch {
        printError("connector \(command): \(error)")
        throw ExitCode(1)
    }
}

/// A Redis error with a hint at the variable to look at.
func explain(_ error: RedisError) -> String {
    if error.kind == .configuration {
        return error.description  // names the setting to check
    }
    if error.kind == .connection {
        return "\(error) (is Redis running? check MUMEGA_BUS_URL)"
    }
    if error.message.hasPrefix("NOPERM") {
        return "\(error) (the bus user lacks this permission; see `connector acl print`)"
    }
    return error.description
}

func explain(_ error: any Error) -> String {
    if let error = error as? RedisError { return explain(error) }
    return "\(error)"
}

func isDigit(_ character: Character) -> Bool {
    ("0"..."9").contains(character)
}

/// Flushes standard output (`--follow` output goes to pipes a line at a time).
func flushStandardOutput() {
    fflush(nil)
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

/// Prints a value as indented JSON with sorted keys: the stable `--json` form.
func printJSON<T: Encodable>(_ value: T, pretty: Bool = true) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Milliseconds since 1970 on this machine's clock.
func nowMilliseconds() -> Int {
    Int(Date().timeIntervalSince1970 * 1000)
}
