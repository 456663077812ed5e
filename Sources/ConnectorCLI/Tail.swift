import ArgumentParser
import Foundation
import Shared

struct Tail: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Print a stream's last entries, oldest first; --follow keeps printing new ones.",
        discussion: "With --json each entry is one JSON object on its own line (JSON Lines)."
    )

    @OptionGroup var options: ConfigOptions
    @Argument(help: "The stream, e.g. discord:inbound or sos:inbox:kasra.") var stream: String
    @Option(name: .shortAndLong, help: "How many of the newest entries to print first.") var count: Int = 10
    @Flag(name: .shortAndLong, help: "Keep reading new entries (XREAD BLOCK) until Ctrl-C.") var follow = false
    @Flag(help: "One JSON object per entry and line.") var json = false

    func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be 0 or more") }
    }

    func run() async throws {
        try await reportingErrors("tail") {
            let context = try BusContext(options)
            let redis = context.redis
            let type = try await redis.send("TYPE", stream).string ?? "none"
            guard type == "stream" || type == "none" else {
                throw CLIError("\(stream) is a \(type), not a stream")
            }
            if type == "none", !follow { printError("connector tail: \(stream) is empty or does not exist") }
            var last = "0-0"
            if count > 0 {
                let newest = try OrderedEntry.list(from: try await redis.send("XREVRANGE", stream, "+", "-", "COUNT", String(count)))
                for entry in newest.reversed() { emit(entry) }
                if let first = newest.first { last = first.id }
            }
            if count == 0 || last == "0-0" {
                // Start after whatever is there now, even when nothing was printed.
                if let newestID = try OrderedEntry.list(from: try await redis.send("XREVRANGE", stream, "+", "-", "COUNT", "1")).first?.id {
                    last = newestID
                }
            }
            flushStandardOutput()
            guard follow else { return }
            while !Task.isCancelled {
                let reply = try await redis.send("XREAD", "COUNT", "100", "BLOCK", "1000", "STREAMS", stream, last)
                for entry in try OrderedEntry.fromRead(reply) {
                    emit(entry)
                    last = entry.id
                }
                flushStandardOutput()
            }
        }
    }

    private func emit(_ entry: OrderedEntry) {
        if json {
            if let line = try? JSONEncoder.sortedCompact.encode(entry) { print(String(decoding: line, as: UTF8.self)) }
        } else {
            print(entry.humanReadable)
        }
    }
}

extension JSONEncoder {
    static var sortedCompact: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
