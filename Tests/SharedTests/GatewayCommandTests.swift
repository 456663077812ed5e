import Foundation
import Testing
@testable import Shared

@Suite("GatewayCommand")
struct GatewayCommandTests {
    @Test("GUILDS | GUILD_MESSAGES | DIRECT_MESSAGES | MESSAGE_CONTENT is 37377")
    func intents() {
        #expect(GatewayIntents.connector.rawValue == 37_377)
    }

    @Test("IDENTIFY carries the token and the connector's intents")
    func identify() throws {
        let json = GatewayCommand.identify(token: "my.bot.token", intents: .connector)
        let object = try #require(Fixtures.jsonObject(json))
        #expect(object["op"] as? Int == 2)
        let d = try #require(object["d"] as? [String: Any])
        #expect(d["token"] as? String == "my.bot.token")
        #expect(d["intents"] as? Int == 37_377)
        let properties = try #require(d["properties"] as? [String: Any])
        #expect(properties["os"] as? String != nil)
        #expect(properties["browser"] as? String != nil)
        #expect(properties["device"] as? String != nil)
        #expect(d["shard"] == nil)
    }

    @Test("IDENTIFY with a shard sends [id, count]")
    func identifyShard() throws {
        let object = try #require(Fixtures.jsonObject(GatewayCommand.identify(token: "t", intents: .connector, shard: (1, 4))))
        let d = try #require(object["d"] as? [String: Any])
        #expect(d["shard"] as? [Int] == [1, 4])
    }

    @Test("RESUME carries token, session id and sequence")
    func resume() throws {
        let object = try #require(Fixtures.jsonObject(GatewayCommand.resume(token: "t", sessionID: "abc", sequence: 9)))
        #expect(object["op"] as? Int == 6)
        let d = try #require(object["d"] as? [String: Any])
        #expect(d["token"] as? String == "t")
        #expect(d["session_id"] as? String == "abc")
        #expect(d["seq"] as? Int == 9)
    }

    @Test("heartbeat carries the last sequence or null")
    func heartbeat() throws {
        #expect(Fixtures.jsonObject(GatewayCommand.heartbeat(sequence: 42))?["d"] as? Int == 42)
        let empty = try #require(Fixtures.jsonObject(GatewayCommand.heartbeat(sequence: nil)))
        #expect(empty["op"] as? Int == 1)
        #expect(empty["d"] is NSNull)
    }
}
