import Testing
@testable import Shared

@Suite("PendingContext codec")
struct PendingContextTests {
    @Test("fields -> dictionary -> init(fields:) gives back the same context", arguments: [
        PendingContext(Fixtures.inbound()),
        PendingContext(Fixtures.inbound(kind: .dm, guildID: "")),
        PendingContext(Fixtures.inbound(kind: .channel, threadID: "555555555555555555")),
    ])
    func roundTrip(context: PendingContext) throws {
        #expect(try PendingContext(fields: Fixtures.dictionary(context.fields)) == context)
    }

    @Test("carries what the Replier needs from the inbound message")
    func copiesMessage() {
        let message = Fixtures.inbound(threadID: "777")
        let context = PendingContext(message)
        #expect(context.requestID == message.requestID)
        #expect(context.kind == message.kind)
        #expect(context.channelID == message.channelID)
        #expect(context.messageID == message.messageID)
        #expect(context.authorID == message.authorID)
        #expect(context.replyChannelID == "777")
        #expect(PendingContext(Fixtures.inbound(channelID: "10", threadID: "")).replyChannelID == "10")
    }

    @Test("a missing or empty required field throws RecordError naming it",
          arguments: ["request_id", "kind", "channel_id", "message_id"])
    func missingRequired(field: String) {
        var dictionary = Fixtures.dictionary(PendingContext(Fixtures.inbound()).fields)
        dictionary[field] = nil
        let error = #expect(throws: RecordError.self) { try PendingContext(fields: dictionary) }
        #expect(error?.description.contains(field) == true)
        dictionary[field] = ""
        let emptyError = #expect(throws: RecordError.self) { try PendingContext(fields: dictionary) }
        #expect(emptyError?.description.contains(field) == true)
    }

    @Test("an expired context (an empty HGETALL) is rejected")
    func emptyHash() {
        #expect(throws: RecordError.self) { try PendingContext(fields: [:]) }
    }
}
