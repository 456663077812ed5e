import Testing
@testable import Shared

/// Inputs on which the parser fuzzer (Fuzz/run.sh, docs/FUZZING.md) found a broken invariant;
/// both bugs are fixed, and these tests keep them fixed.
@Suite("Fuzz regressions: inputs the parser fuzzer found")
struct FuzzRegressionTests {
    static let id = Fixtures.requestID

    struct Case: Sendable, CustomTestStringConvertible {
        var name: String
        var text: String
        var testDescription: String { name }
    }

    /// Fuzz issue `strip-reform`: `ReplyTokens.strip` removes the tokens it finds in one pass, so
    /// the text on either side of a removed token can close up into a new token, which is then
    /// posted to Discord. Found by libFuzzer (target 3) as
    /// `…and [ctx:forgee.ta0gand [ctx:forgee.ta0g]] é…` -> `…and [ctx:forgee.ta0gand] é…`.
    static let reformingCases: [Case] = [
        Case(name: "found by libFuzzer: ctx block inside a ctx block",
             text: "hey and [ctx:forgee.ta0gand [ctx:forgee.ta0g]] é\u{301} and [ctx:forgee.tag] x"),
        Case(name: "ctx block inside a ctx block", text: "[ctx:a [ctx:b]]"),
        Case(name: "ctx block inside an ack token", text: "{ack_for:[ctx:a]\(id)}"),
        Case(name: "ack token inside an ack token", text: "{ack_for: {ack_for:\(id)}\(id)}"),
        Case(name: "ctx block inside a request_id tag", text: "[request_id:[ctx:x]\(id)]"),
    ]

    @Test("strip leaves no token even where removing one joins its neighbours", arguments: reformingCases)
    func stripDoesNotReformTokens(_ testCase: Case) {
        let stripped = ReplyTokens.strip(testCase.text)
        #expect(ReplyTokens.ackIDs(in: stripped).isEmpty, "ack token in \(stripped.debugDescription)")
        #expect(ReplyTokens.ctxTokens(in: stripped).isEmpty, "ctx block in \(stripped.debugDescription)")
        #expect(stripped.matches(of: ReplyTokens.requestIDPattern).isEmpty, "request_id tag in \(stripped.debugDescription)")
    }

    /// Fuzz issue `split-grapheme`: `ReplySplitter` never cuts a grapheme cluster, so one
    /// cluster longer than the limit (a letter with 2,001 combining marks, "Zalgo" text an agent
    /// may quote back) becomes one chunk of 2,002 code points: over Discord's 2000-character
    /// limit, so Discord refuses the post and that part of the reply is lost. Seed
    /// Fuzz/corpus/split-zalgo.
    @Test("no chunk exceeds Discord's limit, even for a grapheme cluster longer than it")
    func splitCapsOversizedGraphemes() {
        let text = "e" + String(repeating: "\u{301}", count: 2001) + " tail"
        let chunks = ReplySplitter().split(text)
        #expect(chunks.allSatisfy { $0.utf16.count <= ReplySplitter.discordLimit }, "chunk sizes \(chunks.map(\.utf16.count))")
        // What holds today and must keep holding: nothing but whitespace is lost.
        #expect(chunks.joined().unicodeScalars.filter { !$0.properties.isWhitespace }.count == text.unicodeScalars.count - 1)
    }

    /// Fuzz issue `split-limit-1`, found by libFuzzer (target 4, a timeout) in the splitter as
    /// changed for `split-grapheme`: with `limit: 1` a character outside the BMP (one scalar of
    /// two UTF-16 units) fits no chunk, `prefixFitting` returns an empty window, and `split`
    /// appends empty chunks forever, until memory runs out. Found as "\r\nxx \u{FFFD}👨\u{FFFD}";
    /// "👨" alone did it. Only `ReplySplitter(limit: 1)` was affected: the services use 2000.
    /// Fixed: a chunk always takes at least one scalar.
    @Test("split with limit 1 ends, and keeps a character outside the BMP", .timeLimit(.minutes(1)))
    func splitLimitOneEnds() {
        let chunks = ReplySplitter(limit: 1).split("a👨b")
        #expect(chunks.joined() == "a👨b")
        #expect(!chunks.contains(""))
    }

    @Test("split with limit 2 cuts flags and family emoji between scalars and loses nothing")
    func splitLimitTwo() {
        let text = "🇺🇸🇬🇧 👨\u{200D}👩\u{200D}👧"
        let chunks = ReplySplitter(limit: 2).split(text)
        #expect(chunks.allSatisfy { $0.utf16.count <= 2 }, "chunk sizes \(chunks.map(\.utf16.count))")
        let visible = { (text: String) in text.unicodeScalars.filter { !$0.properties.isWhitespace } }
        #expect(visible(chunks.joined()).elementsEqual(visible(text)))
    }
}
