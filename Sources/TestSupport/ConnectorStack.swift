import Foundation
import Shared

/// Redis, the simulator and the connector's services as real processes, for one test.
public final class ConnectorStack: @unchecked Sendable {
    public let directory: String
    public let redis: RedisServer
    public let simulator: DiscordSimulatorProcess
    /// The newest process started under each name.
    public var services: [String: ChildProcess] {
        lock.lock()
        defer { lock.unlock() }
        return newest
    }
    private var newest: [String: ChildProcess] = [:]
    /// Every process started, including those a restart replaced: all are stopped at the end.
    private var started: [ChildProcess] = []
    private let lock = NSLock()
    public let environment: [String: String]

    /// - Parameter environment: extra configuration for the services (e.g. `MUMEGA_AGENT_MAP`).
    public init(label: String, environment: [String: String] = [:], simulatorArguments: [String] = [], appendOnly: Bool = false) async throws {
        directory = try makeScratchDirectory(label)
        redis = try await RedisServer(directory: directory, appendOnly: appendOnly)
        do {
            simulator = try await DiscordSimulatorProcess(directory: directory, arguments: simulatorArguments)
        } catch {
            await redis.stop()
            throw error
        }
        var env = [
            "PATH": "/usr/bin:/bin",
            "MUMEGA_BUS_URL": redis.url,
            "DISCORD_BOT_TOKEN": simulator.token,
            "DISCORD_API_BASE": simulator.apiBase,
            "CTX_SIGNING_KEY": "test-signing-key",
            "CLAIM_IDLE_MS": "2000",
            "LOG_LEVEL": "debug",
        ]
        env.merge(environment) { _, new in new }
        self.environment = env
    }

    /// Starts one of the executables (`Ingest`, `Dispatcher`, `Replier`, `EchoAgent`).
    @discardableResult
    public func start(_ product: String, as name: String? = nil, environment extra: [String: String] = [:]) throws -> ChildProcess {
        let name = name ?? product
        let process = try ChildProcess(
            name: name,
            executable: BuildProducts.path(product),
            environment: environment.merging(extra) { _, new in new },
            workingDirectory: directory,
            logPath: "\(directory)/\(name).log"
        )
        lock.lock()
        newest[name] = process
        started.append(process)
        lock.unlock()
        return process
    }

    /// Starts Ingest, Dispatcher and Replier and waits until Ingest has a gateway session.
    public func startServices() async throws {
        try start("Ingest")
        try start("Dispatcher")
        try start("Replier")
        try await waitForGateway(sessions: 1)
    }

    /// Every service's log, for a failure message.
    public func logs() -> String {
        services.sorted { $0.key < $1.key }.map { "=== \($0.key) ===\n\($0.value.log.suffix(4000))" }.joined(separator: "\n")
    }

    /// Reads a whole stream.
    public func entries(_ stream: String) async throws -> [StreamEntry] {
        try StreamEntry.list(from: try await redis.client.send("XRANGE", stream, "-", "+"))
    }

    /// Stops everything this stack started, services first.
    public func stop() async {
        let all = lock.withLock { started }
        for process in all.reversed() { await process.stop(grace: .seconds(5)) }
        await simulator.stop()
        await redis.stop()
        if ProcessInfo.processInfo.environment["KEEP_TEST_LOGS"] == nil {
            try? FileManager.default.removeItem(atPath: directory)
        }
    }
}

extension ConnectorStack {
    /// Waits until Ingest (re)connected: `count` sessions identified or resumed in total.
    public func waitForGateway(sessions count: Int) async throws {
        let ready = await eventually(timeout: .seconds(20)) { () -> Bool? in
            guard let stats = try? await simulator.stats() else { return nil }
            let total = (stats["identifies"]?.doubleValue ?? 0) + (stats["resumes"]?.doubleValue ?? 0)
            return total >= Double(count) ? true : nil
        }
        guard ready == true else { throw TestSupportError("Ingest did not (re)connect:\n\(logs())") }
    }
}

/// Runs an executable (a product name, or an absolute path) to completion with the given
/// environment and returns its exit code and everything it printed (stdout and stderr together).
public func runToCompletion(_ product: String, arguments: [String], environment: [String: String], timeout: Duration = .seconds(20)) async throws -> (code: Int32?, output: String) {
    let directory = try makeScratchDirectory("run")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    let process = try ChildProcess(
        name: product,
        executable: product.hasPrefix("/") ? product : BuildProducts.path(product),
        arguments: arguments,
        environment: environment,
        workingDirectory: directory,
        logPath: directory + "/output.log"
    )
    if !(await process.waitForExit(timeout: timeout)) { await process.stop() }
    return (process.exitCode, process.log)
}

extension ConnectorStack {
    /// Runs `body` against a fresh stack and stops every process afterwards, pass or fail. A
    /// failure is rethrown with the services' logs attached.
    public static func with(
        label: String,
        environment: [String: String] = [:],
        simulatorArguments: [String] = [],
        appendOnly: Bool = false,
        startingServices: Bool = false,
        _ body: (ConnectorStack) async throws -> Void
    ) async throws {
        let stack = try await ConnectorStack(label: label, environment: environment, simulatorArguments: simulatorArguments, appendOnly: appendOnly)
        do {
            if startingServices { try await stack.startServices() }
            try await body(stack)
        } catch {
            let logs = stack.logs()
            await stack.stop()
            throw TestSupportError("\(error)\n--- service logs ---\n\(logs)")
        }
        await stack.stop()
    }
}
