import Testing
@testable import Shared

@Suite("RedisValue")
struct RedisValueTests {
    @Test("fieldMap reads a flat field/value array")
    func fieldMap() {
        let value = RedisValue.array([.bulk("a"), .bulk("1"), .bulk("b"), .integer(2), .status("c"), .null])
        #expect(value.fieldMap == ["a": "1", "b": "2", "c": ""])
    }

    @Test("fieldMap ignores a dangling field and non-string keys")
    func fieldMapOddShapes() {
        #expect(RedisValue.array([.bulk("a"), .bulk("1"), .bulk("dangling")]).fieldMap == ["a": "1"])
        #expect(RedisValue.array([.null, .bulk("x"), .bulk("k"), .bulk("v")]).fieldMap == ["k": "v"])
        #expect(RedisValue.array([]).fieldMap == [:])
        #expect(RedisValue.null.fieldMap == [:])
        #expect(RedisValue.bulk("a").fieldMap == [:])
    }

    @Test("scalar accessors")
    func accessors() {
        #expect(RedisValue.bulk("42").int == 42)
        #expect(RedisValue.integer(7).string == "7")
        #expect(RedisValue.status("OK").string == "OK")
        #expect(RedisValue.error("ERR x").string == nil)
        #expect(RedisValue.null.string == nil)
        #expect(RedisValue.null.isNull)
        #expect(RedisValue.array([.null]).array == [.null])
        #expect(RedisValue.bulk("x").array == nil)
    }
}
