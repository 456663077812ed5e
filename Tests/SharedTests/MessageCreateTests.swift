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

    /// Bodies of every shape the Replier sends, with text that needs escaping.
    static let handWrittenCases: [MessageCreate] = {
        let texts = ["", "hello", "quote \" backslash \\ slash / done", "lines\nand\ttabs\r\u{08}\u{0C}", "controls \u{00}\u{01}\u{1F}\u{7F}",
                     "ünïcödé ✓ 🚀 👩‍💻 \u{2028}\u{2029}", "<@123> @everyone", String(repeating: "x", count: 300)]
        var cases: [MessageCreate] = []
        for (index, text) in texts.enumerated() {
            cases.append(MessageCreate(content: text, allowedMentions: .init(repliedUser: false)))
            var full = MessageCreate(
                content: text, nonce: "r:\(index)-0:1", messageReference: .init(messageID: "1300000000000000001", channelID: index % 2 == 0 ? "200" : nil),
                allowedMentions: .init(repliedUser: true, users: ["42", text]),
                components: index % 3 == 0 ? [.object(["type": .number(1), "components": .array([.object(["type": .number(2), "label": .string(text), "custom_id": .string("c/\(index)")])])])] : nil
            )
            if index % 2 == 1 { full.attachments = [.init(id: 0, filename: "a \"b\".txt"), .init(id: 1, filename: text.isEmpty ? "x" : text)] }
            cases.append(full)
        }
        return cases
    }()

    @Test("the hand-written body is byte for byte what JSONEncoder makes of it", arguments: handWrittenCases)
    func handWritten(message: MessageCreate) throws {
        let hand = try message.jsonData()
        let encoded = try JSON.encode(message)
        #expect(hand == encoded, "\(String(decoding: hand, as: UTF8.self).prefix(300)) != \(String(decoding: encoded, as: UTF8.self).prefix(300))")
        // And the endpoint sends it.
        let endpoint = DiscordEndpoint.createMessage(channel: "1", message)
        guard case .json(let body) = try endpoint.encodedBody() else {
            Issue.record("not a JSON body")
            return
        }
        #expect(body == encoded)
    }

    @Test("trimming: ends only, Unicode whitespace included, untouched strings unchanged", arguments: [
        ("abc", "abc"), ("  abc ", "abc"), ("\tab c\n", "ab c"), ("", ""), ("   ", ""), ("\u{00A0}x\u{2003}", "x"), ("a  b", "a  b"), ("é ", "é"),
    ])
    func trimming(input: String, expected: String) {
        #expect(input.trimmingWhitespace() == expected)
    }
}
