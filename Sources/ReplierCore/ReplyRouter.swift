import Foundation
import Logging
import Shared

/// Step 1 of the reply path: finds where each record of the connector's inbox goes (the request
/// it answers, or the channel it names) and moves it, resolved and stripped of routing tokens,
/// to its channel's partition stream. Runs in one Replier copy at a time, in inbox order.
struct ReplyRouter: Sendable {
    let keys: BusKeys
    let redis: RedisClient
    let channelsFile: String?
    let signer: CtxSigner
    /// Signs the ids of agents' buttons and selects; their sets live `componentTTL` seconds.
    let componentSigner: ComponentIDSigner
    let componentTTL: Int
    /// For starting threads (`thread` field), through the shared limiter.
    let discord: DiscordClient
    let partitions: Int
    let maxCharacters: Int
    /// `AUTO_THREAD` and `OUTBOUND_POLICY`.
    var autoThread: AutoThread = .off
    var outboundPolicy: OutboundPolicy = .open
    let stats: BusStats
    let logger: Logger

    /// Routes one record read from `stream` (`route(batch:on:)` with a batch of one).
    func route(_ entry: StreamEntry, on stream: String) async -> ConsumeOutcome {
        await route(batch: [entry], on: stream)[0]
    }

    /// What routing decided for one record: move it to a partition, or this outcome.
    enum Decision {
        case move(partition: Int, fields: StreamFields)
        case done(ConsumeOutcome)
    }

    /// Routes a batch as read from `stream`: the connector's inbox, or an agent's outbox (whose
    /// agent is the record's `from`, whatever the record says). The pending contexts the batch
    /// names are loaded in one round trip; each record is then decided in order; and on one Redis
    /// the moves to the partitions go out together in one more (each script acknowledges its own
    /// entry, so a crash in between repeats nothing that was done).
    func route(batch entries: [StreamEntry], on stream: String) async -> [ConsumeOutcome] {
        let parsed = entries.map { entry in Result { () throws(RecordError) in try ReplyRecord(fields: entry.fields) } }
        // Which request (or channel) each record answers, worked out once (it verifies ctx tags).
        let resolutions = parsed.map { (try? $0.get()).map { ReplyResolution.resolve($0, signer: signer) } }
        let contexts = await loadContexts(resolutions.compactMap { $0 })
        var outcomes = [ConsumeOutcome?](repeating: nil, count: entries.count)
        var moves: [(index: Int, entry: StreamEntry, partition: Int, fields: StreamFields)] = []
        for (index, entry) in entries.enumerated() {
            switch await decide(entry, parsed[index], resolutions[index], on: stream, contexts: contexts) {
            case .move(let partition, let fields): moves.append((index, entry, partition, fields))
            case .done(let outcome): outcomes[index] = outcome
            }
        }
        if moves.count > 1, !keys.cluster {
            let requests = moves.map { move in
                BusScripts.forwardToInbox.call(
                    keys: [stream, keys.replyPartition(move.partition)],
                    arguments: [RedisBytes(BusKeys.replierGroup), RedisBytes(move.entry.id), ""] + move.fields.flattened
                ).request
            }
            if let replies = try? await RedisClient.retrying(logger: logger, what: "routing \(moves.count) replies", { () throws(RedisError) in
                try await redis.pipeline(requests)
            }) {
                for (move, reply) in zip(moves, replies) {
                    if case .integer(let appended) = reply {
                        if appended == 1 { ConnectorMetrics.replierRouted.increment() }
                        outcomes[move.index] = .alreadyAcknowledged
                    }
                }
            }
        }
        // One at a time: in a cluster, for a single move, and for any the pipeline did not finish
        // (NOSCRIPT after a restart, an error of its own; the script is idempotent).
        for move in moves where outcomes[move.index] == nil {
            outcomes[move.index] = await self.move(move.entry, on: stream, to: move.partition, fields: move.fields)
        }
        return outcomes.map { $0 ?? .leavePending }
    }

    /// The pending contexts of the records that answer a request, in one round trip. Only those
    /// of requests answered once in the batch: routing a record may change its request's context
    /// (the thread it started), which a second record of the same request must see.
    func loadContexts(_ resolutions: [ReplyResolution]) async -> [String: StreamFields] {
        var answers: [String: Int] = [:]
        var order: [String] = []
        for resolution in resolutions {
            guard case .request(let requestID) = resolution else { continue }
            if answers[requestID] == nil { order.append(requestID) }
            answers[requestID, default: 0] += 1
        }
        let requestIDs = order.filter { answers[$0] == 1 }
        guard requestIDs.count > 1, let replies = try? await redis.pipeline(requestIDs.map { HGETALL(keys.pending($0)).request }) else { return [:] }
        var contexts: [String: StreamFields] = [:]
        for (requestID, reply) in zip(requestIDs, replies) {
            if let fields = try? HGETALL(keys.pending(requestID)).decode(reply) { contexts[requestID] = fields }
        }
        return contexts
    }

