/// The Lua scripts that make each stage's bus write atomic.
public enum BusScripts {
    /// Ingest: accept a Discord message once. Marks the message id as seen, stores the pending
    /// reply context, appends the `InboundMessage`, advances the channel's catch-up cursor and
    /// schedules the unanswered notice, all or nothing. A message id seen before (a resume
    /// replay, a catch-up overlap, a duplicate dispatch) writes nothing and returns 0.
    ///
    /// KEYS: seen marker, pending hash, inbound stream, cursor hash, unanswered zset.
    /// ARGV: ttl seconds, cursor channel id, message id, notice due (ms, 0 for none), request id,
    /// pending field count N, N field/value pairs, then the stream entry's field/value pairs.
    public static let acceptInbound = LuaScript(keys: ["seen marker", "pending hash", "inbound stream", "cursor hash", "unanswered zset"], """
    if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return 0 end
    local n = tonumber(ARGV[6])
    local pending = {}
    for i = 7, 6 + 2 * n do pending[#pending + 1] = ARGV[i] end
    redis.call('HSET', KEYS[2], unpack(pending))
    redis.call('EXPIRE', KEYS[2], ARGV[1])
    local entry = {}
    for i = 7 + 2 * n, #ARGV do entry[#entry + 1] = ARGV[i] end
    redis.call('XADD', KEYS[3], '*', unpack(entry))
    -- Snowflakes exceed Lua's exact integers: compare them as decimal strings. No cursor
    -- channel (an interaction): nothing to catch up later.
    if ARGV[2] ~= '' then
        local cursor = redis.call('HGET', KEYS[4], ARGV[2])
        if (not cursor) or #ARGV[3] > #cursor or (#ARGV[3] == #cursor and ARGV[3] > cursor) then
            redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
        end
    end
    if tonumber(ARGV[4]) > 0 then redis.call('ZADD', KEYS[5], ARGV[4], ARGV[5]) end
    return 1
    """)

    /// Redis Cluster (`InboundAcceptor`): store a hash that expires, in one step.
    ///
    /// KEYS: hash. ARGV: seconds, then field/value pairs.
    public static let storeHash = LuaScript(keys: ["hash"], """
    local fields = {}
    for i = 2, #ARGV do fields[#fields + 1] = ARGV[i] end
    redis.call('HSET', KEYS[1], unpack(fields))
    redis.call('EXPIRE', KEYS[1], ARGV[1])
    return 1
    """)

    /// Redis Cluster (`InboundAcceptor`): move a channel's catch-up cursor forward to a message
    /// id, never back (as `acceptInbound` does on one Redis).
    ///
    /// KEYS: cursor hash. ARGV: channel id, message id.
    public static let advanceCursor = LuaScript(keys: ["cursor hash"], """
    local cursor = redis.call('HGET', KEYS[1], ARGV[1])
    if (not cursor) or #ARGV[2] > #cursor or (#ARGV[2] == #cursor and ARGV[2] > cursor) then
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        return 1
    end
    return 0
    """)

    /// Dispatcher: move one inbound entry to an agent's inbox. Acknowledges the inbound entry and
    /// appends the inbox record together; if the entry was already acknowledged (another
    /// consumer claimed and finished it), appends nothing and returns 0.
    ///
    /// KEYS: inbound stream, agent inbox stream, and optionally the request's pending hash,
    /// which learns the agent's name (for the unanswered notice) if it still exists.
    /// ARGV: group, entry id, agent name, then field/value pairs.
    public static let forwardToInbox = LuaScript(keys: ["source stream", "target stream", "pending hash"], optional: 1, """
    if redis.call('XACK', KEYS[1], ARGV[1], ARGV[2]) == 0 then return 0 end
    local entry = {}
    for i = 4, #ARGV do entry[#entry + 1] = ARGV[i] end
    redis.call('XADD', KEYS[2], '*', unpack(entry))
    if KEYS[3] and ARGV[3] ~= '' and redis.call('EXISTS', KEYS[3]) == 1 then redis.call('HSET', KEYS[3], 'agent', ARGV[3]) end
    return 1
    """)

    /// Redis Cluster (`BusMove`, `InboundAcceptor`): append the entry to KEYS[1] unless its marker
    /// KEYS[2] (in the same slot) exists; set the marker for ARGV[1] seconds. Returns the new
    /// entry's id, or nil when the entry was appended before.
    ///
    /// KEYS: target stream, marker. ARGV: marker seconds, then field/value pairs.
    public static let appendOnce = LuaScript(keys: ["target stream", "marker"], """
    if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) == false then return false end
    local entry = {}
    for i = 2, #ARGV do entry[#entry + 1] = ARGV[i] end
    return redis.call('XADD', KEYS[1], '*', unpack(entry))
    """)

    /// Sets one field of a hash only if the hash exists (an expired pending context stays gone).
    ///
    /// KEYS: hash. ARGV: field, value.
    public static let setIfExists = LuaScript(keys: ["hash"], """
    if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
    return 0
    """)

    /// Any stage: move an entry that can never succeed to the dead-letter stream and
    /// acknowledge it, in that order and in one step. If the dead letter cannot be written
    /// (the key holds another type, memory is full), the script fails before the acknowledgement
    /// and the entry stays pending: a dead letter is never lost.
    ///
    /// KEYS: dead-letter stream, source stream. ARGV: group, entry id, then field/value pairs.
    public static let deadLetter = LuaScript(keys: ["dead-letter stream", "source stream"], """
    local entry = {}
    for i = 3, #ARGV do entry[#entry + 1] = ARGV[i] end
    redis.call('XADD', KEYS[1], '*', unpack(entry))
    return redis.call('XACK', KEYS[2], ARGV[1], ARGV[2])
    """)

    /// `connector dead replay`: put a dead letter's original fields back on its stream, then
    /// remove the dead letter; if the append fails, the dead letter stays. Returns the new
    /// entry's id, or nil when the dead letter is gone (replayed or removed meanwhile).
    ///
    /// KEYS: dead-letter stream, target stream. ARGV: dead letter id, then field/value pairs.
    public static let replayDeadLetter = LuaScript(keys: ["dead-letter stream", "target stream"], """
    if #redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1]) == 0 then return false end
    local entry = {}
    for i = 2, #ARGV do entry[#entry + 1] = ARGV[i] end
    local id = redis.call('XADD', KEYS[2], '*', unpack(entry))
    redis.call('XDEL', KEYS[1], ARGV[1])
    return id
    """)
}
