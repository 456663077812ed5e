/// The Lua scripts that make each stage's bus write atomic.
public enum BusScripts {
    /// Ingest: accept a Discord message once. Marks the message id as seen, stores the pending
    /// reply context and appends the `InboundMessage`, all or nothing; a message id seen before
    /// (a resume replay, a duplicate dispatch) writes nothing and returns 0.
    ///
    /// KEYS: seen marker, pending hash, inbound stream.
    /// ARGV: ttl seconds, pending field count N, N field/value pairs, then the stream's pairs.
    public static let acceptInbound = LuaScript("""
    if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
    local n = tonumber(ARGV[2])
    local pending = {}
    for i = 3, 2 + 2 * n do pending[#pending + 1] = ARGV[i] end
    redis.call('HSET', KEYS[2], unpack(pending))
    redis.call('EXPIRE', KEYS[2], ARGV[1])
    local entry = {}
    for i = 3 + 2 * n, #ARGV do entry[#entry + 1] = ARGV[i] end
    redis.call('XADD', KEYS[3], '*', unpack(entry))
    return 1
    """)

    /// Dispatcher: move one inbound entry to an agent's inbox. Acknowledges the inbound entry and
    /// appends the inbox record together; if the entry was already acknowledged (another
    /// consumer claimed and finished it), appends nothing and returns 0.
    ///
    /// KEYS: inbound stream, agent inbox stream. ARGV: group, entry id, then field/value pairs.
    public static let forwardToInbox = LuaScript("""
    if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
    local entry = {}
    for i = 3, #ARGV do entry[#entry + 1] = ARGV[i] end
    redis.call('XADD', KEYS[2], '*', unpack(entry))
    return 1
    """)
}