    /// Moves one routed record to its partition (`BusMove`).
    func move(_ entry: StreamEntry, on stream: String, to partition: Int, fields: StreamFields) async -> ConsumeOutcome {
        do {
            let moved = try await RedisClient.retrying(logger: logger, what: "routing reply \(entry.id)") { () throws(RedisError) -> Bool in
                try await BusMove.forward(
                    redis: redis, source: stream, group: BusKeys.replierGroup, entryID: entry.id,
                    target: keys.replyPartition(partition), fields: fields
                )
            }
            guard moved != nil else { return .leavePending }
            ConnectorMetrics.replierRouted.increment()
            return .alreadyAcknowledged
        } catch {
            return .deadLetter(reason: "cannot route to \(keys.replyPartition(partition)): \(error)")
        }
    }

    /// Decides where one record goes.
    private func decide(_ entry: StreamEntry, _ parsed: Result<ReplyRecord, RecordError>, _ resolution: ReplyResolution?, on stream: String, contexts: [String: StreamFields]) async -> Decision {
        var record: ReplyRecord
        do {
            record = try parsed.get()
        } catch {
            await stats.bump(.repliesUnreadable)
            return .done(.deadLetter(reason: "unreadable reply record: \(error)"))
        }
        let source = ReplySource(stream: stream, entryID: entry.id, connectorInbox: keys.replyInbox)
        if let agent = source.agent {
            if !record.from.isEmpty, record.from != agent {
                logger.notice("record \(entry.id) on \(stream) says it is from '\(record.from.prefix(64))'; an outbox's records are its agent's: posting it as '\(agent)'")
            }
            record.from = agent
        }
        let components: AgentComponents?
        do {
            components = try AgentComponents.parse(buttons: record.buttons, components: record.components)
        } catch {
            logger.warning("not posting reply \(entry.id) from '\(record.from)': its components are invalid: \(error)")
            await stats.bump(.repliesUnreadable)
            return .done(.deadLetter(reason: "invalid buttons/components: \(error)"))
        }

        var routed: RoutedReply
        switch resolution ?? ReplyResolution.resolve(record, signer: signer) {
        case .unroutable(let reason):
            logger.warning("not posting reply \(entry.id) from '\(record.from)': \(reason)")
            await stats.bump(.repliesUnroutable)
            return .done(.deadLetter(reason: "unroutable reply: \(reason)"))
        case .outbound:
            switch await outboundChannel(record) {
            case .success(let channelID):
                if let refusal = await policyRefusal(record, channelID: channelID) { return .done(refusal.outcome) }
                routed = RoutedReply(source: source, from: record.from, channelID: channelID)
            case .failure(let outcome):
                return .done(outcome.outcome)
            }
        case .request(let requestID):
            var fields: StreamFields
            do {
                if let prefetched = contexts[requestID] {
                    fields = prefetched
                } else {
                    guard let loaded = try await RedisClient.retrying(logger: logger, what: "loading context \(requestID)", { () throws(RedisError) in
                        try await redis.run(HGETALL(keys.pending(requestID)))
                    }) else { return .done(.leavePending) }
                    fields = loaded
                }
            } catch {
                return .done(.deadLetter(reason: "cannot load the pending context of \(requestID): \(error)"))
            }
            guard let context = try? PendingContext(fields: fields) else {
                logger.warning("not posting reply \(entry.id): request \(requestID) is unknown or its context expired")
                await stats.bump(.repliesExpired)
                return .done(.deadLetter(reason: "pending context for request \(requestID) is unknown or expired"))
            }
            routed = RoutedReply(source: source, from: record.from, channelID: context.replyChannelID)
            // A command came as an interaction, not a message: there is nothing to reply to.
            routed.replyTo = context.kind == .command ? "" : context.messageID
            routed.requestID = requestID
            routed.asker = context.authorID
            routed.parentChannel = context.threadID.isEmpty ? "" : context.channelID
            if let emoji = record.react {
                if context.kind == .command {
                    logger.notice("reply \(entry.id) asks to react to request \(requestID), a command: there is no message to react to")
                } else {
                    routed.react = emoji
                    routed.reactTo = context.messageID
                    routed.reactChannel = context.replyChannelID
                }
            }
            routed.progress = record.progress && context.interaction == nil
            var thread = context.replyThread
            if thread.isEmpty, let name = threadName(record, context) {
                switch await startThread(named: name, for: context) {
                case .success(let id?): thread = id
                case .success(nil): break
                case .failure(let refusal): return .done(refusal.outcome)
                }
            }
            if !thread.isEmpty {
                // Answers go to the request's thread; the message they answer is its start.
                routed.channelID = thread
                routed.parentChannel = context.channelID
                routed.replyTo = ""
            }
            if record.update {
                if context.kind == .component {
                    routed.updates = context.messageID
                } else {
                    logger.notice("reply \(entry.id) asks for update=1 but request \(requestID) is no click; posting it as a new message")
                }
            }
            if let interaction = context.interaction, context.kind == .component {
                // A click's deferred update has no response of its own to edit: answers are
                // follow-ups, or with update=1 edits of the clicked message.
                routed.interaction = interaction
            } else if let interaction = context.interaction {
                // The first reply to an interaction edits its deferred response; the ones after it
                // are follow-ups. The first is whichever entry claims it (kept across retries).
                guard let first = try? await RedisClient.retrying(logger: logger, what: "claiming the response of \(requestID)", { () throws(RedisError) -> Bool in
                    try await redis.run(HSETNX(keys.pending(requestID), field: PendingContext.ReplierField.responseEntry, value: source.key))
                    return try await redis.run(HGET(keys.pending(requestID), field: PendingContext.ReplierField.responseEntry)) == source.key
                }) else { return .done(.leavePending) }
                routed.interaction = interaction
                routed.editsOriginal = first
            }
        }

        routed.text = ReplyTokens.strip(record.text)
        if let rig = record.rigName, !routed.text.isEmpty { routed.text = "[\(rig)] " + routed.text }
        if routed.text.count > maxCharacters {
            await stats.bump(.repliesTooLong)
            return .done(.deadLetter(reason: "reply of \(routed.text.count) characters is over MAX_REPLY_CHARS=\(maxCharacters); not posted (it would take \(ReplySplitter().split(routed.text).count) messages)"))
        }
        routed.files = record.files
        if routed.text.allSatisfy(\.isWhitespace) {
            routed.text = ""
            // An update may only change the buttons; components, files and reactions stand alone.
            if components == nil, routed.updates.isEmpty, routed.files.isEmpty, routed.react == nil {
                logger.notice("reply \(entry.id) is empty once its tokens are removed; nothing to post")
                return .done(.ack)
            }
        }
        if let components {
            // The set is this entry: its context is written before the post can be clicked, and
            // rewritten alike if routing is retried.
            let context = ComponentContext(agent: record.from, answersRequest: routed.requestID, channelID: routed.channelID, items: components.items)
            let key = keys.components(source.key)
            do {
                guard try await RedisClient.retrying(logger: logger, what: "storing the components of \(entry.id)", { () throws(RedisError) in
                    _ = try await redis.pipeline([HSET(key, fields: context.streamFields).request, EXPIRE(key, seconds: componentTTL).request])
                }) != nil else { return .done(.leavePending) }
            } catch {
                return .done(.deadLetter(reason: "cannot store the components of \(entry.id): \(error)"))
            }
            routed.components = components.signedRows(set: source.key, signer: componentSigner)
        }
        return .move(partition: RoutedReply.partition(of: routed.channelID, count: partitions), fields: routed.streamFields)
    }

