import Foundation
import Shared
import Testing
import TestSupport

/// The typed commands' reply decoding, against a real redis-server (Redis 7 over RESP2).
@Suite("Typed Redis commands", .timeLimit(.minutes(2)))
struct RedisCommandTests {
    @Test("XADD and XRANGE keep field order and every byte of a value")
    func binarySafeOrderedFields() async throws {
        try await RedisServer.with(label: "cmd-bytes") { server in
            let redis = server.client
            let everyByte = RedisBytes((0...255).map { UInt8($0) } + [0, 0, 255])
            var fields = StreamFields([("z", "last written first"), ("a", "text")])
            fields.append("file:blob.bin", bytes: everyByte)
            let id = try await redis.run(XADD("s", fields: fields))
            let entries = try await redis.run(XRANGE("s"))
            #expect(entries.map(\.id) == [id])
            #expect(entries.first?.fields.names == ["z", "a", "file:blob.bin"])
            #expect(entries.first?.fields.bytes("file:blob.bin") == everyByte)
            #expect(try await redis.run(XLEN("s")) == 1)
            // Newest first, bounded.
            let second = try await redis.run(XADD("s", fields: [("n", "2")]))
            #expect(try await redis.run(XRANGE("s", count: 1, reversed: true)).map(\.id) == [second])
        }
    }

    @Test("XREADGROUP, XPENDING and XACK: delivery counts, own pending entries, acknowledgement")
    func consumerGroup() async throws {
        try await RedisServer.with(label: "cmd-group") { server in
            let redis = server.client
            try await redis.run(XGROUPCREATE("s", group: "g"))
            // A second create is BUSYGROUP, which callers treat as done.
            let error = await #expect(throws: RedisError.self) { try await redis.run(XGROUPCREATE("s", group: "g")) }
            #expect(error.map(XGROUPCREATE.isBusyGroup) == true)
            let first = try await redis.run(XADD("s", fields: [("k", "1")]))
            let second = try await redis.run(XADD("s", fields: [("k", "2")]))
            let read = try await redis.run(XREADGROUP(group: "g", consumer: "c1", count: 10, stream: "s", id: ">"))
            #expect(read.map(\.id) == [first, second])
            // Reading one's own pending entries again delivers them again.
            _ = try await redis.run(XREADGROUP(group: "g", consumer: "c1", count: 10, stream: "s", id: "0"))
            let pending = try await redis.run(XPENDING("s", group: "g", count: 10, consumer: "c1"))
            #expect(pending.map(\.id) == [first, second])
            #expect(pending.map(\.deliveries) == [2, 2])
            #expect(pending.allSatisfy { $0.consumer == "c1" })
            #expect(try await redis.run(XACK("s", group: "g", ids: [first, "9-9"])) == 1)
            #expect(try await redis.run(XPENDING("s", group: "g", count: 10)).map(\.id) == [second])
            // Nothing new: a non-blocking read is empty, and so is a BLOCK that times out.
            #expect(try await redis.run(XREADGROUP(group: "g", consumer: "c1", count: 10, stream: "s", id: ">")).isEmpty)
            #expect(try await redis.run(XREADGROUP(group: "g", consumer: "c1", count: 10, block: 10, stream: "s", id: ">")).isEmpty)
        }
    }

    @Test("XAUTOCLAIM takes over idle entries and lists those deleted while pending")
    func autoClaim() async throws {
        try await RedisServer.with(label: "cmd-claim") { server in
            let redis = server.client
            try await redis.run(XGROUPCREATE("s", group: "g"))
            let kept = try await redis.run(XADD("s", fields: [("k", "kept")]))
            let deleted = try await redis.run(XADD("s", fields: [("k", "deleted")]))
            _ = try await redis.run(XREADGROUP(group: "g", consumer: "dead", count: 10, stream: "s", id: ">"))
            try await redis.send("XDEL", "s", deleted)
            let claimed = try await redis.run(XAUTOCLAIM("s", group: "g", consumer: "alive", minIdle: 0, count: 10))
            #expect(claimed.next == "0-0")
            #expect(claimed.entries.map(\.id) == [kept])
            #expect(claimed.entries.first?.fields["k"] == "kept")
            #expect(claimed.deleted == [deleted])
            #expect(try await redis.run(XPENDING("s", group: "g", count: 10)).map(\.consumer) == ["alive"])
            // JUSTID: ids only, and the scan cursor walks a long pending list.
            let ids = try await redis.run(XAUTOCLAIM("s", group: "g", consumer: "other", minIdle: 0, count: 10, justIDs: true))
            #expect(ids.entries == [StreamEntry(id: kept, fields: [:])])
        }
    }

