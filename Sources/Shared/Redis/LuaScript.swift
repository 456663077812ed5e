import Crypto

/// A Lua script with its SHA-1, run with `EVALSHA` so its body is sent once per server.
///
/// A script names every key it touches, in `KEYS` order: it builds no key names inside Lua, so
/// the Redis layer knows all of them (for slot routing and for checking that they share one).
public struct LuaScript: Sendable {
    public let source: String
    public let sha1: String
    /// The names of its `KEYS`, in order, for documentation and for checking calls.
    public let keyNames: [String]
    /// How many of the trailing keys a call may leave out.
    public let optionalKeys: Int

    public init(keys keyNames: [String], optional optionalKeys: Int = 0, _ source: String) {
        self.source = source
        self.sha1 = hexString(Insecure.SHA1.hash(data: Array(source.utf8)))
        self.keyNames = keyNames
        self.optionalKeys = optionalKeys
    }

    /// One call of the script with its keys and arguments.
    public func call(keys: [String], arguments: [RedisBytes]) -> ScriptCall {
        precondition(
            (keyNames.count - optionalKeys...keyNames.count).contains(keys.count),
            "script with KEYS \(keyNames) called with \(keys.count) keys"
        )
        return ScriptCall(script: self, keys: keys, arguments: arguments)
    }
}

/// `EVALSHA sha numkeys key... arg...`; `RedisClient.run` falls back to `EVAL` on `NOSCRIPT`.
public struct ScriptCall: RedisCommand {
    public let script: LuaScript
    public let keys: [String]
    public let arguments: [RedisBytes]

    public var request: RedisRequest {
        RedisRequest(["EVALSHA", RedisBytes(script.sha1), RedisBytes(keys.count)] + keys.map { RedisBytes($0) } + arguments, keys: keys)
    }

    /// The same call sending the script's body, for a server that does not have it cached.
    public var evalRequest: RedisRequest {
        RedisRequest(["EVAL", RedisBytes(script.source), RedisBytes(keys.count)] + keys.map { RedisBytes($0) } + arguments, keys: keys)
    }

    /// Scripts answer in their own shapes; their callers read the reply.
    public func decode(_ reply: RedisValue) throws(RedisError) -> RedisValue { reply }
}
