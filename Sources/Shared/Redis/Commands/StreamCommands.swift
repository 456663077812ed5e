// The stream commands the services use, each a value that declares its key and decodes its
// reply. Shapes are those of Redis 7 over RESP2 (hiredis 0.14).

/// `XADD key * field value ...`: appends an entry; answers its id.
public struct XADD: RedisCommand {
    public var key: String
    public var fields: StreamFields
    public init(_ key: String, fields: StreamFields) {
        self.key = key
        self.fields = fields
    }
    public var request: RedisRequest {
        RedisRequest(["XADD", RedisBytes(key), "*"] + fields.flattened, keys: [key])
    }
    public func decode(_ reply: RedisValue) throws(RedisError) -> String {
        guard let id = reply.string else { throw unexpected(reply) }
        return id
    }
}

/// `XACK key group id ...`: answers how many were pending and are now acknowledged.
public struct XACK: RedisCommand {
    public var key: String
    public var group: String
    public var ids: [String]
    public init(_ key: String, group: String, ids: [String]) {
        self.key = key
        self.group = group
        self.ids = ids
    }
    public var request: RedisRequest {
        RedisRequest(["XACK", RedisBytes(key), RedisBytes(group)] + ids.map { RedisBytes($0) }, keys: [key])
    }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Int { try ReplyShape.integer(reply, "XACK") }
}

/// `XGROUP CREATE key group id MKSTREAM`: true when created, false when it already existed.
public struct XGROUPCREATE: RedisCommand {
    public var key: String
    public var group: String
    /// Where the group starts: `0` reads the stream from its start, `$` only what comes next.
    public var start: String
    public init(_ key: String, group: String, start: String = "0") {
        self.key = key
        self.group = group
        self.start = start
    }
    public var request: RedisRequest {
        RedisRequest(["XGROUP", "CREATE", RedisBytes(key), RedisBytes(group), RedisBytes(start), "MKSTREAM"], keys: [key])
    }
    public func decode(_ reply: RedisValue) throws(RedisError) -> IgnoredReply {
        guard reply.string == "OK" else { throw unexpected(reply) }
        return IgnoredReply()
    }
    /// The group existed already (another copy or an earlier run made it): not a failure.
    public static func isBusyGroup(_ error: RedisError) -> Bool { error.kind == .server && error.message.hasPrefix("BUSYGROUP") }
}

/// `XREADGROUP GROUP g c COUNT n [BLOCK ms] STREAMS key... id...`: the entries of every stream
/// read, in stream order (nil when a BLOCK timed out: no entries).
public struct XREADGROUP: RedisCommand {
    public var group: String
    public var consumer: String
    public var count: Int
    /// Milliseconds to wait for new entries; nil does not block.
    public var block: Int?
    /// Each stream and where to read it from: `>` for new entries, `0` for this consumer's pending ones.
    public var streams: [(key: String, id: String)]
    public init(group: String, consumer: String, count: Int, block: Int? = nil, streams: [(key: String, id: String)]) {
        self.group = group
        self.consumer = consumer
        self.count = count
        self.block = block
        self.streams = streams
    }
    public init(group: String, consumer: String, count: Int, block: Int? = nil, stream: String, id: String) {
        self.init(group: group, consumer: consumer, count: count, block: block, streams: [(stream, id)])
    }
    public var request: RedisRequest {
        var arguments: [RedisBytes] = ["XREADGROUP", "GROUP", RedisBytes(group), RedisBytes(consumer), "COUNT", RedisBytes(count)]
        if let block { arguments += ["BLOCK", RedisBytes(block)] }
        arguments.append("STREAMS")
        arguments += streams.map { RedisBytes($0.key) }
        arguments += streams.map { RedisBytes($0.id) }
        return RedisRequest(arguments, keys: streams.map(\.key))
    }
    public func decode(_ reply: RedisValue) throws(RedisError) -> [StreamEntry] { try StreamEntry.fromRead(reply) }

