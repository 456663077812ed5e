/// One entry of a Redis stream: its id and its fields.
public struct StreamEntry: Sendable, Equatable {
    public var id: String
    public var fields: [String: String]

    public init(id: String, fields: [String: String]) {
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
            entries.append(StreamEntry(id: id, fields: pair[1].fieldMap))
        }
        return entries
    }

    /// Decodes an `XREADGROUP`/`XREAD` reply: `[[stream, entries], ...]` or nil on timeout.
    public static func fromRead(_ value: RedisValue) throws(RedisError) -> [StreamEntry] {
        if value.isNull { return [] }  // BLOCK timed out
        guard let streams = value.array else {
            throw RedisError(.protocolViolation, "expected an XREAD reply, got \(value)")
        }
        var entries: [StreamEntry] = []
        for stream in streams {
            guard let pair = stream.array, pair.count == 2 else {
                throw RedisError(.protocolViolation, "malformed XREAD reply \(stream)")
            }
            entries += try list(from: pair[1])
        }
        return entries
    }
}

/// Builds `[field, value, ...]` argument lists in a stable order.
public func flattenFields(_ fields: [(String, String)]) -> [String] {
    var arguments: [String] = []
    arguments.reserveCapacity(fields.count * 2)
    for (field, value) in fields {
        arguments.append(field)
        arguments.append(value)
    }
    return arguments
}