    struct Refusal: Error {
        var outcome: ConsumeOutcome
    }

    /// The thread a record's answer should start: the one its `thread` field names, else under
    /// `AUTO_THREAD` one named after the request, for a record that posts something.
    func threadName(_ record: ReplyRecord, _ context: PendingContext) -> String? {
        if let name = record.thread, !name.isEmpty { return name }
        guard autoThread.applies(to: context.channelID), !context.topic.isEmpty, !record.update else { return nil }
        let postsSomething = record.progress || !record.files.isEmpty || !ReplyTokens.strip(record.text).allSatisfy(\.isWhitespace)
        return postsSomething ? context.topic : nil
    }

    /// `OUTBOUND_POLICY`: nil when `record.from` may post to `channelID` without a request, else
    /// the dead letter saying why not.
    private func policyRefusal(_ record: ReplyRecord, channelID: String) async -> Refusal? {
        guard outboundPolicy.rules != nil else { return nil }
        var name = record.channelName
        var parent: String?
        if let catalog = try? await RedisClient.retrying(logger: logger, what: "loading channel names", { () throws(RedisError) in
            try await ChannelCatalog.load(redis: redis, keys: keys, pinnedFile: channelsFile)
        }) {
            let entry = catalog.entries.first { $0.id == channelID }
            name = name ?? entry?.name ?? catalog.pinned.first { $0.value == channelID }?.key
            parent = entry?.parentID
        }
        switch outboundPolicy.decide(agent: record.from, channelID: channelID, channelName: name, parentID: parent) {
        case .allowed:
            return nil
        case .refused(let reason):
            logger.warning("not posting record from '\(record.from)': \(reason)")
            await stats.bump(.outboundRefused)
            return Refusal(outcome: .deadLetter(reason: reason))
        }
    }

