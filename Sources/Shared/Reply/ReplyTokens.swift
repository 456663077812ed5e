/// The routing tokens of the reply protocol (CONTRACT section 3):
/// `{ack_for:<uuid>}` in a reply's text, the `[ctx:<token>]` block line, and the
/// `[request_id:<uuid>]` tag an agent may echo back.
public enum ReplyTokens {
    /// Request ids named by `{ack_for:<uuid>}` tokens, in order of appearance, without repeats.
    public static func ackIDs(in text: String) -> [String] {
        guard mayHoldToken(text) else { return [] }
        var ids: [String] = []
        for match in text.matches(of: ackPattern) {
            let id = String(match.output.1).lowercased()
            if !ids.contains(id) { ids.append(id) }
        }
        return ids
    }

    /// Every `[ctx:<token>]` block's token, in order of appearance.
    public static func ctxTokens(in text: String) -> [String] {
        guard mayHoldToken(text) else { return [] }
        return text.matches(of: ctxPattern).map { String($0.output.1) }
    }

    /// The text to post: every ack token, ctx block and request-id tag removed. Only the lines
    /// that held a token are touched: the spaces a token leaves behind are closed up, and a line
    /// that held nothing but tokens disappears. Everything else (code, tables, blank lines)
    /// keeps its exact spacing.
    public static func strip(_ text: String) -> String {
        // Removing a token can join its neighbours into a new one ("{ack_{ack_for:…}for:…}"):
        // repeat until nothing changes. Each pass removes at least one token, so this ends.
        var current = text
        while true {
            let next = stripOnce(current)
            if next == current { return next }
            current = next
        }
    }

    private static func stripOnce(_ text: String) -> String {
        var lines: [String] = []
        var removedLine = false
        for line in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline) {
            let line = String(line)
            guard mayHoldToken(line), line.contains(innerToken) else {
                // A removed line between two blank lines would leave a doubled gap: keep one.
                let blank = line.allSatisfy(\.isWhitespace)
                if !(blank && removedLine && lines.last?.allSatisfy(\.isWhitespace) == true) { lines.append(line) }
                removedLine = false
                continue
            }
            // Tokens at the start of a line take the spaces after them; elsewhere, the spaces before.
            let cleaned = line.replacing(leadingTokens, with: "").replacing(innerToken, with: "")
            if cleaned.allSatisfy(\.isWhitespace) {
                removedLine = true
            } else {
                lines.append(cleaned)
                removedLine = false
            }
        }
        // Blank lines that now open or close the message would only be trimmed by Discord.
        while let first = lines.first, first.allSatisfy(\.isWhitespace) { lines.removeFirst() }
        while let last = lines.last, last.allSatisfy(\.isWhitespace) { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    /// Makes tokens inside untrusted text (what a human typed in Discord) inert by putting a
    /// zero-width space after the opening bracket, so no parser here or downstream matches them.
    public static func neutralise(_ text: String) -> String {
        guard mayHoldToken(text) else { return text }
        return text.replacing(#/(?i)\{(\s*ack_for\s*:)/#) { "{\u{200B}" + $0.output.1 }
            .replacing(#/(?i)\[(\s*(?:ctx|request_id)\s*:)/#) { "[\u{200B}" + $0.output.1 }
    }

    /// Every token starts with `{` or `[`: text without either skips the (slow) regular
    /// expressions altogether, which is most text.
    static func mayHoldToken<S: StringProtocol>(_ text: S) -> Bool {
        text.utf8.contains { $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "[") }
    }

    // Horizontal whitespace only, so a pattern never reaches across lines.
    static let ackSource = #"(?i:\{[ \t]*ack_for[ \t]*:[ \t]*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})[ \t]*\})"#
    static let ctxSource = #"\[ctx:([A-Za-z0-9._-]+)\]"#
    static let requestIDSource = #"(?i:\[request_id:[ \t]*[0-9a-f-]{36}[ \t]*\])"#
    static let anyTokenSource = "(?:\(ackSource)|\(ctxSource)|\(requestIDSource))"

    nonisolated(unsafe) static let ackPattern = try! Regex(ackSource, as: (Substring, Substring).self)
    nonisolated(unsafe) static let ctxPattern = try! Regex(ctxSource, as: (Substring, Substring).self)
    nonisolated(unsafe) static let requestIDPattern = try! Regex(requestIDSource, as: Substring.self)
    nonisolated(unsafe) static let leadingTokens = try! Regex("^(?:[ \\t]*\(anyTokenSource))+[ \\t]*")
    nonisolated(unsafe) static let innerToken = try! Regex("[ \\t]*\(anyTokenSource)")
}
