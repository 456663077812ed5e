import Foundation
@testable import Shared

/// Sample values shared by the record, routing and reply tests.
enum Fixtures {
    static let requestID = "3f2a9c1e-7b4d-4e8a-9f10-2c3d4e5f6a7b"
    static let otherRequestID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

    static func inbound(
        requestID: String = Fixtures.requestID,
        kind: InboundMessage.Kind = .mention,
        guildID: String = "111111111111111111",
        channelID: String = "222222222222222222",
        threadID: String = "",
        content: String = "hello <@999> how are you?",
        channelName: String = "general",
        guildName: String = "Mumega"
    ) -> InboundMessage {
        InboundMessage(
            requestID: requestID, kind: kind, guildID: guildID, channelID: channelID, threadID: threadID,
            messageID: "333333333333333333", authorID: "444444444444444444", authorName: "Ada",
            content: content, timestamp: "2025-01-02T03:04:05.678000+00:00",
            channelName: channelName, guildName: guildName
        )
    }

    /// Turns ordered record fields into the dictionary a stream read yields.
    static func dictionary(_ fields: [(String, String)]) -> [String: String] {
        Dictionary(fields, uniquingKeysWith: { _, last in last })
    }

    /// Parses a JSON string into a Foundation object for structural assertions.
    static func jsonObject(_ text: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
    }
}