    /// Starts the thread a `thread` field asks for, on the request's message, once per request
    /// (its id kept in the pending context); nil where there can be none (a DM, a command, a
    /// message already in a thread), and the answer then goes where it would have.
    private func startThread(named name: String, for context: PendingContext) async -> Result<String?, Refusal> {
        guard !context.guildID.isEmpty, context.threadID.isEmpty, context.kind == .mention || context.kind == .channel else {
            logger.notice("request \(context.requestID) cannot have a thread of its own (a DM, a command, a click or a message in a thread); answering in place")
            return .success(nil)
        }
        let id: String
        do {
            let started = try await discord.perform(.startThread(channel: context.channelID, message: context.messageID, name: name), retries: .untilCancelled, as: DiscordChannel.self)
            id = started.id
        } catch {
            switch error {
            case .rejected(let refusal) where refusal.code == 160004:
                // Started before (a retry after a crash): a message's thread has the message's id.
                id = context.messageID
            case .rejected(let refusal):
                logger.warning("Discord refused a thread for request \(context.requestID): \(refusal); answering in place")
                return .success(nil)
            case .cancelled, .gaveUp:
                return .failure(Refusal(outcome: .leavePending))
            case .invalidBody(let problem), .undecodable(let problem):
                logger.warning("cannot start a thread for request \(context.requestID): \(problem); answering in place")
                return .success(nil)
            }
        }
        do {
            guard try await RedisClient.retrying(logger: logger, what: "remembering the thread of \(context.requestID)", { () throws(RedisError) in
                try await redis.run(HSET(keys.pending(context.requestID), fields: [(PendingContext.ReplierField.replyThread, id)]))
            }) != nil else { return .failure(Refusal(outcome: .leavePending)) }
        } catch {
            return .failure(Refusal(outcome: .deadLetter(reason: "cannot remember the thread of \(context.requestID): \(error)")))
        }
        logger.info("started thread \(id) for request \(context.requestID)")
        return .success(id)
    }

    /// The channel of a record sent without a request (CONTRACT section 4).
    private func outboundChannel(_ record: ReplyRecord) async -> Result<String, Refusal> {
        if let channelID = record.channelID { return .success(channelID) }
        let catalog: ChannelCatalog
        do {
            guard let loaded = try await RedisClient.retrying(logger: logger, what: "loading channel names", { () throws(RedisError) in
                try await ChannelCatalog.load(redis: redis, keys: keys, pinnedFile: channelsFile)
            }) else { return .failure(Refusal(outcome: .leavePending)) }
            catalog = loaded
        } catch {
            return .failure(Refusal(outcome: .deadLetter(reason: "cannot load channel names: \(error)")))
        }
        switch catalog.resolve(record.channelName ?? "") {
        case .found(let id):
            return .success(id)
        case .unknown(let name):
            await stats.bump(.outboundUnknownChannel)
            return .failure(Refusal(outcome: .deadLetter(reason: "no channel named '\(name)' in the connected guilds or CHANNELS_FILE")))
        case .ambiguous(let name, let ids):
            await stats.bump(.outboundAmbiguousChannel)
            return .failure(Refusal(outcome: .deadLetter(reason: "channel name '\(name)' is ambiguous (\(ids.joined(separator: ", "))); give channel_id or pin the name in CHANNELS_FILE")))
        }
    }

}

/// A reply resolved by the router, as it travels on a partition stream.
struct RoutedReply: Sendable, Equatable {
    /// The entry id on the connector's inbox or an outbox, and that outbox (empty for the
    /// connector's inbox): the nonces derive from both, so a reply keeps its nonces however often
    /// it is retried, and two streams' entries with the same id never share one.
    var sourceEntry: String
    var sourceStream = ""
    var from: String
    var channelID: String
    /// The message this answers (posted as a reply to it); empty for outbound messages.
    var replyTo = ""
    var requestID = ""
    var text = ""
    /// An answer to an interaction: how to reach its response (until the token expires).
    var interaction: PendingContext.InteractionReply?
    /// Whether this reply is the interaction's first, which edits the deferred response.
    var editsOriginal = false
    /// `update=1` in answer to a click: the clicked message's id, which the reply edits.
    var updates = ""
    /// The action rows to post (ids signed), or nil for none.
    var components: [JSONValue]?
    /// Uploaded with the first part.
    var files: [DiscordFile] = []
    /// An emoji to add to the request's message, and where that message is.
    var react: String?
    var reactTo = ""
    var reactChannel = ""
    /// `progress=1`: the text replaces the request's status message.
    var progress = false
    /// Who asked (named in the first part of a post under an agent's name), and for a post in a
    /// thread its parent channel (whose webhook posts there).
    var asker = ""
    var parentChannel = ""

