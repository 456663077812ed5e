import Foundation

/// An agent's record on the connector's inbox: a reply to a request, or (CONTRACT section 4)
/// a message to a channel it was never asked from.
public struct ReplyRecord: StreamRecord {
    public var from: String
    public var to: String
    public var text: String
    /// The `ack_for` field, when the agent named its request that way rather than in the text.
    public var ackFor: String?
    /// Outbound sends: a channel by id or by name, and an optional rig name prefix.
    public var channelID: String?
    public var channelName: String?
    public var rigName: String?
    /// CONTRACT section 6: a JSON array of button labels, and Discord action rows, as the agent
    /// wrote them (checked by `AgentComponents` when the reply is routed).
    public var buttons: String?
    public var components: String?
    /// `update=1`: an answer to a click edits the clicked message instead of posting.
    public var update = false
    /// `file:<filename>` fields: the bytes of each file, in field order (binary-safe).
    public var files: [DiscordFile] = []
    /// `react`: an emoji added to the request's message (`👍`, or `name:id`).
    public var react: String?
    /// `thread`: the name of a thread to start on the request's message and answer in.
    public var thread: String?
    /// `progress=1`: this text replaces the request's status message in place.
    public var progress = false

    /// At most this many `file:` fields in one record (Discord's limit per message).
    public static let maxFiles = 10
    public static let filePrefix = "file:"

    public init(from: String, to: String, text: String, ackFor: String? = nil, channelID: String? = nil, channelName: String? = nil, rigName: String? = nil) {
        self.from = from
        self.to = to
        self.text = text
        self.ackFor = ackFor
        self.channelID = channelID
        self.channelName = channelName
        self.rigName = rigName
    }

    public var fields: [(String, String)] {
        var fields = [("from", from), ("to", to), ("text", text)]
        if let ackFor { fields.append(("ack_for", ackFor)) }
        if let channelID { fields.append(("channel_id", channelID)) }
        if let channelName { fields.append(("channel_name", channelName)) }
        if let rigName { fields.append(("rig_name", rigName)) }
        if let buttons { fields.append(("buttons", buttons)) }
        if let components { fields.append(("components", components)) }
        if update { fields.append(("update", "1")) }
        if let react { fields.append(("react", react)) }
        if let thread { fields.append(("thread", thread)) }
        if progress { fields.append(("progress", "1")) }
        return fields
    }

    public var streamFields: StreamFields {
        var all = StreamFields(fields)
        for file in files { all.append(Self.filePrefix + file.filename, bytes: RedisBytes(Array(file.data))) }
        return all
    }

    public init(fields: StreamFields) throws(RecordError) {
        let name = "reply record"
        // Text may be left out when the record does something else: react, files, components.
        let doesMore = ["react", "buttons", "components", "update"].contains { fields[$0] != nil } || fields.names.contains { $0.hasPrefix(Self.filePrefix) }
        guard let text = fields["text"] ?? (doesMore ? "" : nil) else { throw .missing("text", in: name) }
        func optional(_ key: String) -> String? {
            guard let value = fields[key]?.trimmingWhitespace(), !value.isEmpty else { return nil }
            return value
        }
        self.init(
            from: fields["from"] ?? "",
            to: fields["to"] ?? "",
            text: text,
            ackFor: optional("ack_for"),
            channelID: optional("channel_id"),
            channelName: optional("channel_name"),
            rigName: optional("rig_name")
        )
        buttons = optional("buttons")
        components = optional("components")
        update = ["1", "true"].contains(optional("update")?.lowercased() ?? "")
        react = optional("react")
        thread = optional("thread")
        progress = ["1", "true"].contains(optional("progress")?.lowercased() ?? "")
        for (field, value) in fields where field.hasPrefix(Self.filePrefix) {
            let filename = String(field.dropFirst(Self.filePrefix.count))
            guard !filename.isEmpty, filename.count <= 255, !filename.contains("/") else {
                throw RecordError("reply record has a file field with a bad name '\(field.prefix(80))' (file:<filename>, no '/')")
            }
            files.append(DiscordFile(filename: filename, contentType: Self.contentType(of: filename), data: Data(value.bytes)))
        }
        guard files.count <= Self.maxFiles else {
            throw RecordError("reply record has \(files.count) files; at most \(Self.maxFiles)")
        }
    }

    /// The media type Discord is told, from the file's extension.
    public static func contentType(of filename: String) -> String {
        switch filename.split(separator: ".").last?.lowercased() ?? "" {
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "gif": "image/gif"
        case "webp": "image/webp"
        case "pdf": "application/pdf"
        case "txt", "log", "md": "text/plain; charset=utf-8"
        case "json": "application/json"
        case "csv": "text/csv"
        case "zip": "application/zip"
        default: "application/octet-stream"
        }
    }
}
