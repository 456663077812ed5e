import Crypto
import Foundation
import Testing
@testable import Shared

@Suite("HTTP response headers as curl hands them over")
struct HTTPHeaderTests {
    @Test("names lowercased, values trimmed, a new status line starts afresh")
    func headers() {
        let sink = ResponseSink()
        for line in ["HTTP/1.1 100 Continue\r\n", "X-Stale: 1\r\n", "\r\n", "HTTP/1.1 200 OK\r\n", "X-RateLimit-Remaining: 4\r\n",
                     "Content-Type:application/json \r\n", "Location:  http://127.0.0.1:8080/a?b=c:d\t\r\n", "no colon here\r\n",
                     "X-Empty:\r\n", "Retry-After: 1.5\n"] {
            Array(line.utf8).withUnsafeBytes { sink.addHeaderLine($0) }
        }
        #expect(sink.headers == [
            "x-ratelimit-remaining": "4", "content-type": "application/json", "location": "http://127.0.0.1:8080/a?b=c:d",
            "x-empty": "", "retry-after": "1.5",
        ])
    }
}

@Suite("HMACTag")
struct HMACTagTests {
    @Test("base64url without padding, as Foundation's base64 with the URL alphabet", arguments: Array(0...40))
    func base64URL(length: Int) {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20 {
            let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let expected = Data(bytes).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
            #expect(HMACTag.base64URL(bytes) == expected)
        }
    }

    @Test("a tag is HMAC-SHA256's prefix under the key, and only it matches")
    func tags() {
        let tag = HMACTag(key: "k", length: 12)
        // HMAC-SHA256("k", "request") computed independently, first 12 bytes, base64url.
        let mac = HMAC<SHA256>.authenticationCode(for: Data("request".utf8), using: SymmetricKey(data: Data("k".utf8)))
        #expect(tag.tag("request") == HMACTag.base64URL(Array(mac.prefix(12))))
        #expect(tag.tag("request").count == 16)
        #expect(tag.matches(Substring(tag.tag("request")), for: "request"))
        #expect(!tag.matches(Substring(tag.tag("other")), for: "request"))
        #expect(!HMACTag(key: "k2", length: 12).matches(Substring(tag.tag("request")), for: "request"))
    }
}