    @Test("XINFO GROUPS reports each group's pending count, last delivered id and lag")
    func infoGroups() async throws {
        try await RedisServer.with(label: "cmd-xinfo") { server in
            let redis = server.client
            try await redis.run(XGROUPCREATE("s", group: "fast"))
            try await redis.run(XGROUPCREATE("s", group: "slow"))
            let first = try await redis.run(XADD("s", fields: [("k", "1")]))
            _ = try await redis.run(XADD("s", fields: [("k", "2")]))
            _ = try await redis.run(XREADGROUP(group: "fast", consumer: "c", count: 1, stream: "s", id: ">"))
            let groups = try await redis.run(XINFOGROUPS("s"))
            #expect(groups.map(\.name) == ["fast", "slow"])
            #expect(groups.map(\.pending) == [1, 0])
            #expect(groups.map(\.lastDeliveredID) == [first, "0-0"])
            #expect(groups.map(\.lag) == [1, 2])
            #expect(groups.map(\.consumers) == [1, 0])
        }
    }

    @Test("hashes, strings and sorted sets decode to plain values")
    func plainValues() async throws {
        try await RedisServer.with(label: "cmd-plain") { server in
            let redis = server.client
            #expect(try await redis.run(HGETALL("none")).isEmpty)
            #expect(try await redis.run(HSET("h", fields: [("b", "2"), ("a", "1")])) == 2)
            #expect(try await redis.run(HGETALL("h")).names == ["b", "a"])
            #expect(try await redis.run(HGET("h", field: "a")) == "1")
            #expect(try await redis.run(HGET("h", field: "x")) == nil)
            #expect(try await redis.run(HSETNX("h", field: "a", value: "other")) == false)
            #expect(try await redis.run(HINCRBY("h", field: "n", by: 3)) == 3)
            #expect(try await redis.run(HDEL("h", fields: ["a", "x"])) == 1)
            #expect(try await redis.run(SET("k", "v", onlyIfAbsent: true, expireMilliseconds: 10_000)) == true)
            #expect(try await redis.run(SET("k", "w", onlyIfAbsent: true)) == false)
            #expect(try await redis.run(GET("k")) == "v")
            #expect(try await redis.run(GET("missing")) == nil)
            #expect(try await redis.run(EXISTS("k")) == true)
            #expect(try await redis.run(ZADD("z", score: 30, member: "c")) == 1)
            try await redis.run(ZADD("z", score: 10, member: "a"))
            try await redis.run(ZADD("z", score: 20, member: "b"))
            #expect(try await redis.run(ZRANGE("z", start: 0, stop: -1)) == ["a", "b", "c"])
            #expect(try await redis.run(ZRANGEBYSCORE("z", max: 20, limit: 10)) == ["a", "b"])
            #expect(try await redis.run(ZREMRANGEBYSCORE("z", max: 10)) == 1)
            #expect(try await redis.run(ZREM("z", members: ["b", "nope"])) == 1)
            #expect(try await redis.run(ZCARD("z")) == 1)
            // A typed command against a key of another type is a server error, not a decode.
            let error = await #expect(throws: RedisError.self) { try await redis.run(XLEN("h")) }
            #expect(error?.kind == .server)
            #expect(error?.message.hasPrefix("WRONGTYPE") == true)
        }
    }

    @Test("a script runs by SHA and is loaded again after SCRIPT FLUSH")
    func scriptReload() async throws {
        try await RedisServer.with(label: "cmd-script") { server in
            let redis = server.client
            let script = LuaScript(keys: ["counter"], "return redis.call('INCR', KEYS[1])")
            #expect(try await redis.run(script.call(keys: ["n"], arguments: [])).int == 1)
            try await redis.send("SCRIPT", "FLUSH")
            #expect(try await redis.run(script.call(keys: ["n"], arguments: [])).int == 2)
            #expect(script.call(keys: ["n"], arguments: []).request.keys == ["n"])
        }
    }

    @Test("a wrong password is a configuration error naming MUMEGA_BUS_TOKEN, not an outage")
    func wrongPassword() async throws {
        try await RedisServer.with(label: "cmd-auth", password: "right-password-1234") { server in
            let wrong = RedisClient(url: try RedisURL(parsing: server.url), password: "wrong-password-5678", name: "wrong")
            let refused = await #expect(throws: RedisError.self) { try await wrong.run(PING()) }
            #expect(refused?.kind == .configuration)
            #expect(refused?.description.contains("MUMEGA_BUS_TOKEN") == true)
            #expect(refused?.description.contains("wrong-password") == false)
            // No password at all: Redis answers NOAUTH to every command; the same configuration error.
            let none = RedisClient(url: try RedisURL(parsing: server.url), name: "none")
            let noAuth = await #expect(throws: RedisError.self) { try await none.run(PING()) }
            #expect(noAuth?.kind == .configuration)
            #expect(noAuth?.description.contains("MUMEGA_BUS_TOKEN") == true)
            #expect(try await server.client.run(PING()) == "PONG")
        }
    }
}