    /// The same read, its entries kept stream by stream.
    public var byStream: ByStream { ByStream(read: self) }

    public struct ByStream: RedisCommand {
        let read: XREADGROUP
        public var request: RedisRequest { read.request }
        public func decode(_ reply: RedisValue) throws(RedisError) -> [(stream: String, entries: [StreamEntry])] { try StreamEntry.byStream(reply) }
    }
}

/// `XREAD COUNT n [BLOCK ms] STREAMS key id`: entries after `id`, no consumer group.
public struct XREAD: RedisCommand {
    public var key: String
    public var after: String
    public var count: Int
    public var block: Int?
    public init(_ key: String, after: String, count: Int, block: Int? = nil) {
        self.key = key
        self.after = after
        self.count = count
        self.block = block
    }
    public var request: RedisRequest {
        var arguments: [RedisBytes] = ["XREAD", "COUNT", RedisBytes(count)]
        if let block { arguments += ["BLOCK", RedisBytes(block)] }
        return RedisRequest(arguments + ["STREAMS", RedisBytes(key), RedisBytes(after)], keys: [key])
    }
    public func decode(_ reply: RedisValue) throws(RedisError) -> [StreamEntry] { try StreamEntry.fromRead(reply) }
}

/// `XRANGE key start end [COUNT n]` (or `XREVRANGE`, newest first).
public struct XRANGE: RedisCommand {
    public var key: String
    public var start: String
    public var end: String
    public var count: Int?
    public var reversed: Bool
    public init(_ key: String, start: String = "-", end: String = "+", count: Int? = nil, reversed: Bool = false) {
        self.key = key
        self.start = start
        self.end = end
        self.count = count
        self.reversed = reversed
    }
    public var request: RedisRequest {
        // XREVRANGE takes its bounds the other way round: end first.
        var arguments: [RedisBytes] = reversed ? ["XREVRANGE", RedisBytes(key), RedisBytes(end), RedisBytes(start)] : ["XRANGE", RedisBytes(key), RedisBytes(start), RedisBytes(end)]
        if let count { arguments += ["COUNT", RedisBytes(count)] }
        return RedisRequest(arguments, keys: [key])
    }
    public func decode(_ reply: RedisValue) throws(RedisError) -> [StreamEntry] { try StreamEntry.list(from: reply) }
}

