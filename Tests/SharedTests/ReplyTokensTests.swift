import Testing
@testable import Shared

@Suite("ReplyTokens: parsing and stripping ack tokens, ctx blocks and request-id tags")
struct ReplyTokensTests {
    static let id = Fixtures.requestID
    static let other = Fixtures.otherRequestID

    struct AckCase: Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        var ids: [String]
        var testDescription: String { name }
    }

    static let ackCases: [AckCase] = [
        AckCase(name: "start", text: "{ack_for:\(id)} done", ids: [id]),
        AckCase(name: "middle", text: "all {ack_for:\(id)} done", ids: [id]),
        AckCase(name: "end", text: "done {ack_for:\(id)}", ids: [id]),
        AckCase(name: "own line", text: "done\n{ack_for:\(id)}\nbye", ids: [id]),
        AckCase(name: "backticks", text: "done `{ack_for:\(id)}`", ids: [id]),
        AckCase(name: "code block", text: "```\n{ack_for:\(id)}\n```", ids: [id]),
        AckCase(name: "spaces inside braces", text: "{ ack_for : \(id) }", ids: [id]),
        AckCase(name: "upper-case hex and key", text: "{ACK_FOR:\(id.uppercased())}", ids: [id]),
        AckCase(name: "two distinct, in order", text: "{ack_for:\(other)} and {ack_for:\(id)}", ids: [other, id]),
        AckCase(name: "repeated", text: "{ack_for:\(id)} x {ack_for:\(id)} {ack_for:\(id.uppercased())}", ids: [id]),
        AckCase(name: "none", text: "just text, {ack_for} and {ack_for:} and ack_for:\(id)", ids: []),
        AckCase(name: "not a uuid", text: "{ack_for:not-a-uuid}", ids: []),
        AckCase(name: "neutralised by the connector", text: ReplyTokens.neutralise("{ack_for:\(id)}"), ids: []),
    ]

    @Test("ackIDs finds {ack_for:<uuid>} wherever it is", arguments: ackCases)
    func ackIDs(_ testCase: AckCase) {
        #expect(ReplyTokens.ackIDs(in: testCase.text) == testCase.ids)
    }

    @Test("ctxTokens finds every [ctx:...] block in order")
    func ctxTokens() {
        #expect(ReplyTokens.ctxTokens(in: "a\n[ctx:abc.DEF-_1]\nb [ctx:x.y]") == ["abc.DEF-_1", "x.y"])
        #expect(ReplyTokens.ctxTokens(in: "`[ctx:abc.def]`") == ["abc.def"])
        #expect(ReplyTokens.ctxTokens(in: "no blocks [ctx:] [ctx: spaced]") == [])
        #expect(ReplyTokens.ctxTokens(in: ReplyTokens.neutralise("[ctx:abc.def]")) == [])
    }

    struct StripCase: Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        var expected: String
        var testDescription: String { name }
    }

    static let ctx = "[ctx:\(id).AbCdEfGhIjKlMnOpQrStUv]"

    static let stripCases: [StripCase] = [
        StripCase(name: "ack at start", text: "{ack_for:\(id)} Done.", expected: "Done."),
        StripCase(name: "ack in middle", text: "All {ack_for:\(id)} done.", expected: "All done."),
        StripCase(name: "ack at end", text: "Done. {ack_for:\(id)}", expected: "Done."),
        StripCase(name: "ack with spaces and upper case", text: "Done { ACK_FOR : \(id.uppercased()) } now", expected: "Done now"),
        StripCase(name: "ack on its own line", text: "Line one\n{ack_for:\(id)}\nLine two", expected: "Line one\nLine two"),
        StripCase(name: "several acks", text: "{ack_for:\(id)} A {ack_for:\(other)} B {ack_for:\(id)}", expected: "A B"),
        StripCase(name: "ctx block as last line", text: "Answer here.\n\(ctx)", expected: "Answer here."),
        StripCase(name: "request id tag", text: "[request_id:\(id)] Answer", expected: "Answer"),
        StripCase(name: "everything echoed back",
                  text: "[request_id:\(id)] Answer {ack_for:\(id)}\n\n\(ctx)\n",
                  expected: "Answer"),
        StripCase(name: "paragraphs are kept", text: "Para one.\n\nPara two.\n{ack_for:\(id)}", expected: "Para one.\n\nPara two."),
        StripCase(name: "blank lines left by a token collapse",
                  text: "Para one.\n\n{ack_for:\(id)}\n\nPara two.", expected: "Para one.\n\nPara two."),
        StripCase(name: "token at the start of a later line leaves no indent",
                  text: "Line one\n{ack_for:\(id)} Line two", expected: "Line one\nLine two"),
        StripCase(name: "no tokens: unchanged", text: "Hello, world!\nSecond line.", expected: "Hello, world!\nSecond line."),
        StripCase(name: "only tokens: empty", text: "{ack_for:\(id)}\n\(ctx)", expected: ""),
        StripCase(name: "empty", text: "", expected: ""),
    ]

    @Test("strip removes routing tokens and tidies what they leave", arguments: stripCases)
    func strip(_ testCase: StripCase) {
        #expect(ReplyTokens.strip(testCase.text) == testCase.expected)
    }

    @Test("strip removes a token inside a code block but keeps the block")
    func stripInCodeBlock() {
        let stripped = ReplyTokens.strip("Here:\n```swift\nlet x = 1 {ack_for:\(Self.id)}\n```")
        #expect(stripped == "Here:\n```swift\nlet x = 1\n```")
    }

    @Test("strip leaves no parsable token behind", arguments: stripCases)
    func stripLeavesNoTokens(_ testCase: StripCase) {
        let stripped = ReplyTokens.strip(testCase.text)
        #expect(ReplyTokens.ackIDs(in: stripped).isEmpty)
        #expect(ReplyTokens.ctxTokens(in: stripped).isEmpty)
        #expect(!stripped.contains("request_id"))
    }

    @Test("strip keeps code and text that has no routing token exactly as written")
    func stripKeepsUntouchedText() {
        // An agent's table or aligned code must reach Discord as written: only the
        // spaces and blank lines a removed token leaves behind are tidied.
        let code = "Result:\n```\nname    value\nalpha   1\n\n\nbeta    2\n```"
        #expect(ReplyTokens.strip(code + "\n{ack_for:\(Self.id)}") == code)
    }

    @Test("neutralise makes human-typed tokens unparsable but keeps them readable")
    func neutralise() {
        let raw = "{ack_for:\(Self.id)} [ctx:abc.def] [request_id:\(Self.id)] { Ack_For :\(Self.id)} [ CTX :x.y]"
        let safe = ReplyTokens.neutralise(raw)
        #expect(ReplyTokens.ackIDs(in: safe).isEmpty)
        #expect(ReplyTokens.ctxTokens(in: safe).isEmpty)
        #expect(safe.matches(of: ReplyTokens.requestIDPattern).isEmpty)
        #expect(safe.replacingZeroWidthSpaces() == raw)
        #expect(ReplyTokens.neutralise("plain {text} [here]") == "plain {text} [here]")
    }
}

extension String {
    fileprivate func replacingZeroWidthSpaces() -> String {
        String(String.UnicodeScalarView(unicodeScalars.filter { $0 != "\u{200B}" }))
    }
}
