import Foundation
import Shared

/// A real `redis-server` on a free loopback port, for one test.
public final class RedisServer: Sendable {
    public let port: Int
    public let process: ChildProcess
    public let directory: String
    public let client: RedisClient

    public var url: String { "redis://127.0.0.1:\(port)" }

    public init(directory: String, appendOnly: Bool = false) async throws {
        self.directory = directory
        port = try freeLoopbackPort()
        let executable = ["/usr/bin/redis-server", "/usr/local/bin/redis-server"].first { FileManager.default.isExecutableFile(atPath: $0) }
        guard let executable else { throw TestSupportError("redis-server is not installed (apt-get install redis-server)") }
        process = try ChildProcess(
            name: "redis-server",
            executable: executable,
            arguments: ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", appendOnly ? "yes" : "no", "--dir", directory],
            environment: [:],
            logPath: directory + "/redis.log"
        )
        client = RedisClient(url: try RedisURL(parsing: "redis://127.0.0.1:\(port)"), name: "test-redis")
        let up = await eventually(timeout: .seconds(10)) { try? await client.send("PING").string }
        guard up == "PONG" else {
            await process.stop()
            throw TestSupportError("redis-server did not start on port \(port): \(process.log)")
        }
    }

    /// `SHUTDOWN NOSAVE`, then SIGKILL: the server must not outlive the test.
    public func stop() async {
        _ = try? await client.send("SHUTDOWN", "NOSAVE")
        if await process.waitForExit(timeout: .seconds(3)) { return }
        process.signal(SIGKILL)
        await process.waitForExit(timeout: .seconds(3))
    }
}
