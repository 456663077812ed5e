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
        return fields
    }

    public init(fields: StreamFields) throws(RecordError) {
        let name = "reply record"
        guard let text = fields["text"] else { throw .missing("text", in: name) }
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
    }
}
