/// A Redis stream entry id, `<milliseconds>-<sequence>`, ordered as Redis orders them.
public struct StreamID: Sendable, Comparable, CustomStringConvertible {
    public var milliseconds: UInt64
    public var sequence: UInt64

    public init(milliseconds: UInt64, sequence: UInt64 = 0) {
        self.milliseconds = milliseconds
        self.sequence = sequence
    }

    /// Parses `1718000000000-3` (or `1718000000000`, sequence 0); nil for anything else.
    public init?(_ text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let milliseconds = UInt64(parts[0]) else { return nil }
        let sequence = parts.count == 2 ? UInt64(parts[1]) : 0
        guard let sequence else { return nil }
        self.init(milliseconds: milliseconds, sequence: sequence)
    }

    /// The smallest id after this one.
    public var next: StreamID {
        sequence == .max ? StreamID(milliseconds: milliseconds + 1) : StreamID(milliseconds: milliseconds, sequence: sequence + 1)
    }

    public var description: String { "\(milliseconds)-\(sequence)" }

    public static func < (lhs: StreamID, rhs: StreamID) -> Bool {
        (lhs.milliseconds, lhs.sequence) < (rhs.milliseconds, rhs.sequence)
    }
}

/// Where the janitor may trim a stream (CONTRACT section 9): the `MINID` below which every entry
/// is older than the retention and no consumer group still needs it.
public enum RetentionPlan {
    /// How far one consumer group on the stream has got.
    public struct Group: Sendable, Equatable {
        public var name: String
        /// `last-delivered-id`: the group has read everything up to here.
        public var lastDelivered: StreamID
        /// The smallest entry it read but has not acknowledged; nil when none is pending.
        public var oldestPending: StreamID?

        public init(name: String, lastDelivered: StreamID, oldestPending: StreamID?) {
            self.name = name
            self.lastDelivered = lastDelivered
            self.oldestPending = oldestPending
        }

        /// The first entry this group still needs: its oldest pending entry, else the first one
        /// after what it has read.
        public var floor: StreamID { oldestPending ?? lastDelivered.next }
    }

    /// The id to trim below (`XTRIM key MINID <id>`), or nil to trim nothing: entries older than
    /// `keepMilliseconds` at `nowMilliseconds`, and below every group's floor.
    public static func minID(groups: [Group], nowMilliseconds: UInt64, keepMilliseconds: UInt64) -> StreamID? {
        guard nowMilliseconds > keepMilliseconds else { return nil }
        var limit = StreamID(milliseconds: nowMilliseconds - keepMilliseconds)
        for group in groups { limit = min(limit, group.floor) }
        return limit > StreamID(milliseconds: 0, sequence: 1) ? limit : nil
    }

    /// What kind of stream it is, which sets how long its entries are kept.
    public enum Kind: Sendable, Equatable {
        /// The connector's own streams (inbound, its inbox, the agents' outboxes, the reply
        /// partitions): `ACKED_RETENTION` once every group has them, `STREAM_RETENTION` when the
        /// stream has no group yet (nothing has read it: its reader has not started).
        case connector
        /// An agent's inbox: `STREAM_RETENTION` (the agent may read it without a group).
        case agentInbox
        /// `discord:dead`: `DEAD_LETTER_RETENTION`.
        case deadLetters
    }

    /// Seconds an entry of a stream of `kind` is kept, given whether the stream has groups.
    public static func keepSeconds(_ kind: Kind, hasGroups: Bool, streamRetention: Int, ackedRetention: Int, deadLetterRetention: Int) -> Int {
        switch kind {
        case .connector: hasGroups ? ackedRetention : streamRetention
        case .agentInbox: streamRetention
        case .deadLetters: deadLetterRetention
        }
    }
}
