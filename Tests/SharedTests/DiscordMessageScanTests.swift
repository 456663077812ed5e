import Foundation
import Testing
@testable import Shared

/// `DiscordMessage(gatewayPayload:)` (Ingest's hot path) reads what `init(from:)` reads, by the
/// same rules: every payload below gives the same message, or an error, both ways.
@Suite("DiscordMessage(gatewayPayload:)")
struct DiscordMessageScanTests {
    /// A MESSAGE_CREATE as Discord sends it (field order, nulls and nested objects as in the docs).
    static let full = #"""
    {"type":19,"tts":false,"timestamp":"2026-12-07T02:00:00.000000+00:00","referenced_message":{"type":0,"content":"earlier","id":"1","author":{"id":"9","username":"x"}},"pinned":false,"nonce":"1234","mentions":[{"username":"connector","public_flags":0,"id":"900000000000000000","global_name":null,"discriminator":"0","bot":true,"avatar":null},{"username":"bob","id":"700000000000000001","global_name":"Bob B."}],"mention_roles":[],"mention_everyone":false,"member":{"roles":[],"premium_since":null,"pending":false,"nick":"Ada L.","mute":false,"joined_at":"2025-01-01T00:00:00.000000+00:00","flags":0,"deaf":false,"communication_disabled_until":null,"avatar":null},"id":"1300000000000000001","flags":0,"embeds":[{"type":"rich","title":"t"}],"edited_timestamp":null,"content":"<@900000000000000000> hi \"there\"\nline two \u00e9 \ud83d\ude00 \\ \/","components":[],"channel_id":"300000000000000001","author":{"username":"ada","public_flags":0,"id":"700000000000000000","global_name":"Ada","discriminator":"0","avatar":null},"attachments":[{"width":10,"url":"https://cdn.discordapp.com/attachments/3/4/a.png","size":2048,"proxy_url":"https://media.discordapp.net/a.png","id":"4","height":10,"filename":"a.png","content_type":"image/png"},{"url":"https://cdn.discordapp.com/attachments/3/5/b.txt","size":5,"id":"5","filename":"b.txt"}],"guild_id":"200000000000000001","message_reference":{"type":0,"message_id":"1","channel_id":"300000000000000001","guild_id":"200000000000000001"}}
    """#

    static let payloads: [String] = [
        full,
        // A DM: no guild, no member; a minimal author.
        #"{"id":"1","channel_id":"2","author":{"id":"3","username":"u"},"content":"dm","timestamp":"t","mentions":[]}"#,
        // Optional fields null or absent (content without the Message Content intent: empty).
        #"{"id":"1","channel_id":"2","guild_id":null,"author":{"id":"3","username":"u","global_name":null,"bot":null},"content":"","member":null,"webhook_id":null,"attachments":null,"message_reference":null,"mentions":null}"#,
        #"{"id":"1","channel_id":"2","author":{"id":"3","username":"u"}}"#,
        // A webhook's post and a forward (message_reference type 1).
        #"{"id":"1","channel_id":"2","webhook_id":"77","author":{"id":"77","username":"kasra","bot":true},"content":"x","message_reference":{"type":1,"message_id":"5"}}"#,
        // Missing or mistyped required fields: errors both ways.
        #"{"channel_id":"2","author":{"id":"3","username":"u"}}"#,
        #"{"id":"1","author":{"id":"3","username":"u"}}"#,
        #"{"id":"1","channel_id":"2"}"#,
        #"{"id":"1","channel_id":"2","author":{"id":"3"}}"#,
        #"{"id":1,"channel_id":"2","author":{"id":"3","username":"u"}}"#,
        #"{"id":"1","channel_id":"2","author":{"id":"3","username":"u"},"content":5}"#,
        #"{"id":"1","channel_id":"2","author":{"id":"3","username":"u"},"mentions":{}}"#,
        #"{"id":"1","channel_id":"2","author":{"id":"3","username":"u","bot":"yes"}}"#,
        #"{"id":"1","channel_id":"2","author":{"id":"3","username":"u"},"attachments":[{"id":"4","filename":"a","size":"big","url":"u"}]}"#,
        #"{"id":"1","channel_id":"2","author":{"id":"3","username":"u"},"attachments":[{"id":"4","filename":"a","url":"u"}]}"#,
        #"{"id":"1","channel_id":"2","author":{"id":"3","username":"u"},"message_reference":{"type":"reply"}}"#,
        #"{"id":"1","channel_id":"2","author":null}"#,
        #"{"id":"1","channel_id":"2","author":{"id":"3","username":"u"},"content":"bad \ud800 surrogate"}"#,
        "not json", "[]", "null",
    ]

    @Test("the same message, or an error, as JSONDecoder", arguments: payloads)
    func sameAsDecoder(payload: String) {
        let data = Data(payload.utf8)
        let decoded = try? JSONDecoder().decode(DiscordMessage.self, from: data)
        let scanned = try? DiscordMessage(gatewayPayload: data)
        #expect(scanned == decoded)
    }

    @Test("the full payload's fields")
    func fullPayload() throws {
        let message = try DiscordMessage(gatewayPayload: Data(Self.full.utf8))
        #expect(message.id == "1300000000000000001")
        #expect(message.content == "<@900000000000000000> hi \"there\"\nline two \u{e9} \u{1F600} \\ /")
        #expect(message.authorName == "Ada L.")
        #expect(message.mentions.map(\.id) == ["900000000000000000", "700000000000000001"])
        #expect(message.attachments.map(\.filename) == ["a.png", "b.txt"])
        #expect(message.attachments.first?.contentType == "image/png")
        #expect(message.attachments.last?.contentType == nil)
        #expect(message.repliedMessageID == "1")
    }

    @Test("an error names the field")
    func errorNamesField() {
        let error = #expect(throws: DiscordMessage.ScanError.self) {
            try DiscordMessage(gatewayPayload: Data(#"{"id":"1","channel_id":"2","author":{"id":"3","username":"u"},"attachments":[{"id":"4","filename":"a","size":"big","url":"u"}]}"#.utf8))
        }
        #expect(error?.description == "message.attachments[0].size is not an integer")
    }
}
