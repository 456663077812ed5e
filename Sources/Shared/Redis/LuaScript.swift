import Crypto

/// A Lua script with its SHA-1, run with `EVALSHA` so its body is sent once per server.
public struct LuaScript: Sendable {
    public let source: String
    public let sha1: String

    public init(_ source: String) {
        self.source = source
        self.sha1 = hexString(Insecure.SHA1.hash(data: Array(source.utf8)))
    }
}
