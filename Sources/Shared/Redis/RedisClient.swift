import Foundation
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
    /// False when the thread is shared (`thread:`): its creator stops it.
    private let ownsExecutor: Bool
    /// `BUS_MIN_REPLICAS`: a write counts as done only once this many replicas have it (`WAIT`).
    private let minReplicas: Int
    /// Redis Cluster: one connection per node, and which node owns each slot (empty until the
    /// first command loads it with `CLUSTER SLOTS`).
    private var nodeConnections: [String: RedisConnection] = [:]
    private var slotOwners: [RedisURL.HostPort?] = []
    private var isCluster: Bool {
        if case .cluster = url.endpoint { return true }
        return false
    }

    public nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// - Parameters:
    ///   - user, password: the ACL credentials used when the URL carries none (`MUMEGA_BUS_TOKEN`).
    ///   - timeout: socket timeout; must exceed the longest `BLOCK` used with this client.
    ///   - minReplicas: `BUS_MIN_REPLICAS`: after each write, `WAIT` until this many replicas
    ///     have it, or fail the command as an outage (it is retried, and the bus writes are
    ///     idempotent), so a step that depends on the write goes ahead only once a failover
    ///     cannot lose it.
    ///   - thread: a thread shared with other actors of one sequential loop (see
    ///     `ThreadExecutor`); nil: a thread of its own, named `name`.
    public init(url: RedisURL, user: String? = nil, password: String? = nil, timeout: Duration = .seconds(5), name: String = "redis", minReplicas: Int = 0, thread: ThreadExecutor? = nil) {
        self.url = url
        self.defaultUser = user
        self.defaultPassword = password
        self.timeout = timeout
        self.executor = thread ?? ThreadExecutor(name: name)
        self.ownsExecutor = thread == nil
        self.minReplicas = minReplicas
    }

    /// The client for a service, with the connector's bus credentials from the configuration.
    public init(config: ConnectorConfig, name: String = "redis", thread: ThreadExecutor? = nil) {
        self.init(url: config.busURL, user: config.connectorAgentName, password: config.busToken, timeout: .seconds(5), name: name, minReplicas: config.busMinReplicas, thread: thread)
    }

    /// The commands whose effect a failover could lose: the bus's data writes and the scripts.
    static let durableWrites: Set<String> = ["XADD", "XACK", "HSET", "HSETNX", "HDEL", "EVALSHA", "EVAL", "SET", "DEL", "XTRIM", "ZADD", "ZREM", "SADD"]

    /// Replies that mean "this is not (or not yet) the primary": the connection is dropped and
    /// the command fails as an outage, so the next attempt finds the primary anew.
    static func isFailoverReply(_ message: String) -> Bool {
        ["READONLY", "LOADING", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN"].contains { message.hasPrefix($0) }
    }

    /// `WAIT` for `minReplicas` after a write, on the connection that made it (in a cluster,
    /// the node's: `node`).
    private func awaitReplicas(after name: String, node: RedisURL.HostPort? = nil) throws(RedisError) {
        guard minReplicas > 0, Self.durableWrites.contains(name.uppercased()) else { return }
        let wait: [RedisBytes] = ["WAIT", RedisBytes(minReplicas), "1000"]
        let acknowledged: RedisValue
        if let node {
            do {
                acknowledged = try clusterConnection(node).command(wait)
            } catch {
                if error.kind == .connection { nodeConnections[node.description] = nil }
                throw error
            }
        } else {
            acknowledged = try withConnection { connection throws(RedisError) in try connection.command(wait) }
        }
        guard let count = acknowledged.int, count >= minReplicas else {
            throw RedisError(.connection, "the write (\(name)) reached \(acknowledged.int ?? 0) of BUS_MIN_REPLICAS=\(minReplicas) replicas within 1 s; retrying")
        }
    }

    deinit { if ownsExecutor { executor.stop() } }

    /// Runs one command and decodes its reply; an error reply is thrown as `.server` (or as
    /// `.configuration` when Redis says the connection is not authenticated).
    @discardableResult
    public func run<Command: RedisCommand>(_ command: Command) throws(RedisError) -> Command.Response {
        if let call = command as? ScriptCall {
            // A script's body is sent once per server: by SHA, and in full after NOSCRIPT (a restart).
            let reply: RedisValue
            do {
                reply = try execute(call.request)
            } catch let error where error.kind == .server && error.message.hasPrefix("NOSCRIPT") {
                reply = try execute(call.evalRequest)
            }
            return try command.decode(reply)
        }
        return try command.decode(try execute(command.request))
    }

    /// Runs several commands in one round trip; error replies stay in the result, in place.
    public func pipeline(_ requests: [RedisRequest]) throws(RedisError) -> [RedisValue] {
        if isCluster {
            let (replies, nodes) = try clusterPipeline(requests)
            var waited: Set<String> = []  // one WAIT per node written to
            for (request, node) in zip(requests, nodes) where Self.durableWrites.contains(request.name.uppercased()) && waited.insert(node.description).inserted {
                try awaitReplicas(after: request.name, node: node)
            }
            return replies
        }
        let replies = try withConnection { connection throws(RedisError) in try connection.pipeline(requests.map(\.arguments)) }
        for reply in replies {
            if case .error(let message) = reply, Self.isFailoverReply(message) {
                connection = nil
                throw RedisError(.connection, "\(message) (a failover is under way)")
            }
        }
        if let write = requests.first(where: { Self.durableWrites.contains($0.name.uppercased()) }) { try awaitReplicas(after: write.name) }
        return replies
    }

    /// Runs a Lua script (see `LuaScript.call`).
    @discardableResult
    public func evaluate(_ script: LuaScript, keys: [String], arguments: [String]) throws(RedisError) -> RedisValue {
        try run(script.call(keys: keys, arguments: arguments.map { RedisBytes($0) }))
    }

    /// A raw command, for admin tools and tests (the services use typed commands).
    @discardableResult
    public func send(_ arguments: String...) throws(RedisError) -> RedisValue {
        try send(arguments)
    }

    @discardableResult
    public func send(_ arguments: [String]) throws(RedisError) -> RedisValue {
        try execute(RedisRequest(raw: arguments))
    }

    private func execute(_ request: RedisRequest) throws(RedisError) -> RedisValue {
        var node: RedisURL.HostPort?
        let reply: RedisValue
        if isCluster {
            (reply, node) = try clusterExecute(request)
        } else {
            reply = try withConnection { connection throws(RedisError) in try connection.command(request.arguments) }
        }
        if case .error(let message) = reply {
            if RedisError.isAuthenticationReply(message) {
                connection = nil
                throw RedisError(.configuration, "\(message) (\(request.name)): \(RedisError.credentialsHint)")
            }
            if Self.isFailoverReply(message) {
                connection = nil
                throw RedisError(.connection, "\(message) (\(request.name); a failover is under way)")
            }
            throw RedisError(.server, message)
        }
        try awaitReplicas(after: request.name, node: node)
        return reply
    }

    /// Drops the connection, so the next command opens a new one.
    public func disconnect() {
        connection = nil
        nodeConnections = [:]
    }

    /// Every key matching `pattern` of one type, by `SCAN` (which never blocks the server),
    /// following the cursor to its end; in a Redis Cluster on every primary.
    public func scan(pattern: String, type: String) throws(RedisError) -> Set<String> {
        func scanAll(_ connection: RedisConnection) throws(RedisError) -> Set<String> {
            var cursor = "0"
            var found: Set<String> = []
            repeat {
                let reply = try connection.command(["SCAN", RedisBytes(cursor), "MATCH", RedisBytes(pattern), "COUNT", "1000", "TYPE", RedisBytes(type)])
                if case .error(let message) = reply { throw RedisError(.server, message) }
                guard let parts = reply.array, parts.count == 2, let next = parts[0].string else {
                    throw RedisError(.protocolViolation, "unexpected SCAN reply \(reply)")
                }
                cursor = next
                for key in parts[1].array ?? [] { if let key = key.string { found.insert(key) } }
            } while cursor != "0"
            return found
        }
        guard isCluster else { return try withConnection { connection throws(RedisError) in try scanAll(connection) } }
        if slotOwners.isEmpty { try loadSlots() }
        var found: Set<String> = []
        for node in Set(slotOwners.compactMap { $0 }) {
            do {
                found.formUnion(try scanAll(try clusterConnection(node)))
            } catch {
                if error.kind == .connection {
                    nodeConnections[node.description] = nil
                    slotOwners = []
                }
                throw error
            }
        }
        return found
    }

    // MARK: Redis Cluster

    /// A node's connection, opened on first use with the URL's credentials.
    private func clusterConnection(_ node: RedisURL.HostPort) throws(RedisError) -> RedisConnection {
        if let open = nodeConnections[node.description] { return open }
        let opened = try RedisConnection(
            url: RedisURL(endpoint: .tcp(host: node.host, port: node.port), username: url.username, password: url.password),
            defaultUser: defaultUser, defaultPassword: defaultPassword, timeout: timeout
        )
        nodeConnections[node.description] = opened
        return opened
    }

    /// Loads the slot map from the first node that answers `CLUSTER SLOTS`.
    private func loadSlots() throws(RedisError) {
        guard case .cluster(let seeds) = url.endpoint else { return }
        var candidates = seeds
        for known in Set(slotOwners.compactMap { $0 }) where !candidates.contains(known) { candidates.append(known) }
        var problems: [String] = []
        for node in candidates {
            do {
                let reply = try clusterConnection(node).command(["CLUSTER", "SLOTS"])
                var owners = [RedisURL.HostPort?](repeating: nil, count: ClusterSlots.count)
                for range in reply.array ?? [] {
                    guard let items = range.array, items.count >= 3, let start = items[0].int, let end = items[1].int,
                          let primary = items[2].array, primary.count >= 2, let port = primary[1].int,
                          (0..<ClusterSlots.count).contains(start), (start..<ClusterSlots.count).contains(end) else { continue }
                    let host = primary[0].string.flatMap { $0.isEmpty || $0 == "?" ? nil : $0 } ?? node.host
                    for slot in start...end { owners[slot] = RedisURL.HostPort(host: host, port: port) }
                }
                guard owners.contains(where: { $0 != nil }) else {
                    problems.append("\(node): no slots assigned")
                    continue
                }
                slotOwners = owners
                return
            } catch {
                nodeConnections[node.description] = nil
                problems.append("\(node): \(error.message)")
            }
        }
        throw RedisError(.connection, "no cluster node gave the slot map (\(problems.joined(separator: "; ")))")
    }

    /// The node that owns the slot of the request's first key (any node for a keyless one).
    private func clusterNode(for request: RedisRequest) throws(RedisError) -> RedisURL.HostPort {
        if slotOwners.isEmpty { try loadSlots() }
        guard let key = request.keys.first else {
            if let any = slotOwners.lazy.compactMap({ $0 }).first { return any }
            throw RedisError(.connection, "the cluster has no slots assigned")
        }
        let slot = ClusterSlots.slot(of: key)
        if let owner = slotOwners[slot] { return owner }
        try loadSlots()
        guard let owner = slotOwners[slot] else { throw RedisError(.connection, "slot \(slot) has no node (the cluster is down or being set up)") }
        return owner
    }

    /// Runs one command on the node that owns its key, following `MOVED` (the slot has a new
    /// owner: remembered) and `ASK` (the key is being migrated: `ASKING`, then the command on the
    /// target, once), and waiting out `TRYAGAIN` (a multi-key command during a migration).
    /// Answers the reply and the node that gave it.
    private func clusterExecute(_ request: RedisRequest) throws(RedisError) -> (RedisValue, RedisURL.HostPort) {
        var target = try clusterNode(for: request)
        var asking = false
        for attempt in 0..<16 {
            let node = target
            let reply: RedisValue
            do {
                let connection = try clusterConnection(node)
                reply = asking ? try connection.pipeline([["ASKING"], request.arguments])[1] : try connection.command(request.arguments)
            } catch {
                if error.kind == .connection {
                    nodeConnections[node.description] = nil
                    slotOwners = []  // the node may be gone: ask for the map again
                }
                throw error
            }
            guard case .error(let message) = reply else { return (reply, node) }
            if let redirect = ClusterSlots.redirect(message) {
                target = redirect.node.host == "?" ? RedisURL.HostPort(host: node.host, port: redirect.node.port) : redirect.node
                asking = redirect.kind == .ask
                if redirect.kind == .moved, !slotOwners.isEmpty { slotOwners[redirect.slot] = target }
                continue
            }
            if message.hasPrefix("TRYAGAIN") {
                usleep(UInt32(min(20 * (attempt + 1), 200)) * 1_000)
                asking = false
                target = try clusterNode(for: request)
                continue
            }
            return (reply, node)
        }
        throw RedisError(.connection, "\(request.name): too many cluster redirections (a resharding under way?)")
    }

    /// A pipeline in a cluster: in one round trip when every command goes to one node, else one
    /// command at a time in order; a command redirected inside the round trip is sent again where
    /// it belongs (it did not run). Answers the replies and the node each came from.
    private func clusterPipeline(_ requests: [RedisRequest]) throws(RedisError) -> ([RedisValue], [RedisURL.HostPort]) {
        var nodes: [RedisURL.HostPort] = []
        for request in requests { nodes.append(try clusterNode(for: request)) }
        guard let first = nodes.first, nodes.allSatisfy({ $0 == first }) else {
            var replies: [RedisValue] = []
            for (index, request) in requests.enumerated() {
                let (reply, node) = try clusterExecute(request)
                replies.append(reply)
                nodes[index] = node
            }
            return (replies, nodes)
        }
        var replies: [RedisValue]
        do {
            replies = try clusterConnection(first).pipeline(requests.map(\.arguments))
        } catch {
            if error.kind == .connection {
                nodeConnections[first.description] = nil
                slotOwners = []
            }
            throw error
        }
        for index in replies.indices {
            if case .error(let message) = replies[index], ClusterSlots.redirect(message) != nil || message.hasPrefix("TRYAGAIN") {
                (replies[index], nodes[index]) = try clusterExecute(requests[index])
            }
        }
        return (replies, nodes)
    }

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
    /// Credentials or a database that Redis refuses are a configuration error, not an outage:
    /// logged as such (naming the setting to check) and retried slowly, so that fixing the
    /// password on either side resumes the service without a restart. Other errors are rethrown
    /// at once. Returns nil on cancellation.
    public static func retrying<T: Sendable>(
        isolation: isolated (any Actor)? = #isolation,
        logger: Logger,
        what: String,
        _ operation: () async throws(RedisError) -> T
    ) async throws(RedisError) -> T? {
        var backoff = Backoff(base: .milliseconds(100), cap: .seconds(5))
        var failing = false
        var refused = false
        var slowBackoff = Backoff(base: .seconds(1), cap: .seconds(30))
        while !Task.isCancelled {
            do {
                let result = try await operation()
                if failing { logger.notice("Redis is reachable again; resuming \(what)") }
                if refused { logger.notice("Redis accepts the connector's credentials again; resuming \(what)") }
                return result
            } catch where error.kind == .configuration {
                ConnectorMetrics.redisErrors.increment()
                if !refused {
                    logger.critical("Redis refused the connector while \(what): \(error.message); retrying with backoff (up to every 30 s) until it is fixed")
                    refused = true
                }
                try? await Task.sleep(for: slowBackoff.next())
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