    init(sourceEntry: String, from: String, channelID: String) {
        self.sourceEntry = sourceEntry
        self.from = from
        self.channelID = channelID
    }

    init(source: ReplySource, from: String, channelID: String) {
        self.init(sourceEntry: source.entryID, from: from, channelID: channelID)
        sourceStream = source.agent == nil ? "" : source.stream
    }

    /// The stream whose entry this is, for its nonces.
    func nonceStream(connectorInbox: String) -> String { sourceStream.isEmpty ? connectorInbox : sourceStream }

    init?(fields: StreamFields) {
        guard let source = fields["source_entry"], let channel = fields["channel_id"], let text = fields["text"] else { return nil }
        self.init(sourceEntry: source, from: fields["from"] ?? "", channelID: channel)
        sourceStream = fields["source_stream"] ?? ""
        replyTo = fields["reply_to"] ?? ""
        requestID = fields["request_id"] ?? ""
        self.text = text
        interaction = PendingContext.InteractionReply(fields: fields)
        editsOriginal = interaction != nil && fields["edits_original"] == "1"
        updates = fields["updates"] ?? ""
        components = fields["components"].flatMap { try? JSON.decode([JSONValue].self, from: $0) }
        react = fields["react"]
        reactTo = fields["react_to"] ?? ""
        reactChannel = fields["react_channel"] ?? ""
        progress = fields["progress"] == "1"
        asker = fields["asker"] ?? ""
        parentChannel = fields["parent_channel"] ?? ""
        for (name, value) in fields where name.hasPrefix(ReplyRecord.filePrefix) {
            let filename = String(name.dropFirst(ReplyRecord.filePrefix.count))
            files.append(DiscordFile(filename: filename, contentType: ReplyRecord.contentType(of: filename), data: Data(value.bytes)))
        }
    }

    /// As written to the partition stream: the text fields, then the files' bytes.
    var streamFields: StreamFields {
        var all = StreamFields(fields)
        if let react { all.append(contentsOf: [("react", react), ("react_to", reactTo), ("react_channel", reactChannel)]) }
        if progress { all.append("progress", "1") }
        if !asker.isEmpty { all.append("asker", asker) }
        if !parentChannel.isEmpty { all.append("parent_channel", parentChannel) }
        for file in files { all.append(ReplyRecord.filePrefix + file.filename, bytes: RedisBytes(Array(file.data))) }
        return all
    }

    var fields: [(String, String)] {
        [("source_entry", sourceEntry)] + (sourceStream.isEmpty ? [] : [("source_stream", sourceStream)]) + [("from", from), ("channel_id", channelID), ("reply_to", replyTo), ("request_id", requestID), ("text", text)]
            + (interaction.map { $0.fields + [("edits_original", editsOriginal ? "1" : "0")] } ?? [])
            + (updates.isEmpty ? [] : [("updates", updates)])
            + (components.flatMap { try? JSON.encodeString($0) }.map { [("components", $0)] } ?? [])
    }

    /// The partition of a channel (`BusKeys.partition(of:count:)`).
    static func partition(of channelID: String, count: Int) -> Int {
        BusKeys.partition(of: channelID, count: count)
    }
}

/// Where a record of the reply path came from: the connector's inbox or an agent's outbox.
struct ReplySource: Sendable, Equatable {
    var stream: String
    var entryID: String
    /// The outbox's agent; nil for the connector's inbox.
    var agent: String?

    init(stream: String, entryID: String, connectorInbox: String) {
        self.stream = stream
        self.entryID = entryID
        agent = stream == connectorInbox ? nil : BusKeys.outboxAgent(stream)
    }

    /// A name for the record unique across streams (its component set, its claim on an
    /// interaction's response): the entry id on the connector's inbox, else the entry id and a
    /// short hash of the outbox (component ids must stay within Discord's 100 characters).
    var key: String {
        guard agent != nil else { return entryID }
        return entryID + "." + String(BusKeys.fnv1a(stream) & 0xffff_ffff, radix: 16)
    }
}
