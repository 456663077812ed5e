import Foundation
import Shared

/// The optional JSONL sink (`INBOX_JSONL_PATH`): every message delivered to an agent is also
/// appended to a file as one JSON line, for tools that read files rather than Redis.
///
/// Each line goes out in a single `write(2)` on a descriptor opened with `O_APPEND`, so lines
/// from several Dispatchers never interleave; it is on disk for other readers as soon as the call
/// returns. A Dispatcher killed between the Redis delivery and this write loses the line (never
/// the inbox record, which is the source of truth).
final class InboxJournal: Sendable {
    private let descriptor: Int32
    let path: String

    init(path: String) throws {
        self.path = path
        descriptor = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ConfigError(variable: "INBOX_JSONL_PATH", problem: "cannot open '\(path)' for appending: \(String(cString: strerror(errno)))")
        }
    }

    deinit { close(descriptor) }

    /// One line: `timestamp`, `subject` ("Discord #channel from author"), `body`, and the record's fields.
    func append(_ record: AgentInboxRecord) throws {
        var object: [String: String] = Dictionary(record.fields, uniquingKeysWith: { _, last in last })
        object["timestamp"] = ISO8601.string(Date())
        let place = record.message.kind == .dm ? "DM" : "#" + (record.message.channelName.isEmpty ? record.message.channelID : record.message.channelName)
        object["subject"] = "Discord \(place) from \(record.message.authorName)"
        object["body"] = record.message.content
        var line = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        line.append(UInt8(ascii: "\n"))
        let written = line.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == line.count else {
            throw ConfigError(variable: "INBOX_JSONL_PATH", problem: "short write to '\(path)': \(String(cString: strerror(errno)))")
        }
    }
}