/// `XLEN key`.
public struct XLEN: RedisCommand {
    public var key: String
    public init(_ key: String) { self.key = key }
    public var request: RedisRequest { RedisRequest(["XLEN", RedisBytes(key)], keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Int { try ReplyShape.integer(reply, "XLEN") }
}

/// `XAUTOCLAIM key group consumer min-idle start COUNT n [JUSTID]`: entries pending longer than
/// `minIdle` with any consumer, now this consumer's.
public struct XAUTOCLAIM: RedisCommand {
    public struct Result: Sendable, Equatable {
        /// Where the next call continues; `0-0` when the scan is complete.
        public var next: String
        /// The claimed entries. With `justIDs`, entries without fields. An entry deleted from
        /// the stream while pending comes back without fields too (Redis 6.2) or is listed in
        /// `deleted` (Redis 7) and removed from the pending list.
        public var entries: [StreamEntry]
        public var deleted: [String]
    }

    public var key: String
    public var group: String
    public var consumer: String
    public var minIdle: Int
    public var start: String
    public var count: Int
    public var justIDs: Bool
    public init(_ key: String, group: String, consumer: String, minIdle: Int, start: String = "0-0", count: Int, justIDs: Bool = false) {
        self.key = key
        self.group = group
        self.consumer = consumer
        self.minIdle = minIdle
        self.start = start
        self.count = count
        self.justIDs = justIDs
    }
    public var request: RedisRequest {
        var arguments: [RedisBytes] = ["XAUTOCLAIM", RedisBytes(key), RedisBytes(group), RedisBytes(consumer), RedisBytes(minIdle), RedisBytes(start), "COUNT", RedisBytes(count)]
        if justIDs { arguments.append("JUSTID") }
        return RedisRequest(arguments, keys: [key])
    }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Result {
        guard let parts = reply.array, parts.count >= 2, let next = parts[0].string else { throw unexpected(reply) }
        let entries: [StreamEntry]
        if justIDs {
            guard let ids = parts[1].array else { throw unexpected(reply) }
            entries = ids.compactMap(\.string).map { StreamEntry(id: $0, fields: [:]) }
        } else {
            entries = try StreamEntry.list(from: parts[1])
        }
        let deleted = parts.count >= 3 ? (parts[2].array ?? []).compactMap(\.string) : []
        return Result(next: next, entries: entries, deleted: deleted)
    }
}

/// `XPENDING key group start end count [consumer]`: the pending entries in a range, each with
/// its consumer, idle time and delivery count.
public struct XPENDING: RedisCommand {
    public struct Entry: Sendable, Equatable {
        public var id: String
        public var consumer: String
        public var idleMilliseconds: Int
        public var deliveries: Int
    }

    public var key: String
    public var group: String
    public var start: String
    public var end: String
    public var count: Int
    public var consumer: String?
    public init(_ key: String, group: String, start: String = "-", end: String = "+", count: Int, consumer: String? = nil) {
        self.key = key
        self.group = group
        self.start = start
        self.end = end
        self.count = count
        self.consumer = consumer
    }
    public var request: RedisRequest {
        var arguments: [RedisBytes] = ["XPENDING", RedisBytes(key), RedisBytes(group), RedisBytes(start), RedisBytes(end), RedisBytes(count)]
        if let consumer { arguments.append(RedisBytes(consumer)) }
        return RedisRequest(arguments, keys: [key])
    }
    public func decode(_ reply: RedisValue) throws(RedisError) -> [Entry] {
        guard let items = reply.array else { throw unexpected(reply) }
        var entries: [Entry] = []
        for item in items {
            guard let fields = item.array, fields.count >= 4, let id = fields[0].string, let consumer = fields[1].string,
                  let idle = fields[2].int, let deliveries = fields[3].int else { throw unexpected(reply) }
            entries.append(Entry(id: id, consumer: consumer, idleMilliseconds: idle, deliveries: deliveries))
        }
        return entries
    }
}

/// `XINFO GROUPS key`: each consumer group of a stream, with how far it has read.
public struct XINFOGROUPS: RedisCommand {
    public struct Group: Sendable, Equatable {
        public var name: String
        public var consumers: Int
        public var pending: Int
        public var lastDeliveredID: String
        /// Entries not yet delivered to the group (Redis 7); nil when Redis cannot tell.
        public var lag: Int?
    }

    public var key: String
    public init(_ key: String) { self.key = key }
    public var request: RedisRequest { RedisRequest(["XINFO", "GROUPS", RedisBytes(key)], keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> [Group] {
        guard let items = reply.array else { throw unexpected(reply) }
        var groups: [Group] = []
        for item in items {
            let map = item.replyMap
            guard let name = map["name"]?.string, let consumers = map["consumers"]?.int, let pending = map["pending"]?.int,
                  let last = map["last-delivered-id"]?.string else { throw unexpected(reply) }
            groups.append(Group(name: name, consumers: consumers, pending: pending, lastDeliveredID: last, lag: map["lag"]?.int))
        }
        return groups
    }
}

/// `XTRIM key MINID <id>`: removes every entry with a smaller id; answers how many went.
public struct XTRIMMINID: RedisCommand {
    public var key: String
    public var minID: String
    public init(_ key: String, minID: String) {
        self.key = key
        self.minID = minID
    }
    public var request: RedisRequest { RedisRequest(["XTRIM", RedisBytes(key), "MINID", RedisBytes(minID)], keys: [key]) }
    public func decode(_ reply: RedisValue) throws(RedisError) -> Int { try ReplyShape.integer(reply, "XTRIM") }
}
