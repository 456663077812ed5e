/// The routing tokens of the reply protocol (CONTRACT section 3):
/// `{ack_for:<uuid>}` in a reply's text, the `[ctx:<token>]` block line, and the
/// `[request_id:<uuid>]` tag an agent may echo back.
public enum ReplyTokens {
    /// Request ids named by `{ack_for:<uuid>}` tokens, in order of appearance, without repeats.
    public static func ackIDs(in text: String) -> [String] {
        var ids: [String] = []
        for match in text.matches(of: ackPattern) {
            let id = String(match.output.1).lowercased()
            if !ids.contains(id) { ids.append(id) }
        }
        return ids
    }

    /// Every `[ctx:<token>]` block's token, in order of appearance.
    public static func ctxTokens(in text: String) -> [String] {
        text.matches(of: ctxPattern).map { String($0.output.1) }
    }

    /// The text to post: every ack token, ctx block and request-id tag removed, with the blank
    /// lines and doubled spaces they leave behind tidied up.
    public static func strip(_ text: String) -> String {
        let removed = text.replacing(ackPattern, with: "").replacing(ctxPattern, with: "").replacing(requestIDPattern, with: "")
        var lines: [Substring] = []
        for line in removed.split(separator: "\n", omittingEmptySubsequences: false) {
            let tidied = line.replacing(#/(\S)[ \t]{2,}(?=\S)/#) { "\($0.output.1) " }
            let trimmed = tidied.reversed().drop(while: { $0 == " " || $0 == "\t" }).reversed()
            lines.append(Substring(String(trimmed)))
        }
        // Drop leading and trailing blank lines, and collapse runs of blank lines to one.
        var result: [Substring] = []
        for line in lines {
            let blank = line.allSatisfy(\.isWhitespace)
            if blank && (result.isEmpty || result.last!.allSatisfy(\.isWhitespace)) { continue }
            result.append(blank ? "" : line)
        }
        while let last = result.last, last.isEmpty { result.removeLast() }
        return result.joined(separator: "\n").trimmingLeadingSpaces()
    }

    /// Makes tokens inside untrusted text (what a human typed in Discord) inert by putting a
    /// zero-width space after the opening bracket, so no parser here or downstream matches them.
    public static func neutralise(_ text: String) -> String {
        text.replacing(#/(?i)\{(\s*ack_for\s*:)/#) { "{\u{200B}" + $0.output.1 }
            .replacing(#/(?i)\[(\s*(?:ctx|request_id)\s*:)/#) { "[\u{200B}" + $0.output.1 }
    }

    nonisolated(unsafe) static let ackPattern = #/(?i)\{\s*ack_for\s*:\s*([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\s*\}/#
    nonisolated(unsafe) static let ctxPattern = #/\[ctx:([A-Za-z0-9._-]+)\]/#
    nonisolated(unsafe) static let requestIDPattern = #/(?i)\[request_id:\s*[0-9a-f-]{36}\s*\]/#
}

extension String {
    fileprivate func trimmingLeadingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\t" }))
    }
}
