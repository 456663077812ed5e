import ArgumentParser
import Foundation
import Shared

struct Send: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Post a message to a Discord channel by name, through the connector's inbox.",
        discussion: """
        The name is resolved first with the channels Ingest has seen (discord:channels) and \
        CHANNELS_FILE, so an unknown or ambiguous name fails here rather than as a dead letter. \
        The record (CONTRACT section 4) is added to sos:inbox:<CONNECTOR_AGENT_NAME> with both \
        channel_id and channel_name; the Replier posts it.
        """
    )

    @OptionGroup var options: ConfigOptions
    @Option(help: ArgumentHelp("The channel's name (`general`, `#general`) or id.", valueName: "name")) var channel: String
    @Option(help: ArgumentHelp("Prefix the text with `[name] `.", valueName: "name")) var rig: String?
    @Option(help: ArgumentHelp("The record's `from` field.", valueName: "name")) var from: String = "operator"
    @Argument(help: "The text to post (several words are joined with spaces).") var text: [String]
    @Flag(help: "Print a JSON object.") var json = false

    func validate() throws {
        guard !text.joined().trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw ValidationError("the text is empty")
        }
    }

    func run() async throws {
        try await reportingErrors("send") {
            let context = try BusContext(options)
            let catalog = try await ChannelCatalog.load(redis: context.redis, keys: context.keys, pinnedFile: context.config.channelsFile)
            let (channelID, channelName) = try Self.resolve(channel, in: catalog)
            let record = ReplyRecord(
                from: from,
                to: context.config.connectorAgentName,
                text: text.joined(separator: " "),
                channelID: channelID,
                channelName: channelName.isEmpty ? nil : channelName,
                rigName: rig
            )
            let id = try await context.redis.run(XADD(context.keys.replyInbox, fields: record.streamFields))
            if json {
                try printJSON(SendResult(id: id, stream: context.keys.replyInbox, channelID: channelID, channelName: channelName))
            } else {
                print(id)
                let label = channelName.isEmpty ? "channel \(channelID) (not in the catalog)" : "#\(channelName) (\(channelID))"
                printError("queued for \(label) on \(context.keys.replyInbox)")
            }
        }
    }

    /// The channel's id and name, or an error naming the problem and the known names.
    static func resolve(_ name: String, in catalog: ChannelCatalog) throws(CLIError) -> (String, String) {
        // An id is taken as it is, with its name when the catalog knows it.
        if !name.isEmpty, name.allSatisfy(isDigit) {
            let known = catalog.entries.first { $0.id == name }?.name
                ?? catalog.pinned.first { $0.value == name }?.key
            return (name, known ?? "")
        }
        switch catalog.resolve(name) {
        case .found(let id):
            return (id, ChannelCatalog.normalise(name))
        case .unknown(let normalised):
            let known = Set(catalog.entries.filter { [0, 5].contains($0.type) }.map(\.name) + catalog.pinned.keys).sorted()
            let hint = known.isEmpty
                ? "no channel names are known yet: Ingest records them in discord:channels when it connects, or pin names in CHANNELS_FILE"
                : "known channels: " + known.prefix(30).joined(separator: ", ") + (known.count > 30 ? ", …" : "")
            throw CLIError("unknown channel '\(normalised)'; \(hint)")
        case .ambiguous(let normalised, let ids):
            throw CLIError("channel name '\(normalised)' is ambiguous: \(ids.joined(separator: ", ")); pass the id with --channel, or pin the name in CHANNELS_FILE")
        }
    }
}

private struct SendResult: Encodable {
    var id: String
    var stream: String
    var channelID: String
    var channelName: String

    enum CodingKeys: String, CodingKey {
        case id, stream
        case channelID = "channel_id"
        case channelName = "channel_name"
    }
}
