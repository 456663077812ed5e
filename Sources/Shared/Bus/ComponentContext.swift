/// What a click needs to reach its agent: who posted the components, in answer to which request
/// (empty for a message sent without one), and each component's own `custom_id` and label, by its
/// place in the set. Stored by the Replier as the expiring hash `discord:components:<set>` when
/// it routes a record with `buttons` or `components`; read by whoever receives the click.
public struct ComponentContext: StreamRecord {
    public var agent: String
    public var answersRequest: String
    public var channelID: String
    public var items: [AgentComponents.Item]

    public init(agent: String, answersRequest: String, channelID: String, items: [AgentComponents.Item]) {
        self.agent = agent
        self.answersRequest = answersRequest
        self.channelID = channelID
        self.items = items
    }

    public var fields: [(String, String)] {
        [("agent", agent), ("answers_request", answersRequest), ("channel_id", channelID), ("count", String(items.count))]
            + items.enumerated().flatMap { index, item in [("custom_id:\(index)", item.customID), ("label:\(index)", item.label)] }
    }

    public init(fields: StreamFields) throws(RecordError) {
        let name = "component context"
        agent = try fields.required("agent", in: name)
        answersRequest = fields["answers_request"] ?? ""
        channelID = fields["channel_id"] ?? ""
        guard let count = fields["count"].flatMap({ Int($0) }), count >= 0 else { throw .missing("count", in: name) }
        var items: [AgentComponents.Item] = []
        for index in 0..<count {
            items.append(.init(customID: try fields.required("custom_id:\(index)", in: name), label: fields["label:\(index)"] ?? ""))
        }
        self.items = items
    }
}
