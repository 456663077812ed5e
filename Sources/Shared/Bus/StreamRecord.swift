/// A record that travels as the fields of one stream entry; one definition per record type.
public protocol StreamRecord: Sendable, Equatable {
    /// The fields in a stable order, as written to Redis.
    var fields: [(String, String)] { get }
    init(fields: [String: String]) throws(RecordError)
}

/// A stream entry that cannot be read as the record it should be.
public struct RecordError: Error, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }

    static func missing(_ field: String, in record: String) -> RecordError {
        RecordError("\(record) has no '\(field)' field")
    }
}

extension Dictionary where Key == String, Value == String {
    func required(_ field: String, in record: String) throws(RecordError) -> String {
        guard let value = self[field], !value.isEmpty else { throw .missing(field, in: record) }
        return value
    }
}
