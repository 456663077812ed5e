// libFuzzer entry point for the parsers in Sources/Shared that take outside input.
//
// The first input byte picks the target (see `targets`), the rest is the target's input: as
// text (decoded with `String(decoding:as: UTF8.self)`, so invalid UTF-8 is repaired the way
// the services repair it), as raw bytes (for JSONDecoder), or as a field dictionary (for the
// bus records). Broken invariants call `fatalError`, which libFuzzer reports as a crash.
//
// Built by Fuzz/run.sh with `swiftc -sanitize=fuzzer,address`; see docs/FUZZING.md.
import Crypto
import Foundation

/// The targets, in selector order: an input whose first byte is `UInt8(ascii: "0") + n` (or any
/// byte `b` with `b % targets.count == n` outside "0"..."9", "a"..."z") runs target `n`.
nonisolated(unsafe) let targets: [(name: String, run: (FuzzInput) -> Void)] = [
    ("gateway frame (text)", fuzzGatewayFrame),                 // 0
    ("gateway dispatch wrapping a payload", fuzzGatewayDispatch), // 1
    ("Discord models (JSONDecoder, raw bytes)", fuzzModels),      // 2
    ("reply tokens: ackIDs/ctxTokens/strip/neutralise", fuzzReplyTokens), // 3
    ("reply splitter", fuzzSplitter),                             // 4
    ("bus records from fields", fuzzRecords),                     // 5
    ("reply resolution and ctx signer", fuzzResolution),          // 6
    ("agent inbox text neutralisation", fuzzInboxText),           // 7
    (".env parser", fuzzDotEnv),                                  // 8
    ("Redis URL parser", fuzzRedisURL),                           // 9
    ("agent map (MUMEGA_AGENT_MAP)", fuzzAgentMap),               // a
    ("rate-limit headers and 429 body", fuzzRateLimit),           // b
    ("channel catalog resolve", fuzzChannelCatalog),              // c
    ("Redis stream replies (StreamEntry)", fuzzStreamEntries),    // d
]

func selectTarget(_ byte: UInt8) -> Int {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(byte - UInt8(ascii: "0")) % targets.count
    case UInt8(ascii: "a")...UInt8(ascii: "z"): return Int(byte - UInt8(ascii: "a") + 10) % targets.count
    default: return Int(byte) % targets.count
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let input = FuzzInput(bytes: Array(bytes.dropFirst()))
    targets[selectTarget(bytes[0])].run(input)
    return 0
}

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(_ argc: UnsafeMutableRawPointer?, _ argv: UnsafeMutableRawPointer?) -> CInt {
    cryptoShimSelfTest()
    return 0
}

/// Invariants known to be broken in Sources (each with a test in FuzzRegressionTests), which a
/// run tolerates when named in FUZZ_KNOWN_ISSUES (comma-separated), so it can look for others.
let knownIssues: Set<String> = Set(
    (ProcessInfo.processInfo.environment["FUZZ_KNOWN_ISSUES"] ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
)

/// Traps with a message: libFuzzer saves the input as a crash artifact.
func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) {
    if !condition() {
        fatalError("fuzz invariant broken: \(message())", file: file, line: line)
    }
}

/// One fuzz input, viewed the ways the targets need it.
struct FuzzInput {
    var bytes: [UInt8]

    /// Lossy UTF-8 decoding: invalid sequences become U+FFFD, as in the services.
    var text: String { String(decoding: bytes, as: UTF8.self) }
    var data: Data { Data(bytes) }

    /// The first byte as a parameter and the rest as text.
    var parameterAndText: (UInt8, String) {
        guard let first = bytes.first else { return (0, "") }
        return (first, String(decoding: bytes.dropFirst(), as: UTF8.self))
    }

    /// The bytes split on NUL into key, value, key, value... A one-byte key names one of
    /// `knownKeys` (so that the fuzzer easily hits the fields the records require); a longer
    /// key is taken literally.
    func fields(knownKeys: [String]) -> [String: String] {
        let parts = bytes.split(separator: 0, omittingEmptySubsequences: false)
        var fields: [String: String] = [:]
        var index = 0
        while index < parts.count {
            let rawKey = parts[index]
            let key = rawKey.count == 1 ? knownKeys[Int(rawKey.first!) % knownKeys.count] : String(decoding: rawKey, as: UTF8.self)
            let value = index + 1 < parts.count ? String(decoding: parts[index + 1], as: UTF8.self) : ""
            fields[key] = value
            index += 2
        }
        return fields
    }
}

/// Every field name the bus records read.
let recordKeys = [
    "from", "to", "text", "reply_to", "source", "request_id", "kind", "guild_id", "channel_id",
    "thread_id", "message_id", "author_id", "author_name", "content", "ts", "channel_name",
    "guild_name", "agent", "ack_for", "rig_name",
]

/// The shim's SHA-256 and HMAC against FIPS 180-2 and RFC 4231 vectors, so that what the harness
/// checks about CtxSigner holds for the real swift-crypto too.
func cryptoShimSelfTest() {
    check(hexString(SHA256.hash(data: Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", "SHA-256 shim: abc")
    check(hexString(SHA256.hash(data: Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", "SHA-256 shim: two blocks")
    check(hexString(SHA256.hash(data: [UInt8]())) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "SHA-256 shim: empty")
    let mac = HMAC<SHA256>.authenticationCode(for: Data("what do ya want for nothing?".utf8), using: SymmetricKey(data: Data("Jefe".utf8)))
    check(hexString(mac) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", "HMAC-SHA-256 shim: RFC 4231 case 2")
    let longKey = SymmetricKey(data: [UInt8](repeating: 0xaa, count: 131))
    let mac6 = HMAC<SHA256>.authenticationCode(for: Data("Test Using Larger Than Block-Size Key - Hash Key First".utf8), using: longKey)
    check(hexString(mac6) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54", "HMAC-SHA-256 shim: RFC 4231 case 6")
}
