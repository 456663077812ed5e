/// Moves one consumed entry to another stream, exactly once: the forwarding step of every stage
/// (the Dispatcher to an agent's inbox, the Replier's routing to a partition, a dead letter).
///
/// On one Redis the move is one script (`BusScripts.forwardToInbox`, `BusScripts.deadLetter`):
/// acknowledge, append, in one step. In a Redis Cluster the source and target streams live in
/// different slots, where no script can touch both, so the move is an idempotent sequence:
/// 1. in the target's slot, one script appends the entry only if its marker
///    `<target>:moved:<source>:<entry id>` (`marker(target:source:entryID:)`) is new; the marker
///    expires after `markerTTL`, a day: far longer than an entry stays pending before it is
///    claimed (`CLAIM_IDLE_MS`);
/// 2. the pending context, if any, learns the agent (`HSET` if it still exists);
/// 3. the entry is acknowledged on the source.
/// A crash between the steps leaves the entry pending; whoever finishes it runs the sequence
/// again, and the marker makes step 1 a no-op: still exactly once.
public enum BusMove {
    /// Seconds a move's marker lives.
    public static let markerTTL = 86_400

    /// Answers whether this call acknowledged the entry (false: another consumer already had).
    public static func forward(
        redis: RedisClient, source: String, group: String, entryID: String, target: String,
        fields: StreamFields, pending: (key: String, agent: String)? = nil
    ) async throws(RedisError) -> Bool {
        guard await redis.url.isCluster else {
            return try await redis.run(BusScripts.forwardToInbox.call(
                keys: [source, target] + (pending.map { [$0.key] } ?? []),
                arguments: [RedisBytes(group), RedisBytes(entryID), RedisBytes(pending?.agent ?? "")] + fields.flattened
            )).int == 1
        }
        try await redis.run(BusScripts.appendOnce.call(
            keys: [target, marker(target: target, source: source, entryID: entryID)],
            arguments: [RedisBytes(Self.markerTTL)] + fields.flattened
        ))
        if let pending {
            try await redis.run(BusScripts.setIfExists.call(keys: [pending.key], arguments: ["agent", RedisBytes(pending.agent)]))
        }
        return try await redis.run(XACK(source, group: group, ids: [entryID])) == 1
    }

    /// Dead-letters a consumed entry: the dead letter first, then the acknowledgement (in one
    /// script on one Redis; in a cluster as `forward` does it, so a dead letter is never lost nor
    /// written twice).
    public static func deadLetter(redis: RedisClient, deadLetters: String, source: String, group: String, entryID: String, fields: StreamFields) async throws(RedisError) {
        guard await redis.url.isCluster else {
            try await redis.run(BusScripts.deadLetter.call(keys: [deadLetters, source], arguments: [RedisBytes(group), RedisBytes(entryID)] + fields.flattened))
            return
        }
        _ = try await forward(redis: redis, source: source, group: group, entryID: entryID, target: deadLetters, fields: fields)
    }

    /// `connector dead replay`: puts a dead letter's original fields back on their stream, then
    /// removes the dead letter (one script on one Redis; in a cluster the append is made once by
    /// its marker, as `forward` does). Answers the new entry's id; nil when the dead letter is
    /// gone (replayed or removed meanwhile).
    public static func replay(redis: RedisClient, deadLetters: String, deadID: String, target: String, fields: StreamFields) async throws(RedisError) -> String? {
        guard await redis.url.isCluster else {
            return try await redis.run(BusScripts.replayDeadLetter.call(keys: [deadLetters, target], arguments: [RedisBytes(deadID)] + fields.flattened)).string
        }
        guard !(try await redis.run(XRANGE(deadLetters, start: deadID, end: deadID))).isEmpty else { return nil }
        let appended = try await redis.run(BusScripts.appendOnce.call(
            keys: [target, marker(target: target, source: deadLetters, entryID: deadID)],
            arguments: [RedisBytes(Self.markerTTL)] + fields.flattened
        )).string
        try await redis.send("XDEL", deadLetters, deadID)
        return appended
    }

    /// The marker of a moved entry, in its target's slot: after the target's name when that
    /// has a hash tag of its own (`discord:{bus}:replies:3`), else with the name as the tag.
    static func marker(target: String, source: String, entryID: String) -> String {
        let suffix = ":moved:\(source):\(entryID)"
        if let open = target.firstIndex(of: "{"), let close = target[target.index(after: open)...].firstIndex(of: "}"), close > target.index(after: open) {
            return target + suffix
        }
        return "{\(target)}" + suffix
    }
}
