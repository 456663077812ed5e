import Foundation

/// Where the bus lives: `redis://[user:pass@]host:port[/db]` or `unix:///path/to.sock`.
public struct RedisURL: Sendable, Equatable, CustomStringConvertible {
    public enum Endpoint: Sendable, Equatable {
        case tcp(host: String, port: Int)
        case unix(path: String)
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
        guard text.hasPrefix("redis://") else {
            throw ParseError(description: "expected redis://[user:pass@]host:port[/db] or unix:///path (rediss:// TLS is not supported by hiredis 0.14)")
        }
        var rest = Substring(text.dropFirst("redis://".count))
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

    /// The address without credentials, safe to log.
    public var description: String {
        switch endpoint {
        case .tcp(let host, let port): return "redis://\(host):\(port)" + (database == 0 ? "" : "/\(database)")
        case .unix(let path): return "unix://\(path)"
        }
    }

    public var redactedDescription: String {
        guard password != nil || username != nil else { return description }
        let prefix = "redis://\(username ?? ""):\(redacted(password))@"
        return description.replacingOccurrences(of: "redis://", with: prefix)
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
