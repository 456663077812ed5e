import Foundation
import Shared

/// A real `redis-server` on a free loopback port, for one test.
public final class RedisServer: @unchecked Sendable {
    public let port: Int
    public private(set) var process: ChildProcess
    public let directory: String
    public let client: RedisClient
    private let executable: String
    private let appendOnly: Bool
    private let password: String?

    public var url: String { "redis://127.0.0.1:\(port)" }

    /// - Parameter password: `requirepass`: clients must authenticate (the test client does).
    public init(directory: String, appendOnly: Bool = false, password: String? = nil) async throws {
        self.directory = directory
        self.appendOnly = appendOnly
        self.password = password
        let found = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let found else { throw TestSupportError("redis-server is not installed (apt-get install redis-server)") }
        executable = found
        // A free port can be taken by another process (a parallel test) before redis-server binds
        // it: try a few ports before giving up.
        var attempt = 0
        while true {
            attempt += 1
            let candidate = try freeLoopbackPort()
            let launched = try Self.launch(found, port: candidate, directory: directory, appendOnly: appendOnly, password: password)
            let probe = RedisClient(url: try RedisURL(parsing: "redis://127.0.0.1:\(candidate)"), password: password, name: "test-redis")
            let up = await eventually(timeout: .seconds(10)) { () -> Bool? in
                if launched.hasExited { return false }
                return (try? await probe.send("PING").string) == "PONG" ? true : nil
            }
            if up == true {
                port = candidate
                process = launched
                client = probe
                return
            }
            await launched.stop()
            if attempt == 4 { throw TestSupportError("redis-server did not start (last port \(candidate)): \(launched.log.suffix(1000))") }
        }
    }

    private static func launch(_ executable: String, port: Int, directory: String, appendOnly: Bool, password: String?) throws -> ChildProcess {
        // With the append-only file on, every write is fsynced, so a restart keeps all of them.
        var persistence = appendOnly ? ["--appendonly", "yes", "--appendfsync", "always"] : ["--appendonly", "no"]
        if let password { persistence += ["--requirepass", password] }
        return try ChildProcess(
            name: "redis-server",
            executable: executable,
            arguments: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--dir", directory] + persistence,
            environment: [:],
            logPath: directory + "/redis.log"
        )
    }

    private func waitUntilUp() async throws {
        let up = await eventually(timeout: .seconds(10)) { try? await client.send("PING").string }
        guard up == "PONG" else {
            await process.stop()
            throw TestSupportError("redis-server did not start on port \(port): \(process.log)")
        }
    }

    /// Stops the server (SIGKILL: nothing is saved but what the append-only file already has)
    /// and starts it again on the same port and data directory after `downtime`.
    public func restart(downtime: Duration = .seconds(1)) async throws {
        process.signal(SIGKILL)
        await process.waitForExit(timeout: .seconds(5))
        try await Task.sleep(for: downtime)
        process = try Self.launch(executable, port: port, directory: directory, appendOnly: appendOnly, password: password)
        try await waitUntilUp()
    }

    /// `SHUTDOWN NOSAVE`, then SIGKILL: the server must not outlive the test.
    public func stop() async {
        _ = try? await client.send("SHUTDOWN", "NOSAVE")
        if await process.waitForExit(timeout: .seconds(3)) { return }
        process.signal(SIGKILL)
        await process.waitForExit(timeout: .seconds(3))
    }
}

extension RedisServer {
    /// Runs `body` against a fresh redis-server and stops it afterwards, pass or fail.
    public static func with(label: String, password: String? = nil, _ body: (RedisServer) async throws -> Void) async throws {
        let directory = try makeScratchDirectory(label)
        let server = try await RedisServer(directory: directory, password: password)
        do {
            try await body(server)
        } catch {
            await server.stop()
            try? FileManager.default.removeItem(atPath: directory)
            throw error
        }
        await server.stop()
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A new client of this server (its own connection), authenticated like the test client.
    public func makeClient(name: String = "test-client", timeout: Duration = .seconds(5)) throws -> RedisClient {
        RedisClient(url: try RedisURL(parsing: url), password: password, timeout: timeout, name: name)
    }
}
