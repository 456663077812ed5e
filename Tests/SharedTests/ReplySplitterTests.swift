import Testing
@testable import Shared

@Suite("ReplySplitter")
struct ReplySplitterTests {
    let splitter = ReplySplitter()

    func nonWhitespace(_ text: some StringProtocol) -> String {
        String(text.filter { !$0.isWhitespace })
    }

    /// Every chunk fits Discord, no chunk is blank, and nothing visible is lost or reordered.
    func checkInvariants(_ text: String, _ chunks: [String], sourceLocation: SourceLocation = #_sourceLocation) {
        for chunk in chunks {
            #expect(chunk.utf16.count <= ReplySplitter.discordLimit, "chunk of \(chunk.utf16.count) UTF-16 units", sourceLocation: sourceLocation)
            #expect(!chunk.allSatisfy { $0.isWhitespace }, "blank chunk", sourceLocation: sourceLocation)
        }
        #expect(nonWhitespace(chunks.joined()) == nonWhitespace(text), "content lost or reordered", sourceLocation: sourceLocation)
    }

    static func words(totalCount: Int) -> String {
        let vocabulary = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
        var text = ""
        var index = 0
        while text.count < totalCount {
            if !text.isEmpty { text += " " }
            text += vocabulary[index % vocabulary.count] + String(index)
            index += 1
        }
        return String(text.prefix(totalCount))
    }

    @Test("empty or blank text gives nothing to post (Discord rejects empty messages)", arguments: ["", "   ", "\n\n"])
    func empty(text: String) {
        #expect(splitter.split(text) == [])
    }

    @Test("text within the limit is one chunk, unchanged", arguments: [
        "hi", "line one\nline two", String(repeating: "a", count: 2000), String(repeating: "é", count: 2000),
        String(repeating: "ab ", count: 666) + "ab",
    ])
    func oneChunk(text: String) {
        #expect(splitter.split(text) == [text])
    }

    @Test("2001 characters is two chunks")
    func justOver() {
        let text = String(repeating: "a", count: 2001)
        let chunks = splitter.split(text)
        #expect(chunks.count == 2)
        #expect(chunks.map(\.count) == [2000, 1])
        checkInvariants(text, chunks)
    }

    @Test("breaks on a newline in preference to a later space")
    func prefersNewline() {
        let first = String(repeating: "a", count: 1500)
        let second = String(repeating: "b", count: 300) + " " + String(repeating: "c", count: 400)
        let text = first + "\n" + second
        let chunks = splitter.split(text)
        #expect(chunks == [first, second])
    }

    @Test("breaks on a space when there is no newline, never inside a word")
    func breaksOnSpace() {
        let text = Self.words(totalCount: 4500)
        let chunks = splitter.split(text)
        #expect(chunks.count == 3)
        checkInvariants(text, chunks)
        let words = Set(text.split(separator: " ").map(String.init))
        for chunk in chunks {
            for word in chunk.split(separator: " ") {
                #expect(words.contains(String(word)), "word cut: \(word)")
            }
        }
    }

    @Test("a break exactly at the limit is clean")
    func breakAtLimit() {
        let first = String(repeating: "a", count: 2000)
        #expect(splitter.split(first + "\n" + "tail") == [first, "tail"])
        #expect(splitter.split(first + " " + "tail") == [first, "tail"])
    }

    @Test("a 10,000-character word is cut into 5 chunks of 2000")
    func longWord() {
        let text = String(repeating: "x", count: 10_000)
        let chunks = splitter.split(text)
        #expect(chunks.count == 5)
        #expect(chunks.allSatisfy { $0.count == 2000 })
        #expect(chunks.joined() == text)
    }

    @Test("grapheme clusters are never cut, length is counted in UTF-16 units")
    func graphemes() {
        let family = "👨‍👩‍👧‍👦"
        let text = String(repeating: "a", count: 1999) + family
        let chunks = splitter.split(text)
        #expect(chunks == [String(repeating: "a", count: 1999), family])

        let emoji = String(repeating: "😀", count: 1500)  // 3000 UTF-16 units
        let emojiChunks = splitter.split(emoji)
        #expect(emojiChunks.map(\.count) == [1000, 500])
        checkInvariants(emoji, emojiChunks)

        let flags = String(repeating: "🇫🇷", count: 700)  // 4 UTF-16 units each
        let flagChunks = splitter.split(flags)
        #expect(flagChunks.allSatisfy { $0.allSatisfy { $0 == "🇫🇷" } })
        checkInvariants(flags, flagChunks)
    }

    @Test("mixed paragraphs: invariants hold and chunks are in order")
    func mixedParagraphs() {
        var text = ""
        for paragraph in 0..<40 {
            text += "Paragraph \(paragraph): " + Self.words(totalCount: 180 + paragraph * 7) + "\n\n"
        }
        text += "```\n" + String(repeating: "code();\n", count: 300) + "```"
        let chunks = splitter.split(text)
        #expect(chunks.count > 1)
        checkInvariants(text, chunks)
        #expect(chunks.first?.hasPrefix("Paragraph 0:") == true)
        #expect(chunks.last?.hasSuffix("```") == true)
    }

    @Test("CRLF line endings are line boundaries too")
    func crlf() {
        let lines = (0..<30).map { String(repeating: "w", count: 99) + String($0 % 10) }
        let text = lines.joined(separator: "\r\n")
        let chunks = splitter.split(text)
        checkInvariants(text, chunks)
        let allLines = Set(lines)
        for chunk in chunks {
            for line in chunk.split(whereSeparator: \.isNewline) {
                #expect(allLines.contains(String(line)), "line cut: \(line.prefix(20))…")
            }
        }
    }

    @Test("a smaller limit is honoured")
    func customLimit() {
        let chunks = ReplySplitter(limit: 10).split("one two three four five six")
        #expect(chunks == ["one two", "three four", "five six"])
    }
}
