import Foundation
import Testing
@testable import Shared

@Suite("MessageCreate JSON")
struct MessageCreateTests {
    func encoded(_ message: MessageCreate) throws -> [String: Any] {
        try #require(Fixtures.jsonObject(try JSON.encodeString(message)))
    }

    @Test("a reply chunk: nonce with enforce_nonce, snake_case message_reference, no pings but the replied user")
    func replyChunk() throws {
        let message = MessageCreate(
            content: "hello @everyone",
            nonce: "0123456789abcdef01234567",
            messageReference: .init(messageID: "333", channelID: "222"),
            allowedMentions: .init(repliedUser: true)
        )
        let json = try encoded(message)
        #expect(json["content"] as? String == "hello @everyone")
        #expect(json["nonce"] as? String == "0123456789abcdef01234567")
        #expect(json["enforce_nonce"] as? Bool == true)

        let reference = try #require(json["message_reference"] as? [String: Any])
        #expect(reference["message_id"] as? String == "333")
        #expect(reference["channel_id"] as? String == "222")
        #expect(reference["fail_if_not_exists"] as? Bool == false)
        #expect(reference["messageID"] == nil)

        let mentions = try #require(json["allowed_mentions"] as? [String: Any])
        let parse = try #require(mentions["parse"] as? [Any])
        #expect(parse.isEmpty)
        #expect(mentions["replied_user"] as? Bool == true)
        #expect((mentions["roles"] as? [Any])?.isEmpty ?? true)
        #expect((mentions["users"] as? [Any])?.isEmpty ?? true)
        #expect(json["enforceNonce"] == nil && json["allowedMentions"] == nil && json["messageReference"] == nil)
    }

    @Test("without a nonce there is no enforce_nonce; without a reference no message_reference")
    func plain() throws {
        let json = try encoded(MessageCreate(content: "hi", allowedMentions: .init(repliedUser: false)))
        #expect(json["nonce"] == nil || json["nonce"] is NSNull)
        #expect(json["enforce_nonce"] == nil || json["enforce_nonce"] is NSNull)
        #expect(json["message_reference"] == nil || json["message_reference"] is NSNull)
        let mentions = try #require(json["allowed_mentions"] as? [String: Any])
        #expect((mentions["parse"] as? [Any])?.isEmpty == true)
        #expect(mentions["replied_user"] as? Bool == false)
    }

    @Test("a nonce always turns enforce_nonce on")
    func enforceNonce() {
        #expect(MessageCreate(content: "x", nonce: "n", allowedMentions: .init(repliedUser: false)).enforceNonce == true)
        #expect(MessageCreate(content: "x", allowedMentions: .init(repliedUser: false)).enforceNonce == nil)
    }
}
