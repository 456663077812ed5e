import Foundation

/// Where the bus lives: `redis://[user:pass@]host:port[/db]`, `unix:///path/to.sock`, or
/// `redis+sentinel://[user:pass@]host:port[,host:port...]/<master-name>` (CONTRACT section 9: the
/// sentinels name the current primary; the credentials are the data nodes').
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
        /// Redis Sentinel: ask these sentinels for the primary of `master`.
        case sentinel(nodes: [HostPort], master: String)
        /// Redis Cluster: these nodes (any of them) tell the slot map.
        case cluster(nodes: [HostPort])
    }

    public struct HostPort: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
        public var description: String { "\(host):\(port)" }
    }

    public var endpoint: Endpoint
    public var username: String?
    public var password: String?
    public var database: Int

    public init(endpoint: Endpoint, username: String? = nil, password: String? = nil, database: Int = 0) {
        self.endpoint = endpoint
        self.username = username
        self.password = password
        self.database = database
    }

    public struct ParseError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(parsing text: String) throws(ParseError) {
        if text.hasPrefix("unix://") {
            let path = String(text.dropFirst("unix://".count))
            guard path.hasPrefix("/") else { throw ParseError(description: "unix:// URLs need an absolute path, e.g. unix:///run/redis.sock") }
            self.init(endpoint: .unix(path: path))
            return
        }
        let sentinelScheme = "redis+sentinel://", clusterScheme = "redis+cluster://"
        let isSentinel = text.hasPrefix(sentinelScheme), isCluster = text.hasPrefix(clusterScheme)
        guard text.hasPrefix("redis://") || isSentinel || isCluster else {
            throw ParseError(description: "expected redis://[user:pass@]host:port[/db], redis+sentinel://host:port[,host:port...]/master, redis+cluster://host:port[,host:port...] or unix:///path (rediss:// TLS is not supported by hiredis 0.14)")
        }
        var rest = Substring(text.dropFirst(isSentinel ? sentinelScheme.count : isCluster ? clusterScheme.count : "redis://".count))
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = String(credentials[..<colon])
                username = user.isEmpty ? nil : user.removingPercentEncoding()
                password = String(credentials[credentials.index(after: colon)...]).removingPercentEncoding()
            } else {
                password = String(credentials).removingPercentEncoding()
            }
        }
        if isCluster {
            if rest.hasSuffix("/") { rest = rest.dropLast() }
            guard !rest.contains("/") else { throw ParseError(description: "redis+cluster:// takes no database or path: redis+cluster://host:port[,host:port...]") }
            self.init(endpoint: .cluster(nodes: try Self.hostPorts(rest, defaultPort: 6379)), username: username, password: password)
            return
        }
        if isSentinel {
            guard let slash = rest.firstIndex(of: "/") else {
                throw ParseError(description: "redis+sentinel:// needs the master's name: redis+sentinel://host:port[,host:port...]/<master-name>")
            }
            let master = String(rest[rest.index(after: slash)...])
            guard !master.isEmpty, !master.contains("/"), master.allSatisfy({ !$0.isWhitespace }) else {
                throw ParseError(description: "redis+sentinel:// needs the master's name after the hosts, e.g. /mymaster")
            }
            self.init(endpoint: .sentinel(nodes: try Self.hostPorts(rest[..<slash], defaultPort: 26379), master: master), username: username, password: password)
            return
        }
        var database = 0
        if let slash = rest.firstIndex(of: "/") {
            let db = rest[rest.index(after: slash)...]
            rest = rest[..<slash]
            if !db.isEmpty {
                guard let number = Int(db), number >= 0 else { throw ParseError(description: "database '\(db)' is not a number") }
                database = number
            }
        }
        var host = String(rest)
        var port = 6379
        if let colon = rest.lastIndex(of: ":") {
            host = String(rest[..<colon])
            guard let number = Int(rest[rest.index(after: colon)...]), (1...65535).contains(number) else {
                // The text is not echoed: with a forgotten "@host" it would be the password.
                throw ParseError(description: "the port is not a number from 1 to 65535 (expected redis://[user:pass@]host:port[/db])")
            }
            port = number
        }
        guard !host.isEmpty else { throw ParseError(description: "missing host") }
        self.init(endpoint: .tcp(host: host, port: port), username: username, password: password, database: database)
    }

    /// `host:port,host:port,...` (a missing port is `defaultPort`).
    static func hostPorts(_ text: Substring, defaultPort: Int) throws(ParseError) -> [HostPort] {
        var nodes: [HostPort] = []
        for part in text.split(separator: ",") {
            guard let colon = part.lastIndex(of: ":") else {
                nodes.append(HostPort(host: String(part), port: defaultPort))
                continue
            }
            guard let port = Int(part[part.index(after: colon)...]), (1...65535).contains(port), colon != part.startIndex else {
                throw ParseError(description: "a node's address is not host:port with a port from 1 to 65535")
            }
            nodes.append(HostPort(host: String(part[..<colon]), port: port))
        }
        guard !nodes.isEmpty else { throw ParseError(description: "at least one host:port is needed") }
        return nodes
    }

    /// Whether the URL names a Redis Cluster.
    public var isCluster: Bool {
        if case .cluster = endpoint { return true }
        return false
    }

    /// The address without credentials, safe to log.
    public var description: String {
        switch endpoint {
        case .tcp(let host, let port): return "redis://\(host):\(port)" + (database == 0 ? "" : "/\(database)")
        case .unix(let path): return "unix://\(path)"
        case .sentinel(let nodes, let master): return "redis+sentinel://\(nodes.map(\.description).joined(separator: ","))/\(master)"
        case .cluster(let nodes): return "redis+cluster://\(nodes.map(\.description).joined(separator: ","))"
        }
    }

    public var redactedDescription: String {
        guard password != nil || username != nil else { return description }
        let scheme = ["redis+sentinel://", "redis+cluster://"].first { description.hasPrefix($0) } ?? "redis://"
        let prefix = "\(scheme)\(username ?? ""):\(redacted(password))@"
        return description.replacingOccurrences(of: scheme, with: prefix)
    }
}

extension String {
    func removingPercentEncoding() -> String {
        // A "%" not followed by two hex digits is kept as it is.
        let input = Array(utf8)
        var bytes: [UInt8] = []
        var index = 0
        while index < input.count {
            if input[index] == UInt8(ascii: "%"), index + 2 < input.count,
               let value = UInt8(String(decoding: input[(index + 1)...(index + 2)], as: UTF8.self), radix: 16) {
                bytes.append(value)
                index += 3
            } else {
                bytes.append(input[index])
                index += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
