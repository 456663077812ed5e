import Testing
@testable import Shared

@Suite("ReplyNonce")
struct ReplyNonceTests {
    @Test("deterministic, at most 25 characters, distinct per chunk and per entry")
    func nonce() {
        let a = ReplyNonce.make(stream: "sos:inbox:discord-connector", entryID: "1700000000000-0", chunk: 0)
        #expect(a == ReplyNonce.make(stream: "sos:inbox:discord-connector", entryID: "1700000000000-0", chunk: 0))
        #expect(a.count <= 25)
        #expect(!a.isEmpty)
        var seen: Set<String> = []
        for entry in ["1700000000000-0", "1700000000000-1", "1700000000001-0"] {
            for chunk in 0..<5 {
                let nonce = ReplyNonce.make(stream: "sos:inbox:discord-connector", entryID: entry, chunk: chunk)
                #expect(nonce.count <= 25)
                #expect(seen.insert(nonce).inserted, "nonce repeated for \(entry) chunk \(chunk)")
            }
        }
        #expect(ReplyNonce.make(stream: "sos:inbox:other", entryID: "1700000000000-0", chunk: 0) != a)
    }
}
