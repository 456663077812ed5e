import Foundation
import Logging
import Shared

/// A plain text table: a header row and left-aligned columns, numbers right-aligned.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []
    /// Columns whose cells are right-aligned.
    var rightAligned: Set<Int> = []

    init(_ header: [String], rightAligned: Set<Int> = []) {
        self.header = header
        self.rightAligned = rightAligned
    }

    mutating func add(_ row: [String]) { rows.append(row) }

    var rendered: String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.indices.map { column in
                let cell = row[column]
                let padding = String(repeating: " ", count: max(0, widths[column] - cell.count))
                return rightAligned.contains(column) ? padding + cell : cell + padding
            }
            .joined(separator: "  ")
            .replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
        }
        .joined(separator: "\n")
    }
}

/// `850ms`, `4.2s`, `3m 04s`, `2h 05m`, `3d 4h`.
/// Bytes for people: `512 B`, `3.4 KB`, `12.0 MB` (powers of 1,024).
func formatBytes(_ bytes: Int) -> String {
    if bytes < 1024 { return "\(bytes) B" }
    let units = ["KB", "MB", "GB", "TB"]
    var value = Double(bytes) / 1024
    var unit = 0
    while value >= 1024, unit < units.count - 1 {
        value /= 1024
        unit += 1
    }
    return String(format: "%.1f", value) + " " + units[unit]
}

func formatDuration(milliseconds: Int) -> String {
    let ms = max(0, milliseconds)
    if ms < 1_000 { return "\(ms)ms" }
    if ms < 60_000 { return String(format: "%.1fs", Double(ms) / 1000) }
    let seconds = ms / 1000
    if seconds < 3_600 { return String(format: "%dm %02ds", seconds / 60, seconds % 60) }
    if seconds < 86_400 { return String(format: "%dh %02dm", seconds / 3600, (seconds % 3600) / 60) }
    return "\(seconds / 86_400)d \((seconds % 86_400) / 3600)h"
}

/// The milliseconds part of a stream entry id (`<ms>-<seq>`).
func streamIDMilliseconds(_ id: String) -> Int? {
    Int(id.split(separator: "-", maxSplits: 1).first ?? "")
}

/// ISO-8601 with milliseconds, UTC.
func isoTimestamp(milliseconds: Int) -> String {
    ISO8601.string(milliseconds: milliseconds)
}

/// A stream entry for display and replay: its fields in the order Redis keeps them, as text.
struct OrderedEntry: Encodable {
    var id: String
    var fields: [(String, String)]

    init(_ entry: StreamEntry) {
        id = entry.id
        fields = entry.fields.map { ($0.name, $0.value.string) }
    }

    var map: [String: String] { Dictionary(fields, uniquingKeysWith: { _, last in last }) }

    /// Decodes `[[id, [f, v, ...]], ...]`.
    static func list(from value: RedisValue) throws(RedisError) -> [OrderedEntry] {
        try StreamEntry.list(from: value).map(OrderedEntry.init)
    }

    /// Decodes an `XREAD` reply (`[[stream, entries], ...]`, or nil on timeout).
    static func fromRead(_ value: RedisValue) throws(RedisError) -> [OrderedEntry] {
        try StreamEntry.fromRead(value).map(OrderedEntry.init)
    }

    enum CodingKeys: String, CodingKey { case id, fields, time }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(map, forKey: .fields)
        try container.encode(streamIDMilliseconds(id).map(isoTimestamp), forKey: .time)
    }

    /// `<id>  <time>` and one indented `field: value` line per field (continuation lines
    /// indented further).
    var humanReadable: String {
        var lines = [id + (streamIDMilliseconds(id).map { "  " + isoTimestamp(milliseconds: $0) } ?? "")]
        let width = fields.map(\.0.count).max() ?? 0
        for (field, value) in fields {
            let padded = field + ":" + String(repeating: " ", count: width - field.count)
            let indent = String(repeating: " ", count: width + 4)
            lines.append("  \(padded) " + value.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n" + indent))
        }
        return lines.joined(separator: "\n")
    }
}

/// For the Shared parts the CLI uses: their warnings would mix with the command's output, and
/// every failure reaches the user as the command's error instead.
let quietLogger: Logger = {
    var logger = Logger(label: "connector")
    logger.logLevel = .critical
    return logger
}()
