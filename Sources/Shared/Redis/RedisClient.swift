import Logging

/// The bus connection of one service component: an actor on its own thread around one hiredis
/// connection, reconnecting on demand.
///
/// A command that fails with `.connection` may or may not have run; callers retry through
/// `RedisClient.retrying`, and the bus writes are idempotent so a retry cannot double a record.
public actor RedisClient {
    public let url: RedisURL
    private let defaultUser: String?
    private let defaultPassword: String?
    private let timeout: Duration
    private var connection: RedisConnection?
    private let executor: ThreadExecutor

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// - Parameters:
    ///   - user, password: the ACL credentials used when the URL carries none (`MUMEGA_BUS_TOKEN`).
    ///   - timeout: socket timeout; must exceed the longest `BLOCK` used with this client.
    public init(url: RedisURL, user: String? = nil, password: String? = nil, timeout: Duration = .seconds(5), name: String = "redis") {
        self.url = url
        self.defaultUser = user
        self.defaultPassword = password
        self.timeout = timeout
        self.executor = ThreadExecutor(name: name)
    }

    /// The client for a service, with the connector's bus credentials from the configuration.
    public init(config: ConnectorConfig, name: String = "redis") {
        self.init(url: config.busURL, user: config.connectorAgentName, password: config.busToken, timeout: .seconds(5), name: name)
    }

    deinit { executor.stop() }

    /// Runs one command; an error reply is thrown as `.server`.
    @discardableResult
    public func send(_ arguments: String...) throws(RedisError) -> RedisValue {
        try send(arguments)
    }

    @discardableResult
    public func send(_ arguments: [String]) throws(RedisError) -> RedisValue {
        let reply = try withConnection { connection throws(RedisError) in try connection.command(arguments) }
        if case .error(let message) = reply { throw RedisError(.server, message) }
        return reply
    }

    /// Runs several commands in one round trip; error replies stay in the result, in place.
    public func pipeline(_ commands: [[String]]) throws(RedisError) -> [RedisValue] {
        try withConnection { connection throws(RedisError) in try connection.pipeline(commands) }
    }

    /// Runs a Lua script by its SHA, loading it on `NOSCRIPT` (after a Redis restart, say).
    public func evaluate(_ script: LuaScript, keys: [String], arguments: [String]) throws(RedisError) -> RedisValue {
        let tail = [String(keys.count)] + keys + arguments
        do {
            return try send(["EVALSHA", script.sha1] + tail)
        } catch let error where error.kind == .server && error.message.hasPrefix("NOSCRIPT") {
            return try send(["EVAL", script.source] + tail)
        }
    }

    /// Drops the connection, so the next command opens a new one.
    public func disconnect() { connection = nil }

    private func withConnection<T>(_ body: (RedisConnection) throws(RedisError) -> T) throws(RedisError) -> T {
        let active: RedisConnection
        if let connection {
            active = connection
        } else {
            active = try RedisConnection(url: url, defaultUser: defaultUser, defaultPassword: defaultPassword, timeout: timeout)
            connection = active
        }
        do {
            return try body(active)
        } catch {
            if error.kind == .connection { connection = nil }
            throw error
        }
    }
}

extension RedisClient {
    /// Runs `operation` until it succeeds, waiting out Redis outages with capped backoff.
    ///
    /// An outage is logged once when it starts and once when it ends, not on every attempt.
    /// Errors other than connection errors are rethrown at once. Returns nil on cancellation.
    public static func retrying<T: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        logger: Logger,
        what: String,
        _ operation: () async throws(RedisError) -> T
    ) async throws(RedisError) -> T? {
        var backoff = Backoff(base: .milliseconds(100), cap: .seconds(5))
        var failing = false
        while !Task.isCancelled {
            do {
                let result = try await operation()
                if failing { logger.notice("Redis is reachable again; resuming \(what)") }
                return result
            } catch where error.kind == .connection {
                ConnectorMetrics.redisErrors.increment()
                if !failing {
                    logger.error("Redis unreachable while \(what): \(error.message); retrying with backoff (nothing acknowledged is lost)")
                    failing = true
                }
                try? await Task.sleep(for: backoff.next())
            }
        }
        return nil
    }
}
