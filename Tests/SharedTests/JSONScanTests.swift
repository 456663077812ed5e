import Foundation
import Testing
@testable import Shared

@Suite("JSONScan")
struct JSONScanTests {
    func members(_ text: String) throws(JSONScan.Malformed) -> [String: String] {
        let bytes = Array(text.utf8)
        var result: [String: String] = [:]
        for member in try JSONScan.members(bytes, in: 0..<bytes.count) {
            result[member.name] = String(decoding: bytes[member.value], as: UTF8.self)
        }
        return result
    }

    @Test("an object's members with the bytes of their values", arguments: [
        (#"{}"#, [:]),
        (#" { "a" : 1 } "#, ["a": "1"]),
        (#"{"op":0,"s":42,"t":"MESSAGE_CREATE","d":{"x":[1,{"y":"}"}],"z":"a\"b"}}"#,
         ["op": "0", "s": "42", "t": "\"MESSAGE_CREATE\"", "d": #"{"x":[1,{"y":"}"}],"z":"a\"b"}"#]),
        (#"{"a":null,"b":true,"c":false,"d":-1.5e3,"e":[],"f":"\u00e9"}"#,
         ["a": "null", "b": "true", "c": "false", "d": "-1.5e3", "e": "[]", "f": #""\u00e9""#]),
        ("{\"k\":\"caf\u{e9} \u{1F600}\"}", ["k": "\"caf\u{e9} \u{1F600}\""]),
    ] as [(String, [String: String])])
    func reads(text: String, expected: [String: String]) throws {
        #expect(try members(text) == expected)
    }

    @Test("malformed text is refused", arguments: [
        "", "   ", "[]", "null", "42", #""op""#, "{", "}", #"{"a"}"#, #"{"a":}"#, #"{"a":1,}"#, #"{"a":1"#, #"{"a":1}x"#,
        #"{"a":[1,2}"#, #"{"a":{"b":1]}"#, #"{"a":"unterminated}"#, #"{"a":tru}"#, #"{"a":nul}"#, #"{a:1}"#,
        "{\"a\":\"raw\ncontrol\"}", #"{"a":1 "b":2}"#,
    ])
    func refuses(text: String) {
        #expect(throws: JSONScan.Malformed.self) { try members(text) }
    }

    @Test("values(named:) finds what members finds: the last of a repeated name, escaped names, absent ones", arguments: [
        #"{}"#, #"{"op":0,"s":42,"t":"MESSAGE_CREATE","d":{"x":1}}"#, #"{"d":1,"op":2,"d":3}"#, #"{"o\u0070":7,"s":"x"}"#,
        #"{"author":{"id":"1"},"webhook_id":null,"webhook_idx":"2"}"#, #"{"t":"\"q\"","op":"not a number"}"#,
    ])
    func valuesNamed(text: String) throws {
        let bytes = Array(text.utf8)
        let names = ["op", "s", "t", "d", "author", "webhook_id"]
        let found = try JSONScan.values(named: names, in: bytes, range: 0..<bytes.count)
        let members = try JSONScan.members(bytes, in: 0..<bytes.count)
        #expect(found == names.map { name in members.last { $0.name == name }?.value })
    }

    @Test("values(named:) refuses what members refuses", arguments: [#"{"a":1,}"#, #"{"a"}"#, #"{"\x":1}"#, "{", #"{"a":1}x"#])
    func valuesNamedRefuses(text: String) {
        let bytes = Array(text.utf8)
        #expect(throws: JSONScan.Malformed.self) { try JSONScan.values(named: ["a"], in: bytes, range: 0..<bytes.count) }
        #expect(throws: JSONScan.Malformed.self) { try JSONScan.members(bytes, in: 0..<bytes.count) }
    }

    @Test("values: strings unescaped, integers, null, and paths into nested objects")
    func values() {
        let bytes = Array(#"{"s":"a\"b\u0041","i":-123,"f":1.5,"n":null,"o":{"p":{"q":"deep"}},"big":12345678901234567890}"#.utf8)
        func value(_ path: String...) -> Range<Int>? { JSONScan.value(at: path, in: bytes) }
        #expect(value("s").flatMap { JSONScan.string(bytes, $0) } == "a\"bA")
        #expect(value("i").flatMap { JSONScan.int(bytes, $0) } == -123)
        #expect(value("f").flatMap { JSONScan.int(bytes, $0) } == nil)
        #expect(value("big").flatMap { JSONScan.int(bytes, $0) } == nil)
        #expect(value("i").flatMap { JSONScan.string(bytes, $0) } == nil)
        #expect(value("n").map { JSONScan.isNull(bytes, $0) } == true)
        #expect(value("o", "p", "q").flatMap { JSONScan.string(bytes, $0) } == "deep")
        #expect(value("o", "missing") == nil)
        #expect(value("s", "x") == nil)
    }

    @Test("agrees with JSONSerialization on the gateway fixtures")
    func fixtures() throws {
        for text in [GatewayFixtures.ready(sequence: 1), GatewayFixtures.hello, GatewayFixtures.heartbeatAck, GatewayFixtures.invalidSessionNotResumable] {
            let frame = try GatewayFrame.decode(text)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(frame.opcode == object["op"] as? Int)
            #expect(frame.sequence == object["s"] as? Int)
            #expect(frame.eventName == object["t"] as? String)
            let d = object["d"].flatMap { $0 is NSNull ? nil : $0 }
            let kept = try JSONSerialization.jsonObject(with: frame.data, options: [.fragmentsAllowed])
            func canonical(_ value: Any) throws -> Data { try JSONSerialization.data(withJSONObject: ["d": value], options: [.sortedKeys]) }
            if let d { #expect(try canonical(d) == canonical(kept)) } else { #expect(kept is NSNull) }
        }
    }
}

extension JSONScanTests {
    @Test("strings unescape as JSONSerialization unescapes them", arguments: [
        #""plain""#, #""q\"uote""#, #""back\\slash""#, #""sl\/ash""#, #""\b\f\n\r\t""#, #""\u00e9\u00E9""#,
        #""\ud83d\ude00 smile""#, "\"caf\u{e9} \u{1F600}\"", #""\u0000""#,
    ])
    func unescapes(literal: String) throws {
        let bytes = Array(literal.utf8)
        let expected = try JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) as? String
        #expect(JSONScan.string(bytes, 0..<bytes.count) == expected)
    }

    @Test("malformed escapes are no string", arguments: [#""\x""#, #""\u12""#, #""\ud800""#, #""\ud800\u0041""#, #""\udc00""#])
    func badEscapes(literal: String) {
        let bytes = Array(literal.utf8)
        #expect(JSONScan.string(bytes, 0..<bytes.count) == nil)
    }

    @Test("arrays: elements with their bytes; booleans")
    func arrays() {
        let bytes = Array(#"[1, "a,b", {"c":[2]}, [], null]"#.utf8)
        let elements = JSONScan.elements(bytes, 0..<bytes.count)?.map { String(decoding: bytes[$0], as: UTF8.self) }
        #expect(elements == ["1", #""a,b""#, #"{"c":[2]}"#, "[]", "null"])
        let empty = Array("[ ]".utf8)
        #expect(JSONScan.elements(empty, 0..<empty.count) == [])
        let object = Array("{}".utf8)
        #expect(JSONScan.elements(object, 0..<object.count) == nil)
        let flags = Array("[true,false,1]".utf8)
        let ranges = JSONScan.elements(flags, 0..<flags.count) ?? []
        #expect(ranges.map { JSONScan.bool(flags, $0) } == [true, false, nil])
    }
}
