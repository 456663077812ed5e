import Testing
@testable import Shared

@Suite("ReplyRecord codec")
struct ReplyRecordTests {
    @Test("fields -> dictionary -> init(fields:) gives back the same record", arguments: [
        ReplyRecord(from: "kasra", to: "discord-connector", text: "done {ack_for:\(Fixtures.requestID)}"),
        ReplyRecord(from: "kasra", to: "discord-connector", text: "done", ackFor: Fixtures.requestID),
        ReplyRecord(from: "kasra", to: "discord-connector", text: "hi", channelID: "123"),
        ReplyRecord(from: "kasra", to: "discord-connector", text: "hi", channelName: "general", rigName: "rig-1"),
        ReplyRecord(from: "kasra", to: "discord-connector", text: ""),
    ])
    func roundTrip(record: ReplyRecord) throws {
        #expect(try ReplyRecord(fields: Fixtures.dictionary(record.fields)) == record)
    }

    @Test("wire names are from, to, text, ack_for, channel_id, channel_name, rig_name")
    func wireNames() {
        let record = ReplyRecord(from: "a", to: "b", text: "c", ackFor: "d", channelID: "e", channelName: "f", rigName: "g")
        #expect(Fixtures.dictionary(record.fields) == [
            "from": "a", "to": "b", "text": "c", "ack_for": "d", "channel_id": "e", "channel_name": "f", "rig_name": "g",
        ])
        #expect(ReplyRecord(from: "a", to: "b", text: "c").fields.map(\.0) == ["from", "to", "text"])
    }

    @Test("a record without text throws RecordError naming 'text'")
    func missingText() {
        let error = #expect(throws: RecordError.self) { try ReplyRecord(fields: ["from": "kasra", "to": "discord-connector"]) }
        #expect(error?.description.contains("text") == true)
    }

    @Test("blank optional fields are treated as absent, values are trimmed")
    func blankOptionals() throws {
        let record = try ReplyRecord(fields: [
            "text": "x", "ack_for": "  ", "channel_id": "", "channel_name": " general ", "rig_name": "\t",
        ])
        #expect(record.ackFor == nil)
        #expect(record.channelID == nil)
        #expect(record.channelName == "general")
        #expect(record.rigName == nil)
        #expect(record.from == "")
    }
}
