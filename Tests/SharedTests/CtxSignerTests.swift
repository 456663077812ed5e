import Testing
@testable import Shared

@Suite("CtxSigner")
struct CtxSignerTests {
    let signer = CtxSigner(key: "test-signing-key")
    let id = Fixtures.requestID

    func token(of block: String) -> String {
        ReplyTokens.ctxTokens(in: block).first ?? ""
    }

    @Test("a block is one line [ctx:<request_id>.<tag>] that the parser finds")
    func blockShape() {
        let block = signer.block(for: id)
        #expect(block.hasPrefix("[ctx:\(id).") && block.hasSuffix("]"))
        #expect(!block.contains("\n"))
        #expect(ReplyTokens.ctxTokens(in: "reply text\n" + block) == [token(of: block)])
    }

    @Test("a block is deterministic for a key and request, and differs per request")
    func deterministic() {
        #expect(signer.block(for: id) == CtxSigner(key: "test-signing-key").block(for: id))
        #expect(signer.block(for: id) != signer.block(for: Fixtures.otherRequestID))
    }

    @Test("a signed token verifies to its request id")
    func verifies() {
        #expect(signer.verify(token(of: signer.block(for: id))) == id)
    }

    @Test("a token tampered by one character verifies to nothing")
    func tampered() {
        let original = Array(token(of: signer.block(for: id)))
        for index in original.indices {
            var changed = original
            let replacement: Character = changed[index] == "0" ? "1" : (changed[index] == "A" ? "B" : (changed[index] == "." ? "-" : "0"))
            changed[index] = replacement
            let tampered = String(changed)
            #expect(signer.verify(tampered) == nil, "accepted a token changed at \(index): \(tampered)")
        }
    }

    @Test("a token signed with another key, truncated, or garbage verifies to nothing", arguments: [
        CtxSigner(key: "another-key").block(for: Fixtures.requestID),
        "[ctx:\(Fixtures.requestID)]",
        "[ctx:\(Fixtures.requestID).]",
        "[ctx:garbage]",
        "[ctx:...]",
        "[ctx:\(Fixtures.requestID).AAAAAAAAAAAAAAAAAAAAAA]",
    ])
    func forged(block: String) {
        let token = ReplyTokens.ctxTokens(in: block).first ?? String(block.dropFirst(5).dropLast())
        #expect(signer.verify(token) == nil)
    }

    @Test("verify accepts a request id echoed in upper case")
    func upperCaseID() {
        let token = token(of: signer.block(for: id))
        let dot = token.lastIndex(of: ".")!
        let upper = token[..<dot].uppercased() + token[dot...]
        #expect(signer.verify(upper) == id)
    }

    @Test("generated keys are 256-bit hex and differ")
    func generatedKeys() {
        let a = CtxSigner.generateKey()
        let b = CtxSigner.generateKey()
        #expect(a.count == 64)
        #expect(a.allSatisfy { $0.isHexDigit })
        #expect(a != b)
    }
}
