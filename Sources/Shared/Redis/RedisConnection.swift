import CHiredis
import Dispatch
import Foundation

/// One hiredis connection. Not thread-safe and blocking: only `RedisClient` uses it, on its own thread.
///
/// Any I/O error leaves a hiredis context unusable, so the owner drops the connection and opens a
/// new one rather than trying to recover it.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>

    /// Connects, authenticates and selects the database. Through Sentinel, it asks the sentinels
    /// for the current primary, connects there, and checks with `ROLE` that it is the primary
    /// (a failover may be under way): every new connection finds the primary anew.
    /// - Parameter timeout: socket timeout; keep it above the longest `BLOCK` used on this connection.
    init(url given: RedisURL, defaultUser: String?, defaultPassword: String?, timeout: Duration) throws(RedisError) {
        var url = given
        if case .sentinel(let nodes, let master) = given.endpoint {
            let primary = try Self.primary(of: master, asking: nodes, timeout: timeout)
            url = RedisURL(endpoint: .tcp(host: primary.host, port: primary.port), username: given.username, password: given.password)
        }
        let tv = timeval(tv_sec: Int(timeout.components.seconds), tv_usec: Int(timeout.components.attoseconds / 1_000_000_000_000))
        let connectTimeout = timeout < .seconds(2) ? tv : timeval(tv_sec: 2, tv_usec: 0)
        let created: UnsafeMutablePointer<redisContext>?
        switch url.endpoint {
        case .tcp(let host, let port): created = redisConnectWithTimeout(host, Int32(port), connectTimeout)
        case .unix(let path): created = redisConnectUnixWithTimeout(path, connectTimeout)
        case .sentinel, .cluster: created = nil  // resolved above, or by RedisClient per node
        }
        guard let created else { throw RedisError(.connection, "cannot allocate a hiredis context") }
        if created.pointee.err != 0 {
            let message = Self.errorString(created)
            redisFree(created)
            throw RedisError(.connection, "cannot connect to \(url): \(message)")
        }
        context = created
        redisSetTimeout(context, tv)

        let password = url.password ?? defaultPassword
        if let password {
            let user = url.username ?? (url.password == nil ? defaultUser : nil)
            let auth = user.map { ["AUTH", $0, password] } ?? ["AUTH", password]
            if case .error(let message) = try command(auth.map { RedisBytes($0) }) {
                // Not an outage: retrying cannot fix a wrong password, so say what to check.
                throw RedisError(.configuration, "authentication failed (\(message)): \(RedisError.credentialsHint)")
            }
        }
        if url.database != 0, case .error(let message) = try command(["SELECT", RedisBytes(url.database)]) {
            throw RedisError(.configuration, "SELECT \(url.database) failed (\(message)): check the database number in MUMEGA_BUS_URL")
        }
        if case .sentinel(_, let master) = given.endpoint {
            // The sentinels may still name a primary that is gone or was demoted.
            let role = try command(["ROLE"]).array?.first?.string
            guard role == "master" else {
                throw RedisError(.connection, "\(url) is not the primary of '\(master)' (ROLE says \(role ?? "nothing")); a failover is under way")
            }
        }
    }

    /// The primary of `master` as the first sentinel that answers names it.
    static func primary(of master: String, asking sentinels: [RedisURL.HostPort], timeout: Duration) throws(RedisError) -> RedisURL.HostPort {
        var problems: [String] = []
        for sentinel in sentinels {
            do {
                let connection = try RedisConnection(url: RedisURL(endpoint: .tcp(host: sentinel.host, port: sentinel.port)), defaultUser: nil, defaultPassword: nil, timeout: min(timeout, .seconds(1)))
                let reply = try connection.command(["SENTINEL", "get-master-addr-by-name", RedisBytes(master)])
                guard let parts = reply.array, parts.count == 2, let host = parts[0].string, let port = parts[1].string.flatMap({ Int($0) }) else {
                    problems.append("\(sentinel): \(reply.isNull ? "does not know '\(master)'" : "answered \(reply)")")
                    continue
                }
                return RedisURL.HostPort(host: host, port: port)
            } catch {
                problems.append("\(sentinel): \(error.message)")
            }
        }
        throw RedisError(.connection, "no sentinel named the primary of '\(master)' (\(problems.joined(separator: "; ")))")
    }

    deinit { redisFree(context) }

    /// Sends one command and waits for its reply. Error replies come back as `.error`, not thrown.
    func command(_ arguments: [RedisBytes]) throws(RedisError) -> RedisValue {
        try append(arguments)
        return try readReply()
    }

    /// Sends several commands in one write and reads their replies in order.
    func pipeline(_ commands: [[RedisBytes]]) throws(RedisError) -> [RedisValue] {
        for command in commands { try append(command) }
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try readReply()) }
        return replies
    }

    private func append(_ arguments: [RedisBytes]) throws(RedisError) {
        // Binary-safe: all arguments in one buffer, each passed with its byte length.
        var bytes: [UInt8] = []
        var offsets: [Int] = []
        var lengths: [Int] = []
        for argument in arguments {
            offsets.append(bytes.count)
            bytes.append(contentsOf: argument.bytes)
            lengths.append(bytes.count - offsets[offsets.count - 1])
        }
        bytes.append(0)  // keeps the base address valid when every argument is empty
        let status: Int32 = bytes.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            var argv: [UnsafePointer<CChar>?] = offsets.map { base + $0 }
            return argv.withUnsafeMutableBufferPointer { argvBuffer in
                redisAppendCommandArgv(context, Int32(arguments.count), argvBuffer.baseAddress, lengths)
            }
        }
        guard status == REDIS_OK else { throw RedisError(.connection, Self.errorString(context)) }
    }

    private func readReply() throws(RedisError) -> RedisValue {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
            throw RedisError(.connection, Self.errorString(context))
        }
        let reply = raw.assumingMemoryBound(to: redisReply.self)
        defer { freeReplyObject(raw) }
        return Self.convert(reply)
    }

    private static func convert(_ reply: UnsafeMutablePointer<redisReply>) -> RedisValue {
        let value = reply.pointee
        switch Int32(value.type) {
        case REDIS_REPLY_STRING: return .bulk(RedisBytes(bytes(value.str, value.len)))
        case REDIS_REPLY_STATUS: return .status(string(value.str, value.len))
        case REDIS_REPLY_ERROR: return .error(string(value.str, value.len))
        case REDIS_REPLY_INTEGER: return .integer(Int(value.integer))
        case REDIS_REPLY_ARRAY:
            var items: [RedisValue] = []
            items.reserveCapacity(Int(value.elements))
            for index in 0..<Int(value.elements) {
                if let element = value.element[index] { items.append(convert(element)) } else { items.append(.null) }
            }
            return .array(items)
        default: return .null
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
    }

    private static func string(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> String {
        guard let pointer else { return "" }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
    }

    private static func errorString(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { bytes in
            let text = String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
            return text.isEmpty ? "connection lost" : text
        }
    }
}
