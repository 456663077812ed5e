import Testing
@testable import Shared

@Suite("InboundMessage codec")
struct InboundMessageTests {
    @Test("fields -> dictionary -> init(fields:) gives back the same message", arguments: [
        Fixtures.inbound(),
        Fixtures.inbound(kind: .dm, guildID: "", channelName: "", guildName: ""),
        Fixtures.inbound(kind: .channel, threadID: "555555555555555555", content: "multi\nline {ack_for:x} [ctx:y]"),
        Fixtures.inbound(content: ""),
    ])
    func roundTrip(message: InboundMessage) throws {
        let decoded = try InboundMessage(fields: Fixtures.dictionary(message.fields))
        #expect(decoded == message)
    }

    @Test("field names on the wire are the CONTRACT's snake_case names")
    func wireNames() {
        let names = Fixtures.inbound().fields.map(\.0)
        for name in ["request_id", "kind", "guild_id", "channel_id", "thread_id", "message_id", "author_id", "author_name", "content", "ts"] {
            #expect(names.contains(name), "missing \(name)")
        }
        #expect(Set(names).count == names.count, "a field is written twice")
    }

    @Test("a missing or empty required field throws RecordError naming it",
          arguments: ["request_id", "kind", "channel_id", "message_id", "author_id"])
    func missingRequired(field: String) {
        var dictionary = Fixtures.dictionary(Fixtures.inbound().fields)
        dictionary[field] = nil
        let error = #expect(throws: RecordError.self) { try InboundMessage(fields: dictionary) }
        #expect(error?.description.contains(field) == true)

        dictionary[field] = ""
        let emptyError = #expect(throws: RecordError.self) { try InboundMessage(fields: dictionary) }
        #expect(emptyError?.description.contains(field) == true)
    }

    @Test("optional fields default to empty strings")
    func optionalFieldsDefault() throws {
        let message = try InboundMessage(fields: [
            "request_id": Fixtures.requestID, "kind": "dm", "channel_id": "1", "message_id": "2", "author_id": "3",
        ])
        #expect(message.guildID == "")
        #expect(message.threadID == "")
        #expect(message.content == "")
        #expect(message.authorName == "")
        #expect(message.timestamp == "")
        #expect(message.kind == .dm)
    }

    @Test("an unknown kind is rejected and named")
    func unknownKind() {
        var dictionary = Fixtures.dictionary(Fixtures.inbound().fields)
        dictionary["kind"] = "reaction"
        let error = #expect(throws: RecordError.self) { try InboundMessage(fields: dictionary) }
        #expect(error?.description.contains("reaction") == true)
    }

    @Test("a reply goes to the thread when there is one, else to the channel")
    func replyChannel() {
        #expect(Fixtures.inbound(channelID: "10", threadID: "").replyChannelID == "10")
        #expect(Fixtures.inbound(channelID: "10", threadID: "20").replyChannelID == "20")
    }
}
