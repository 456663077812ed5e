import Testing
@testable import Shared

@Suite("ReplyResolution: which request a reply answers")
struct ReplyResolutionTests {
    static let signer = CtxSigner(key: "test-signing-key")
    static let id = Fixtures.requestID
    static let other = Fixtures.otherRequestID
    static let signedBlock = signer.block(for: id)

    enum Outcome: Equatable, Sendable {
        case request(String)
        case outbound
        case unroutable
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var record: ReplyRecord
        var outcome: Outcome
        var testDescription: String { name }
    }

    static func reply(_ text: String, ackFor: String? = nil, channelID: String? = nil, channelName: String? = nil) -> ReplyRecord {
        ReplyRecord(from: "kasra", to: "discord-connector", text: text, ackFor: ackFor, channelID: channelID, channelName: channelName)
    }

    static let tamperedBlock: String = {
        var characters = Array(signedBlock)
        let index = characters.count - 3
        characters[index] = characters[index] == "x" ? "y" : "x"
        return String(characters)
    }()

    static let cases: [Case] = [
        Case(name: "ack in text", record: reply("done {ack_for:\(id)}"), outcome: .request(id)),
        Case(name: "ack in text, upper case", record: reply("done {ACK_FOR:\(id.uppercased())}"), outcome: .request(id)),
        Case(name: "ack_for field", record: reply("done", ackFor: id), outcome: .request(id)),
        Case(name: "ack_for field, upper case", record: reply("done", ackFor: id.uppercased()), outcome: .request(id)),
        Case(name: "ack_for field wins over text", record: reply("done {ack_for:\(other)}", ackFor: id), outcome: .request(id)),
        Case(name: "first of several acks", record: reply("{ack_for:\(id)} then {ack_for:\(other)}"), outcome: .request(id)),
        // The signed block cannot be forged; a text ack may have been planted by a human and echoed.
        Case(name: "a signed ctx block wins over a text ack", record: reply("{ack_for:\(other)}\n\(signedBlock)"), outcome: .request(id)),
        Case(name: "signed ctx only", record: reply("done\n\(signedBlock)"), outcome: .request(id)),
        Case(name: "signed ctx after garbage ctx", record: reply("[ctx:junk]\n\(signedBlock)"), outcome: .request(id)),
        Case(name: "ctx tampered by one character", record: reply("done\n\(tamperedBlock)"), outcome: .unroutable),
        Case(name: "ctx signed with another key", record: reply("done\n\(CtxSigner(key: "other").block(for: id))"), outcome: .unroutable),
        Case(name: "garbage ctx", record: reply("done\n[ctx:garbage]"), outcome: .unroutable),
        Case(name: "ack_for field that is not a uuid", record: reply("done {ack_for:\(id)}", ackFor: "nope"), outcome: .unroutable),
        Case(name: "no ack and no ctx", record: reply("just chatting"), outcome: .unroutable),
        Case(name: "neutralised ack typed by a human", record: reply(ReplyTokens.neutralise("{ack_for:\(id)}")), outcome: .unroutable),
        Case(name: "channel_id without ack", record: reply("hello", channelID: "123"), outcome: .outbound),
        Case(name: "channel_name without ack", record: reply("hello", channelName: "general"), outcome: .outbound),
        Case(name: "channel_id with a forged ctx is still outbound", record: reply("hello [ctx:junk]", channelID: "123"), outcome: .outbound),
        // An explicit channel wins over a token the text merely quotes; the ack_for field wins over both.
        Case(name: "channel_id with an ack token in the text is outbound", record: reply("see {ack_for:\(id)}", channelID: "123"), outcome: .outbound),
        Case(name: "the ack_for field wins over channel_id", record: reply("hello", ackFor: id, channelID: "123"), outcome: .request(id)),
    ]

    @Test("resolution table", arguments: cases)
    func resolve(_ testCase: Case) {
        let outcome: Outcome
        switch ReplyResolution.resolve(testCase.record, signer: Self.signer) {
        case .request(let id): outcome = .request(id)
        case .outbound: outcome = .outbound
        case .unroutable(let reason):
            #expect(!reason.isEmpty)
            outcome = .unroutable
        }
        #expect(outcome == testCase.outcome)
    }

    @Test("a request id is a lowercase UUID, exactly", arguments: [
        ("0f8fad5b-d9cb-469f-a165-70867728950e", true),
        ("00000000-0000-0000-0000-000000000000", true),
        ("0F8FAD5B-D9CB-469F-A165-70867728950E", false),
        ("0f8fad5b-d9cb-469f-a165-70867728950", false),
        ("0f8fad5b-d9cb-469f-a165-70867728950e0", false),
        ("0f8fad5bd-9cb-469f-a165-70867728950e", false),
        ("0f8fad5b-d9cb-469f-a165-70867728950g", false),
        (" 0f8fad5b-d9cb-469f-a165-70867728950e", false),
        ("", false),
        ("0f8fad5b-d9cb-469f-a165-7086772895é", false),
    ])
    func requestIDs(text: String, valid: Bool) {
        #expect(ReplyResolution.isRequestID(text) == valid)
    }
}
