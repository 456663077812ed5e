import ArgumentParser
import Foundation
import Shared

struct Dead: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dead letters (discord:dead): list them, or replay one onto its stream.",
        subcommands: [List.self, Replay.self]
    )

    /// One dead letter: why it died, where it came from, and the original entry's fields.
    struct Letter: Encodable {
        var id: String
        var reason: String
        var stream: String
        var entryID: String
        var group: String
        var at: String
        var fields: [(String, String)]

        init(_ entry: OrderedEntry) {
            let map = entry.map
            id = entry.id
            reason = map["reason"] ?? ""
            stream = map["stream"] ?? ""
            entryID = map["entry_id"] ?? ""
            group = map["group"] ?? ""
            at = map["at"] ?? ""
            fields = entry.fields.compactMap { field, value in
                field.hasPrefix("field:") ? (String(field.dropFirst("field:".count)), value) : nil
            }
        }

        enum CodingKeys: String, CodingKey {
            case id, reason, stream, group, at, fields
            case entryID = "entry_id"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(reason, forKey: .reason)
            try container.encode(stream, forKey: .stream)
            try container.encode(entryID, forKey: .entryID)
            try container.encode(group, forKey: .group)
            try container.encode(at, forKey: .at)
            try container.encode(Dictionary(fields, uniquingKeysWith: { _, last in last }), forKey: .fields)
        }

        var humanReadable: String {
            var lines = ["\(id)  \(at.isEmpty ? (streamIDMilliseconds(id).map(isoTimestamp) ?? "") : at)  from \(stream) \(entryID)" + (group.isEmpty ? "" : " (group \(group))")]
            lines.append("  reason: \(reason)")
            let width = fields.map(\.0.count).max() ?? 0
            for (field, value) in fields {
                let indent = String(repeating: " ", count: width + 4)
                let shown = value.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\n" + indent)
                lines.append("  \(field):" + String(repeating: " ", count: width - field.count) + " " + shown)
            }
            return lines.joined(separator: "\n")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest dead letters, oldest first, each with its reason and original fields.")

        @OptionGroup var options: ConfigOptions
        @Option(name: .shortAndLong, help: "How many of the newest to show.") var count: Int = 20
        @Flag(help: "Print a JSON array.") var json = false

        func validate() throws {
            guard count > 0 else { throw ValidationError("--count must be at least 1") }
        }

        func run() async throws {
            try await reportingErrors("dead list") {
                let context = try BusContext(options)
                let entries = try OrderedEntry.list(from: try await context.redis.send("XREVRANGE", context.keys.deadLetters, "+", "-", "COUNT", String(count)))
                let letters = entries.reversed().map(Letter.init)
                if json {
                    try printJSON(letters)
                } else if letters.isEmpty {
                    print("No dead letters in \(context.keys.deadLetters).")
                } else {
                    let total = try await context.redis.send("XLEN", context.keys.deadLetters).int ?? letters.count
                    print(letters.map(\.humanReadable).joined(separator: "\n\n"))
                    if total > letters.count { print("\n(\(letters.count) newest of \(total); --count for more)") }
                }
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put a dead letter's original fields back on its stream and remove the dead letter.",
            discussion: """
            The new entry and the removal happen together (WATCH + MULTI/EXEC), so a replay never \
            doubles an entry or loses one. The stream's consumer group reads it as a new entry.
            """
        )

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The dead letter's id in discord:dead (see `connector dead list`).") var id: String
        @Flag(help: "Print a JSON object.") var json = false

        func run() async throws {
            try await reportingErrors("dead replay") {
                let context = try BusContext(options)
                let result = try await Self.replay(id, deadLetters: context.keys.deadLetters, redis: context.redis)
                if json {
                    try printJSON(result)
                } else {
                    print(result.newID)
                    printError("replayed \(id) onto \(result.stream) as \(result.newID)")
                }
            }
        }

        struct Result: Encodable {
            var deadID: String
            var stream: String
            var newID: String

            enum CodingKeys: String, CodingKey {
                case stream
                case deadID = "dead_id"
                case newID = "new_id"
            }
        }

        static func replay(_ id: String, deadLetters: String, redis: RedisClient) async throws -> Result {
            guard let entry = try await redis.run(XRANGE(deadLetters, start: id, end: id)).first else {
                throw CLIError("no dead letter \(id) in \(deadLetters) (see `connector dead list`)")
            }
            let stream = entry.fields["stream"] ?? ""
            // The original fields byte for byte (a file's bytes stay what they were).
            var original = StreamFields()
            for (name, value) in entry.fields where name.hasPrefix("field:") { original.append(String(name.dropFirst("field:".count)), bytes: value) }
            guard !stream.isEmpty, !original.isEmpty else {
                throw CLIError("dead letter \(id) has no source stream or no original fields; nothing to replay")
            }
            // The entry is put back first, and the dead letter removed only if that worked; a
            // concurrent replay that removed it first leaves nothing to do.
            let newID = try await BusMove.replay(redis: redis, deadLetters: deadLetters, deadID: id, target: stream, fields: original)
            guard let newID else { throw CLIError("dead letter \(id) was replayed or removed meanwhile") }
            return Result(deadID: id, stream: stream, newID: newID)
        }
    }
}
