import Testing
@testable import Shared

@Suite("DotEnv.parse")
struct DotEnvTests {
    @Test("comments, blank lines, export, quotes and inline comments")
    func parses() throws {
        let text = """
        # a comment
           # an indented comment

        PLAIN=value
        export EXPORTED=yes
        SPACED = spaced value
        DOUBLE="double # not a comment"
        SINGLE='single $NOT expanded'
        ESCAPES="line1\\nline2 \\"quoted\\""
        INLINE=value # a comment
        HASH=abc#def
        EMPTY=
        EMPTY_QUOTES=""
        URL=redis://user:p=ss@host:6379/0
        JSON={"123": "river"}
        """
        let values = try DotEnv.parse(text)
        #expect(values == [
            "PLAIN": "value",
            "EXPORTED": "yes",
            "SPACED": "spaced value",
            "DOUBLE": "double # not a comment",
            "SINGLE": "single $NOT expanded",
            "ESCAPES": "line1\nline2 \"quoted\"",
            "INLINE": "value",
            "HASH": "abc#def",
            "EMPTY": "",
            "EMPTY_QUOTES": "",
            "URL": "redis://user:p=ss@host:6379/0",
            "JSON": #"{"123": "river"}"#,
        ])
    }

    @Test("a later line wins over an earlier one")
    func lastWins() throws {
        #expect(try DotEnv.parse("A=1\nA=2") == ["A": "2"])
    }

    @Test("a quoted value may be followed by an inline comment", arguments: [
        #"TOKEN="abc.def" # production bot"#,
        "TOKEN='abc.def' # production bot",
    ])
    func quotedWithComment(line: String) throws {
        #expect(try DotEnv.parse(line) == ["TOKEN": "abc.def"])
    }

    @Test("Windows (CRLF) line endings are read like LF")
    func crlf() throws {
        let values = try DotEnv.parse("A=1\r\nB=two\r\n# c\r\n")
        #expect(values == ["A": "1", "B": "two"])
    }

    static let secret = "s3cr3t-V4lue-XYZ"

    @Test("a malformed line is an error with its line number and without its value", arguments: [
        ("A=1\nB=2\nthis is \(secret)", 3),
        ("A=1\nTOKEN=\"\(secret)", 2),
        ("TOKEN='\(secret)", 1),
        ("\n\n\n1BAD=\(secret)", 4),
        ("A=1\nBAD-KEY=\(secret)", 2),
        ("=\(secret)", 1),
    ])
    func malformed(text: String, line: Int) {
        let error = #expect(throws: ConfigError.self) { try DotEnv.parse(text, source: "/srv/.env") }
        guard let error else { return }
        #expect(error.description.contains("line \(line)"))
        #expect(error.description.contains("/srv/.env"))
        #expect(!error.description.contains(Self.secret))
    }
}
