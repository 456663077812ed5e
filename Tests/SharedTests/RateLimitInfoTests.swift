import Testing
@testable import Shared

@Suite("RateLimitInfo")
struct RateLimitInfoTests {
    @Test("reads Discord's rate-limit headers")
    func headers() {
        let info = RateLimitInfo(headers: [
            "x-ratelimit-bucket": "abcd1234", "x-ratelimit-limit": "5", "x-ratelimit-remaining": "0",
            "x-ratelimit-reset-after": "1.25", "x-ratelimit-scope": "shared",
        ])
        #expect(info.bucket == "abcd1234")
        #expect(info.limit == 5)
        #expect(info.remaining == 0)
        #expect(info.resetAfter == 1.25)
        #expect(info.scope == "shared")
        #expect(info.retryAfter == nil)
        #expect(info.global == false)
    }

    @Test("a 429 body's retry_after wins over the Retry-After header; global from body or header")
    func tooManyRequests() {
        let body = JSONValue.object(["message": .string("You are being rate limited."), "retry_after": .number(0.64), "global": .bool(true)])
        let info = RateLimitInfo(headers: ["retry-after": "1", "x-ratelimit-scope": "global"], body: body)
        #expect(info.retryAfter == 0.64)
        #expect(info.global)

        let headerOnly = RateLimitInfo(headers: ["retry-after": "3", "x-ratelimit-global": "true"])
        #expect(headerOnly.retryAfter == 3)
        #expect(headerOnly.global)
    }

    @Test("absent or unreadable headers are nil")
    func missing() {
        let info = RateLimitInfo(headers: ["x-ratelimit-limit": "many", "x-ratelimit-reset-after": ""])
        #expect(info.limit == nil)
        #expect(info.resetAfter == nil)
        #expect(info.bucket == nil)
    }
}
