import ArgumentParser
import Foundation
import Shared

struct Attachment: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Files people attached to their Discord messages (CONTRACT section 8).",
        subcommands: [Get.self]
    )

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download the n-th file (1-based) of a message delivered to an agent.",
            discussion: """
            The message is looked up in the inbound streams (newest first) unless --channel names its \
            channel (or thread). Discord's file URLs expire, so with DISCORD_BOT_TOKEN set the \
            message is read again from Discord for a fresh URL; without one the URL recorded at \
            delivery is used. The file is written to --output (default: its own name in the \
            current directory; - for standard output), and refused over --max-bytes.
            """
        )

        @OptionGroup var options: ConfigOptions
        @Argument(help: "The Discord message id (message_id of the agent's record).") var messageID: String
        @Argument(help: "Which file: 1 for the first (the order of the record's attachments).") var n: Int = 1
        @Option(help: ArgumentHelp("The message's channel or thread id (skips the look-up on the bus).", valueName: "id")) var channel: String?
        @Option(name: [.short, .long], help: ArgumentHelp("Where to write the file; - for standard output.", valueName: "path")) var output: String?
        @Option(name: .customLong("max-bytes"), help: ArgumentHelp("The largest file accepted.", valueName: "bytes")) var maxBytes: Int = 25 * 1024 * 1024
        @Flag(help: "Print a JSON object (where the file went, its size and SHA-256).") var json = false

        func validate() throws {
            guard !messageID.isEmpty, messageID.allSatisfy(isDigit) else { throw ValidationError("message id must be digits, got '\(messageID.prefix(40))'") }
            if let channel, channel.isEmpty || !channel.allSatisfy(isDigit) { throw ValidationError("--channel must be a channel id (digits)") }
            guard n >= 1 else { throw ValidationError("n counts from 1") }
            guard maxBytes > 0 else { throw ValidationError("--max-bytes must be positive") }
        }

        func run() async throws {
            try await reportingErrors("attachment get") {
                let context = try BusContext(options)
                var recorded: [DiscordMessage.Attachment] = []
                let channelID: String
                if let channel {
                    channelID = channel
                } else {
                    let streams = context.keys.inboundStreams(count: context.config.inboundPartitions)
                    var found: AttachmentDownload.Delivery?
                    for stream in streams where found == nil {
                        found = try await AttachmentDownload.findDelivery(of: messageID, in: stream, redis: context.redis)
                    }
                    guard let delivery = found else {
                        throw CLIError("message \(messageID) is not in \(streams.joined(separator: ", ")) (never delivered, or trimmed); pass its channel with --channel")
                    }
                    channelID = delivery.channelID
                    recorded = delivery.attachments
                }
                let discord = context.config.discordToken.map {
                    DiscordClient(apiBase: context.config.apiBase, token: $0, limiter: nil, logger: quietLogger)
                }
                let (attachment, data): (DiscordMessage.Attachment, Data)
                do throws(AttachmentDownload.Failure) {
                    (attachment, data) = try await AttachmentDownload(discord: discord, maxBytes: maxBytes).fetch(channelID: channelID, messageID: messageID, index: n, recorded: recorded)
                } catch {
                    throw CLIError(error.description)
                }
                let path = output ?? Self.safeName(attachment.filename)
                if path == "-" {
                    FileHandle.standardOutput.write(data)
                } else {
                    guard FileManager.default.createFile(atPath: path, contents: data) else { throw CLIError("cannot write \(path)") }
                }
                let digest = sha256Hex(data)
                if json {
                    try printJSON(Result(filename: attachment.filename, path: path, size: data.count, sha256: digest, contentType: attachment.contentType))
                } else if path != "-" {
                    print("\(path): \(data.count) bytes, sha256 \(digest)")
                } else {
                    printError("\(attachment.filename): \(data.count) bytes, sha256 \(digest)")
                }
            }
        }

        /// A person's file name as a name in the current directory (no path, no hidden file).
        static func safeName(_ filename: String) -> String {
            var name = String(filename.split(separator: "/").last ?? "")
            while name.hasPrefix(".") { name.removeFirst() }
            return name.isEmpty ? "attachment" : name
        }

        struct Result: Encodable {
            var filename: String
            var path: String
            var size: Int
            var sha256: String
            var contentType: String?
            enum CodingKeys: String, CodingKey {
                case filename, path, size, sha256
                case contentType = "content_type"
            }
        }
    }
}
