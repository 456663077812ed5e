/// The fields of a stream entry (or a hash) in the order Redis keeps them, values byte for byte.
///
/// Reading a field by name decodes it as UTF-8; `bytes(_:)` returns it exactly, for fields that
/// carry files. The same value is what an `XADD` writes, so a record keeps its field order on
/// its way through the bus and back out (the CLI prints it as it was written).
public struct StreamFields: Sendable, Equatable, ExpressibleByDictionaryLiteral, ExpressibleByArrayLiteral, Sequence {
    public private(set) var pairs: [(name: String, value: RedisBytes)]

    public init() { pairs = [] }

    public init(_ pairs: [(String, String)]) {
        self.pairs = pairs.map { ($0.0, RedisBytes($0.1)) }
    }

    public init(bytes pairs: [(String, RedisBytes)]) {
        self.pairs = pairs.map { (name: $0.0, value: $0.1) }
    }

    /// A dictionary's fields, sorted by name (a dictionary has no order of its own).
    public init(_ dictionary: [String: String]) {
        self.init(dictionary.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        self.init(elements)
    }

    public init(arrayLiteral elements: (String, String)...) {
        self.init(elements)
    }

    /// A flat `[field, value, ...]` reply; a dangling field or a non-string name is skipped.
    init(flat reply: RedisValue) {
        pairs = []
        guard let items = reply.array else { return }
        pairs.reserveCapacity(items.count / 2)
        var index = 0
        while index + 1 < items.count {
            if let name = items[index].string { pairs.append((name, items[index + 1].bytes ?? RedisBytes([]))) }
            index += 2
        }
    }

    /// The first field of that name, as text.
    public subscript(name: String) -> String? {
        bytes(name)?.string
    }

    /// The first field of that name, byte for byte.
    public func bytes(_ name: String) -> RedisBytes? {
        pairs.first { $0.name == name }?.value
    }

    public mutating func append(_ name: String, _ value: String) {
        pairs.append((name, RedisBytes(value)))
    }

    public mutating func append(_ name: String, bytes value: RedisBytes) {
        pairs.append((name, value))
    }

    public mutating func append(contentsOf other: StreamFields) {
        pairs.append(contentsOf: other.pairs)
    }

    public var isEmpty: Bool { pairs.isEmpty }
    public var count: Int { pairs.count }
    public var names: [String] { pairs.map(\.name) }

    /// Field name -> text, the last of repeated names winning.
    public var dictionary: [String: String] {
        Dictionary(pairs.map { ($0.name, $0.value.string) }, uniquingKeysWith: { _, last in last })
    }

    /// `[field, value, ...]` as command arguments.
    public var flattened: [RedisBytes] {
        var arguments: [RedisBytes] = []
        arguments.reserveCapacity(pairs.count * 2)
        for (name, value) in pairs {
            arguments.append(RedisBytes(name))
            arguments.append(value)
        }
        return arguments
    }

    public func makeIterator() -> IndexingIterator<[(name: String, value: RedisBytes)]> { pairs.makeIterator() }

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.pairs.count == rhs.pairs.count && zip(lhs.pairs, rhs.pairs).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}

/// One entry of a Redis stream: its id and its fields, in order.
public struct StreamEntry: Sendable, Equatable {
    public var id: String
    public var fields: StreamFields

    public init(id: String, fields: StreamFields) {
        self.id = id
        self.fields = fields
    }

    /// Decodes `[[id, [f, v, ...]], ...]`. An entry deleted while pending (XAUTOCLAIM, XREADGROUP
    /// of history) comes back with a nil field array; it is returned with no fields.
    public static func list(from value: RedisValue) throws(RedisError) -> [StreamEntry] {
        guard let items = value.array else {
            if value.isNull { return [] }
            throw RedisError(.protocolViolation, "expected a list of stream entries, got \(value)")
        }
        var entries: [StreamEntry] = []
        entries.reserveCapacity(items.count)
        for item in items {
            guard let pair = item.array, pair.count == 2, let id = pair[0].string else {
                throw RedisError(.protocolViolation, "malformed stream entry \(item)")
            }
            entries.append(StreamEntry(id: id, fields: StreamFields(flat: pair[1])))
        }
        return entries
    }

    /// Decodes an `XREADGROUP`/`XREAD` reply: `[[stream, entries], ...]` or nil on timeout.
    public static func fromRead(_ value: RedisValue) throws(RedisError) -> [StreamEntry] {
        try byStream(value).flatMap(\.entries)
    }

    /// An `XREADGROUP`/`XREAD` reply stream by stream, for a read of several streams.
    public static func byStream(_ value: RedisValue) throws(RedisError) -> [(stream: String, entries: [StreamEntry])] {
        if value.isNull { return [] }  // BLOCK timed out
        guard let streams = value.array else {
            throw RedisError(.protocolViolation, "expected an XREAD reply, got \(value)")
        }
        var result: [(stream: String, entries: [StreamEntry])] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let name = pair[0].string else {
                throw RedisError(.protocolViolation, "malformed XREAD reply \(stream)")
            }
            result.append((name, try list(from: pair[1])))
        }
        return result
    }
}
