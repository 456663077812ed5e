import Foundation
import Logging

/// `LOG_FORMAT=json`: one JSON object per line on stderr, for log collectors.
///
///     {"ts":"2025-01-31T12:00:00.123Z","level":"info","label":"Dispatcher","message":"...","request_id":"..."}
///
/// `ts` (UTC, milliseconds), `level`, `label` and `message` come first; the metadata (the
/// logger's, the provider's and the line's) follows as further fields, strings as strings and
/// nested metadata as JSON objects and arrays. A metadata key that would shadow one of the four
/// is written with a `meta_` prefix. Secrets never reach a log line: the configuration and the
/// token are redacted where they are formatted.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private let write: @Sendable (String) -> Void

    public init(label: String, metadataProvider: Logger.MetadataProvider? = nil, write: @escaping @Sendable (String) -> Void = JSONLogHandler.writeToStandardError) {
        self.label = label
        self.metadataProvider = metadataProvider
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields = metadata
        if let provided = metadataProvider?.get() { fields.merge(provided) { _, new in new } }
        if let own = event.metadata { fields.merge(own) { _, new in new } }

        var line = "{\"ts\":\"" + Self.timestamp() + "\",\"level\":\"" + event.level.rawValue + "\",\"label\":"
        Self.appendString(label, to: &line)
        line += ",\"message\":"
        Self.appendString(event.message.description, to: &line)
        for key in fields.keys.sorted() {
            line += ","
            Self.appendString(Self.reserved.contains(key) ? "meta_" + key : key, to: &line)
            line += ":"
            Self.appendValue(fields[key]!, to: &line)
        }
        line += "}\n"
        write(line)
    }

    private static let reserved: Set<String> = ["ts", "level", "label", "message"]

    /// One write per line under a lock, so lines from several threads never interleave.
    public static let writeToStandardError: @Sendable (String) -> Void = { line in
        outputLock.withLock { FileHandle.standardError.write(Data(line.utf8)) }
    }

    private static let outputLock = NSLock()

    /// `2025-01-31T12:00:00.123Z`.
    static func timestamp() -> String {
        let now = Date().timeIntervalSince1970
        var seconds = time_t(now.rounded(.down))
        let milliseconds = Int32((now - now.rounded(.down)) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return pad(parts.tm_year + 1900, 4) + "-" + pad(parts.tm_mon + 1, 2) + "-" + pad(parts.tm_mday, 2)
            + "T" + pad(parts.tm_hour, 2) + ":" + pad(parts.tm_min, 2) + ":" + pad(parts.tm_sec, 2)
            + "." + pad(min(milliseconds, 999), 3) + "Z"
    }

    static func appendValue(_ value: Logger.Metadata.Value, to line: inout String) {
        switch value {
        case .string(let string):
            appendString(string, to: &line)
        case .stringConvertible(let convertible):
            appendString(convertible.description, to: &line)
        case .array(let values):
            line += "["
            for (index, element) in values.enumerated() {
                if index > 0 { line += "," }
                appendValue(element, to: &line)
            }
            line += "]"
        case .dictionary(let dictionary):
            line += "{"
            for (index, key) in dictionary.keys.sorted().enumerated() {
                if index > 0 { line += "," }
                appendString(key, to: &line)
                line += ":"
                appendValue(dictionary[key]!, to: &line)
            }
            line += "}"
        }
    }

    /// A JSON string literal (RFC 8259): quotes, backslashes and control characters escaped.
    static func appendString(_ string: String, to line: inout String) {
        line += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": line += "\\\""
            case "\\": line += "\\\\"
            case "\n": line += "\\n"
            case "\r": line += "\\r"
            case "\t": line += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                line += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                line.unicodeScalars.append(scalar)
            }
        }
        line += "\""
    }
}
