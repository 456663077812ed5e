/// Splits reply text into Discord-sized messages (2000 characters each), preferring line
/// breaks, then spaces, and cutting a word only when it alone is longer than a message.
///
/// Length is counted in UTF-16 code units, which is never less than Discord's count, so a
/// chunk that fits here fits there. Grapheme clusters are never cut, unless one alone is longer
/// than a message.
public struct ReplySplitter: Sendable {
    public static let discordLimit = 2000
    public var limit: Int

    public init(limit: Int = ReplySplitter.discordLimit) {
        precondition(limit > 0)
        self.limit = limit
    }

    public func split(_ text: String) -> [String] {
        var chunks: [String] = []
        var rest = Substring(text)
        while rest.utf16.count > limit {
            let window = prefixFitting(rest)
            if let newline = window.lastIndex(where: \.isNewline), newline > window.startIndex {
                chunks.append(String(rest[..<newline]))
                rest = rest[rest.index(after: newline)...]
            } else if let space = window.lastIndex(where: { $0 == " " || $0 == "\t" }), space > window.startIndex {
                chunks.append(String(rest[..<space]))
                rest = rest[rest.index(after: space)...]
            } else {
                chunks.append(String(window))
                rest = rest[window.endIndex...]
            }
        }
        if !rest.isEmpty { chunks.append(String(rest)) }
        return chunks.filter { !$0.allSatisfy(\.isWhitespace) }
    }

    /// The longest prefix of whole characters within the limit (at least one character).
    private func prefixFitting(_ text: Substring) -> Substring {
        var used = 0
        var end = text.startIndex
        for character in text {
            let size = character.utf16.count
            if used + size > limit { break }
            used += size
            end = text.index(after: end)
        }
        if end == text.startIndex {
            // A single grapheme cluster longer than a whole message (a letter with thousands of
            // combining marks): it cannot be kept whole, so cut it between Unicode scalars.
            var scalarEnd = text.unicodeScalars.startIndex
            var units = 0
            for scalar in text.unicodeScalars {
                if units + scalar.utf16.count > limit { break }
                units += scalar.utf16.count
                scalarEnd = text.unicodeScalars.index(after: scalarEnd)
            }
            // A limit smaller than one scalar (1, with an emoji) still has to make progress.
            if scalarEnd == text.unicodeScalars.startIndex { scalarEnd = text.unicodeScalars.index(after: scalarEnd) }
            return text[..<scalarEnd]
        }
        // Look one character further: a break right at the limit is still a clean break.
        if end < text.endIndex, text[end].isNewline || text[end] == " " {
            return text[text.startIndex...end]
        }
        return text[..<end]
    }
}
