import Foundation
import Testing
@testable import Shared

@Suite("GatewayFrame.decode")
struct GatewayFrameTests {
    @Test("rejects what is not a usable frame", arguments: [
        "not json",
        "",
        "{\"op\":",
        "[1,2,3]",
        "42",
        "\"op\"",
        "null",
        #"{"d":{},"s":1,"t":"READY"}"#,
        #"{"op":"0","d":{}}"#,
        #"{"op":null}"#,
        #"{"op":0,"d":{}}"#,
        #"{"op":0,"s":1,"d":{}}"#,
        #"{"op":0,"t":"MESSAGE_CREATE","d":{}}"#,
        #"{"op":0,"s":null,"t":null,"d":{}}"#,
    ])
    func rejects(text: String) {
        #expect(throws: GatewayFrame.DecodingError.self) { try GatewayFrame.decode(text) }
    }

    @Test("rejects an oversized frame")
    func oversized() {
        let text = #"{"op":11,"d":""# + String(repeating: "a", count: GatewayFrame.maxSize) + #""}"#
        let error = #expect(throws: GatewayFrame.DecodingError.self) { try GatewayFrame.decode(text) }
        #expect(error?.description.contains("exceeds") == true)
    }

    @Test("accepts a real READY")
    func ready() throws {
        let frame = try GatewayFrame.decode(GatewayFixtures.ready(sequence: 1))
        #expect(frame.opcode == 0)
        #expect(frame.sequence == 1)
        #expect(frame.eventName == "READY")
        let ready = try frame.payload(GatewaySession.Ready.self)
        #expect(ready.sessionID == GatewayFixtures.sessionID)
        #expect(ready.resumeGatewayURL == GatewayFixtures.resumeURL)
        #expect(ready.user.id == GatewayFixtures.botID)
        #expect(ready.user.bot == true)
    }

    @Test("accepts non-dispatch frames with null s and t")
    func nonDispatch() throws {
        let ack = try GatewayFrame.decode(GatewayFixtures.heartbeatAck)
        #expect(ack.opcode == 11)
        #expect(ack.sequence == nil)
        #expect(ack.eventName == nil)
        #expect(String(decoding: ack.data, as: UTF8.self) == "null")

        let invalid = try GatewayFrame.decode(GatewayFixtures.invalidSessionNotResumable)
        #expect(try invalid.payload(Bool.self) == false)

        let hello = try GatewayFrame.decode(GatewayFixtures.hello)
        #expect(hello.opcode == 10)
        #expect(Fixtures.jsonObject(String(decoding: hello.data, as: UTF8.self))?["heartbeat_interval"] as? Int == 45_000)
    }
}
