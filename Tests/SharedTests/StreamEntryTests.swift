import Testing
@testable import Shared

@Suite("StreamEntry decoding")
struct StreamEntryTests {
    static func entry(_ id: String, _ pairs: [String]) -> RedisValue {
        .array([.bulk(RedisBytes(id)), .array(pairs.map { .bulk(RedisBytes($0)) })])
    }

    @Test("list decodes [[id, [f, v, ...]], ...] in order")
    func list() throws {
        let value = RedisValue.array([
            Self.entry("1-0", ["from", "kasra", "text", "hi"]),
            Self.entry("2-0", ["text", ""]),
        ])
        #expect(try StreamEntry.list(from: value) == [
            StreamEntry(id: "1-0", fields: ["from": "kasra", "text": "hi"]),
            StreamEntry(id: "2-0", fields: ["text": ""]),
        ])
    }

    @Test("an entry deleted while pending (nil field array) decodes with no fields")
    func deletedEntry() throws {
        let value = RedisValue.array([.array([.bulk("3-0"), .null]), Self.entry("4-0", ["a", "b"])])
        #expect(try StreamEntry.list(from: value) == [
            StreamEntry(id: "3-0", fields: [:]),
            StreamEntry(id: "4-0", fields: ["a": "b"]),
        ])
    }

    @Test("an empty or nil list is no entries")
    func emptyList() throws {
        #expect(try StreamEntry.list(from: .array([])) == [])
        #expect(try StreamEntry.list(from: .null) == [])
    }

    @Test("list rejects malformed replies as protocol violations", arguments: [
        RedisValue.bulk("not a list"),
        .integer(1),
        .error("ERR"),
        .array([.bulk("1-0")]),
        .array([.array([.bulk("1-0")])]),
        .array([.array([.bulk("1-0"), .array([]), .array([])])]),
        .array([.array([.null, .array([.bulk("f"), .bulk("v")])])]),
        .array([.array([.array([]), .array([])])]),
    ])
    func listMalformed(value: RedisValue) {
        let error = #expect(throws: RedisError.self) { try StreamEntry.list(from: value) }
        #expect(error?.kind == .protocolViolation)
    }

    @Test("fromRead decodes [[stream, entries], ...] across streams")
    func fromRead() throws {
        let value = RedisValue.array([
            .array([.bulk("sos:inbox:a"), .array([Self.entry("1-0", ["k", "v"])])]),
            .array([.bulk("sos:inbox:b"), .array([Self.entry("2-0", ["x", "y"]), .array([.bulk("3-0"), .null])])]),
        ])
        #expect(try StreamEntry.fromRead(value) == [
            StreamEntry(id: "1-0", fields: ["k": "v"]),
            StreamEntry(id: "2-0", fields: ["x": "y"]),
            StreamEntry(id: "3-0", fields: [:]),
        ])
    }

    @Test("fromRead: a nil reply (BLOCK timeout) is no entries")
    func fromReadTimeout() throws {
        #expect(try StreamEntry.fromRead(.null) == [])
        #expect(try StreamEntry.fromRead(.array([])) == [])
    }

    @Test("fromRead rejects malformed replies", arguments: [
        RedisValue.array([.bulk("sos:inbox:a")]),
        .array([.array([.bulk("sos:inbox:a")])]),
        .array([.array([.bulk("sos:inbox:a"), .bulk("oops")])]),
        .array([.array([.bulk("sos:inbox:a"), .array([.array([.bulk("1-0")])])])]),
        .bulk("not a read reply"),
        .integer(0),
    ])
    func fromReadMalformed(value: RedisValue) {
        let error = #expect(throws: RedisError.self) { try StreamEntry.fromRead(value) }
        #expect(error?.kind == .protocolViolation)
    }

    @Test("stream fields flatten in the order of the pairs")
    func flatten() {
        #expect(StreamFields([("b", "2"), ("a", "1")]).flattened == ["b", "2", "a", "1"])
        #expect(StreamFields().flattened == [])
    }
}
