/// A record that travels as the fields of one stream entry; one definition per record type.
public protocol StreamRecord: Sendable, Equatable {
    /// The fields in a stable order, as written to Redis.
    var fields: [(String, String)] { get }
    /// The fields as an `XADD` or `HSET` writes them: `fields`, plus any binary ones.
    var streamFields: StreamFields { get }
    init(fields: StreamFields) throws(RecordError)
}

extension StreamRecord {
    public var streamFields: StreamFields { StreamFields(fields) }

    /// Reads a record from fields given by name (tests, tools).
    public init(fields dictionary: [String: String]) throws(RecordError) {
        try self.init(fields: StreamFields(dictionary))
    }
}

/// A stream entry that cannot be read as the record it should be.
public struct RecordError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }

    static func missing(_ field: String, in record: String) -> RecordError {
        RecordError("\(record) has no '\(field)' field")
    }
}

extension StreamFields {
    func required(_ field: String, in record: String) throws(RecordError) -> String {
        guard let value = self[field], !value.isEmpty else { throw .missing(field, in: record) }
        return value
    }
}
