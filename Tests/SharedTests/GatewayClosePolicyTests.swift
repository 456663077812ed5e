import Testing
@testable import Shared

@Suite("GatewayClosePolicy")
struct GatewayClosePolicyTests {
    enum Kind: Sendable { case resume, reidentify, fatal }

    @Test("close code table", arguments: [
        (4004, Kind.fatal), (4010, .fatal), (4011, .fatal), (4012, .fatal), (4013, .fatal), (4014, .fatal),
        (4007, .reidentify), (4009, .reidentify),
        (1000, .resume), (1001, .resume), (1006, .resume), (4000, .resume), (4001, .resume), (4002, .resume),
        (4003, .resume), (4005, .resume), (4008, .resume), (1011, .resume),
    ] as [(Int, Kind)])
    func table(code: Int, kind: Kind) {
        let policy = GatewayClosePolicy.forCode(code)
        switch (policy, kind) {
        case (.resume, .resume), (.reidentify, .reidentify): break
        case (.fatal(let message), .fatal):
            #expect(message.contains(String(code)), "the message names the code")
        default: Issue.record("\(code): expected \(kind), got \(policy)")
        }
    }

    @Test("no close code (network drop) -> resume")
    func noCode() {
        #expect(GatewayClosePolicy.forCode(nil) == .resume)
    }

    @Test("4014 tells the operator to enable the Message Content intent")
    func disallowedIntents() {
        guard case .fatal(let message) = GatewayClosePolicy.forCode(4014) else {
            Issue.record("4014 is not fatal")
            return
        }
        #expect(message.contains("Message Content"))
    }

    @Test("4004 names DISCORD_BOT_TOKEN")
    func authenticationFailed() {
        guard case .fatal(let message) = GatewayClosePolicy.forCode(4004) else {
            Issue.record("4004 is not fatal")
            return
        }
        #expect(message.contains("DISCORD_BOT_TOKEN"))
    }
}
