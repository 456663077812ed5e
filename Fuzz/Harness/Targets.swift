// The fuzz targets. Each one feeds its input to a parser and checks cheap invariants; see
// Entry.swift for how an input is split and docs/FUZZING.md for the list.
import Foundation

// MARK: - Gateway

/// The gateway frame decoder, then what the I/O layer does with a decoded frame: the session
/// state machine and the typed payloads Ingest decodes.
func fuzzGatewayFrame(_ input: FuzzInput) {
    exerciseFrame(input.text)
}

/// The same, with the input as the `d` of a dispatch (or HELLO / INVALID_SESSION) frame, so that
/// the fuzzer spends its time inside the payload rather than on the frame's envelope.
func fuzzGatewayDispatch(_ input: FuzzInput) {
    let (selector, payload) = input.parameterAndText
    let events = ["MESSAGE_CREATE", "READY", "GUILD_CREATE", "CHANNEL_CREATE", "THREAD_CREATE", "RESUMED"]
    let frame: String
    switch selector % 8 {
    case 6: frame = "{\"op\":10,\"d\":\(payload)}"
    case 7: frame = "{\"op\":9,\"s\":null,\"t\":null,\"d\":\(payload)}"
    default: frame = "{\"t\":\"\(events[Int(selector % 8) % events.count])\",\"s\":\(selector),\"op\":0,\"d\":\(payload)}"
    }
    exerciseFrame(frame)
}

func exerciseFrame(_ text: String) {
    let frame: GatewayFrame
    do {
        frame = try GatewayFrame.decode(text)
    } catch {
        _ = error.description
        return
    }
    if frame.opcode == GatewayOpcode.dispatch.rawValue {
        check(frame.sequence != nil && frame.eventName != nil, "dispatch frame decoded without s or t")
    }
    // `d` is re-serialised JSON: it must parse again.
    check((try? JSONSerialization.jsonObject(with: frame.data, options: [.fragmentsAllowed])) != nil,
          "frame data is not JSON: \(String(decoding: frame.data, as: UTF8.self))")

    _ = try? frame.payload(DiscordMessage.self).authorName
    _ = try? frame.payload(DiscordGuild.self)
    _ = try? frame.payload(DiscordChannel.self).isThread
    _ = try? frame.payload(GatewaySession.Ready.self)
    _ = try? frame.payload(JSONValue.self)
    if let channel = try? frame.payload(DiscordChannel.self) { _ = ChannelCatalog.Entry(channel) }

    var fresh = GatewaySession(token: "token")
    var resuming = GatewaySession(token: "token", resumable: .init(sessionID: "s", sequence: 5, resumeURL: "wss://example"))
    for action in fresh.onFrame(frame) + resuming.onFrame(frame) {
        if case .dispatch(let event) = action {
            check(event.sequence == frame.sequence && event.name == frame.eventName, "dispatch action lost the frame's s or t")
            fresh.commit(sequence: event.sequence)
            resuming.commit(sequence: event.sequence)
        }
    }
    _ = fresh.onHeartbeatDue() + resuming.onHeartbeatDue() + fresh.onHeartbeatDue()
    _ = fresh.onClose(code: frame.sequence) + resuming.onClose(code: frame.opcode)
}

/// JSONDecoder on the raw bytes (not repaired), for every model decoded from Discord, and an
/// encode/decode round trip of a decoded message.
func fuzzModels(_ input: FuzzInput) {
    let data = input.data
    if let message = try? JSON.decode(DiscordMessage.self, from: data) {
        _ = message.authorName
        let again: DiscordMessage
        do {
            again = try JSON.decode(DiscordMessage.self, from: try JSON.encode(message))
        } catch {
            fatalError("fuzz invariant broken: a decoded DiscordMessage does not survive JSON.encode/decode: \(error)")
        }
        check(again == message, "DiscordMessage round trip changed it: \(message) -> \(again)")
    }
    _ = try? JSON.decode(DiscordGuild.self, from: data)
    _ = try? JSON.decode([DiscordChannel].self, from: data)
    _ = try? JSON.decode(DiscordUser.self, from: data)
    _ = try? JSON.decode(ChannelCatalog.Entry.self, from: data)
    _ = try? JSON.decode(GatewaySession.Ready.self, from: data)
    _ = try? JSON.decode(GatewaySession.Hello.self, from: data)
    _ = try? JSON.decode(GatewaySession.Resumable.self, from: data)
    if let value = try? JSON.decode(JSONValue.self, from: data) {
        _ = value["retry_after"]?.doubleValue
        _ = try? JSON.encode(value)
    }
}

// MARK: - Reply tokens and splitting

func isASCIITokenText(_ text: Substring) -> Bool {
    !text.isEmpty && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "." || $0 == "_" || $0 == "-") }
}

func hasRequestIDTag(_ text: String) -> Bool {
    text.contains(ReplyTokens.requestIDPattern)
}

func fuzzReplyTokens(_ input: FuzzInput) {
    exerciseTokens(input.text)
}

func exerciseTokens(_ text: String) {
    let ids = ReplyTokens.ackIDs(in: text)
    check(Set(ids).count == ids.count, "ackIDs repeated an id: \(ids)")
    for id in ids { check(ReplyResolution.isRequestID(id), "ackIDs returned '\(id)', not a lower-case request id") }
    for token in ReplyTokens.ctxTokens(in: text) {
        check(isASCIITokenText(Substring(token)), "ctxTokens returned '\(token)', outside [A-Za-z0-9._-]+")
    }

    // What is posted to Discord carries no routing token (not even one that removing another
    // closes up: FuzzRegressionTests, `strip-reform`).
    let stripped = ReplyTokens.strip(text)
    check(ReplyTokens.ackIDs(in: stripped).isEmpty, "strip() left an ack token: \(stripped.debugDescription)")
    check(ReplyTokens.ctxTokens(in: stripped).isEmpty, "strip() left a ctx block: \(stripped.debugDescription)")
    check(!hasRequestIDTag(stripped), "strip() left a request_id tag: \(stripped.debugDescription)")

    // Untrusted text, once neutralised, routes nowhere, and only gained zero-width spaces.
    let neutral = ReplyTokens.neutralise(text)
    check(ReplyTokens.ackIDs(in: neutral).isEmpty, "neutralise() output has ackIDs: \(neutral.debugDescription)")
    check(ReplyTokens.ctxTokens(in: neutral).isEmpty, "neutralise() output has ctx tokens: \(neutral.debugDescription)")
    check(!hasRequestIDTag(neutral), "neutralise() output has a request_id tag: \(neutral.debugDescription)")
    check(neutral.unicodeScalars.filter { $0 != "\u{200B}" }.elementsEqual(text.unicodeScalars.filter { $0 != "\u{200B}" }),
          "neutralise() changed more than inserting U+200B")
}

func fuzzSplitter(_ input: FuzzInput) {
    let (parameter, text) = input.parameterAndText
    // Small limits reach the cutting paths with short inputs; the real limit is checked too.
    // (`split-limit-1`, fixed: limit 1 used never to end on a character outside the BMP.)
    let smallest = knownIssues.contains("split-limit-1") ? 2 : 1
    let limit = parameter < 0x80 ? smallest + Int(parameter) % (65 - smallest) : ReplySplitter.discordLimit
    exerciseSplitter(text, limit: limit)
    exerciseSplitter(ReplyTokens.strip(text), limit: limit)
}

func exerciseSplitter(_ text: String, limit: Int) {
    let chunks = ReplySplitter(limit: limit).split(text)
    // Every chunk fits, even when that means cutting a grapheme cluster longer than the limit
    // (`split-grapheme`); and no chunk is blank.
    for chunk in chunks {
        // The one exception: a single scalar wider than the limit (2 units, at limit 1).
        let lone = chunk.unicodeScalars.count == 1
        check(chunk.utf16.count <= limit || lone, "chunk of \(chunk.utf16.count) UTF-16 units (\(chunk.count) characters) exceeds the limit \(limit)")
        check(!chunk.allSatisfy(\.isWhitespace), "blank chunk")
    }
    // Nothing but whitespace is lost, and nothing is added or reordered. Compared as Unicode
    // scalars: a cut grapheme cluster and joined chunks both re-segment characters.
    let all = Array(text.unicodeScalars)
    let kept = Array(text).filter { !$0.isWhitespace }.flatMap(\.unicodeScalars)
    let output = chunks.flatMap(\.unicodeScalars)
    check(isSubsequence(kept, of: output), "split lost non-whitespace (limit \(limit)): \(text.debugDescription) -> \(chunks)")
    check(isSubsequence(output, of: all), "split added or reordered text (limit \(limit)): \(text.debugDescription) -> \(chunks)")
}

func isSubsequence(_ needle: [Unicode.Scalar], of haystack: [Unicode.Scalar]) -> Bool {
    var index = haystack.startIndex
    for scalar in needle {
        guard let found = haystack[index...].firstIndex(of: scalar) else { return false }
        index = found + 1
    }
    return true
}

// MARK: - Bus records

/// Decodes each record from the fields; a decoded record must survive its own `fields`.
func fuzzRecords(_ input: FuzzInput) {
    let fields = input.fields(knownKeys: recordKeys)
    roundTrip(InboundMessage.self, fields)
    roundTrip(ReplyRecord.self, fields)
    roundTrip(AgentInboxRecord.self, fields)
    roundTrip(PendingContext.self, fields)
    if let message = try? InboundMessage(fields: fields) {
        _ = message.replyChannelID
        let pending = PendingContext(message)
        check((try? PendingContext(fields: Dictionary(uniqueKeysWithValues: pending.fields))) == pending, "PendingContext(message) does not round-trip")
    }
}

func roundTrip<R: StreamRecord>(_ type: R.Type, _ fields: [String: String]) {
    let record: R
    do {
        record = try R(fields: fields)
    } catch {
        _ = error.description
        return
    }
    let written = record.fields
    check(Set(written.map(\.0)).count == written.count, "\(R.self).fields repeats a key: \(written.map(\.0))")
    let reread: R
    do {
        reread = try R(fields: Dictionary(uniqueKeysWithValues: written))
    } catch {
        fatalError("fuzz invariant broken: \(R.self) written by .fields cannot be read back: \(error) (fields \(written))")
    }
    check(reread == record, "\(R.self) round trip changed it: \(record) -> \(reread)")
}

let signer = CtxSigner(key: "fuzz-signing-key")

/// Which request a reply answers, and the ctx signer on text the fuzzer chose.
func fuzzResolution(_ input: FuzzInput) {
    let fields = input.fields(knownKeys: recordKeys)
    if let record = try? ReplyRecord(fields: fields) {
        let resolution = ReplyResolution.resolve(record, signer: signer)
        if case .request(let id) = resolution {
            let signedByUs = ReplyTokens.ctxTokens(in: record.text).contains { signer.verify($0) == id }
            check(ReplyResolution.isRequestID(id) || signedByUs, "resolved to '\(id)': not a request id and not from a signed ctx block")
        }
        for token in ReplyTokens.ctxTokens(in: record.text) { _ = signer.verify(token) }
    }
    for value in fields.values.prefix(4) {
        if let id = signer.verify(value), let dot = value.lastIndex(of: ".") {
            // Only this connector's tags verify: what verified is the block we sign for that id.
            check(signer.block(for: id) == "[ctx:\(id).\(value[value.index(after: dot)...])]", "verify accepted '\(value)' as \(id)")
        }
        // Whatever lower-case ASCII id we sign, the block verifies back to it.
        var id = ""
        id.unicodeScalars.append(contentsOf: value.lowercased().unicodeScalars.filter { $0.isASCII && $0 != "." }.prefix(48))
        guard !id.isEmpty, id == id.lowercased() else { continue }
        let block = signer.block(for: id)
        let token = String(block.dropFirst("[ctx:".count).dropLast())
        check(signer.verify(token) == id, "a block signed for '\(id)' does not verify")
        if isASCIITokenText(Substring(id)) {
            check(ReplyTokens.ctxTokens(in: "reply\n" + block) == [token], "ctxTokens does not find the block signed for '\(id)'")
        }
        let nonce = ReplyNonce.make(stream: value, entryID: id, chunk: value.utf8.count)
        check(nonce.count == 24 && nonce.allSatisfy(\.isHexDigit), "bad nonce \(nonce)")
    }
}

/// The text the Dispatcher writes to an agent's inbox: whatever a Discord user typed (content,
/// names), the only routing tokens in it are the connector's own.
func fuzzInboxText(_ input: FuzzInput) {
    var fields = input.fields(knownKeys: recordKeys)
    // The fields the connector itself fills in (ids from Discord, the request id it made).
    let requestID = "0f8fad5b-d9cb-469f-a165-70867728950e"
    fields["request_id"] = requestID
    fields["message_id"] = "1"
    fields["author_id"] = "2"
    if let channel = fields["channel_id"], channel.isEmpty || !channel.allSatisfy(\.isASCIIDigit) { fields["channel_id"] = "3" }
    if fields["channel_id"] == nil { fields["channel_id"] = "3" }
    if let thread = fields["thread_id"], !thread.allSatisfy(\.isASCIIDigit) { fields["thread_id"] = "4" }
    if InboundMessage.Kind(rawValue: fields["kind"] ?? "") == nil {
        fields["kind"] = InboundMessage.Kind.allCases[(fields["content"]?.utf8.count ?? 0) % 3].rawValue
    }
    guard let message = try? InboundMessage(fields: fields) else {
        fatalError("fuzz invariant broken: InboundMessage rejected complete fields \(fields)")
    }
    let block = signer.block(for: requestID)
    let text = AgentInboxRecord.text(for: message, ctxBlock: block)
    check(ReplyTokens.ackIDs(in: text) == [requestID], "inbox text routes elsewhere: \(ReplyTokens.ackIDs(in: text)) in \(text.debugDescription)")
    check(ReplyTokens.ctxTokens(in: text) == [String(block.dropFirst(5).dropLast())], "inbox text has foreign ctx blocks: \(text.debugDescription)")
    check(text.matches(of: ReplyTokens.requestIDPattern).count == 1, "inbox text has foreign request_id tags: \(text.debugDescription)")
    let agent = fields["agent"].flatMap { AgentRouter.isValidAgentName($0) ? $0 : nil } ?? "agent"
    let record = AgentInboxRecord(message: message, agent: agent, connectorAgentName: "discord", ctxBlock: block)
    roundTrip(AgentInboxRecord.self, Dictionary(uniqueKeysWithValues: record.fields))
}

// MARK: - Configuration

func fuzzDotEnv(_ input: FuzzInput) {
    let values: [String: String]
    do {
        values = try DotEnv.parse(input.text)
    } catch {
        _ = error.description
        return
    }
    for key in values.keys {
        check(key.unicodeScalars.first.map { $0 == "_" || $0.isASCIILetter } == true
              && key.unicodeScalars.allSatisfy { $0 == "_" || $0.isASCIILetter || ("0"..."9").contains($0) },
              ".env accepted the variable name \(key.debugDescription)")
    }
}

func fuzzRedisURL(_ input: FuzzInput) {
    let url: RedisURL
    do {
        url = try RedisURL(parsing: input.text)
    } catch {
        _ = error.description
        return
    }
    switch url.endpoint {
    case .tcp(let host, let port):
        check(!host.isEmpty && (1...65535).contains(port), "bad endpoint \(host):\(port)")
    case .unix(let path):
        check(path.hasPrefix("/"), "relative unix path")
    }
    check(url.database >= 0, "negative database")
    // The credential-free description parses back to the same place. (ASCII hosts only: a host
    // ending in a Unicode "prepend" character fuses with the ":" added before the port.)
    if case .tcp(let host, _) = url.endpoint, !host.unicodeScalars.allSatisfy(\.isASCII) {} else {
        let again = try? RedisURL(parsing: url.description)
        check(again?.endpoint == url.endpoint && again?.database == url.database, "\(url.description) does not parse back to itself")
    }
    // A password longer than eight characters never reaches the logs.
    let redactedText = url.redactedDescription
    if let password = url.password, password.count > 8, !password.contains(where: { "*:@/".contains($0) }),
       !url.description.contains(password), !(url.username ?? "").contains(password) {
        check(!redactedText.contains(password), "redactedDescription shows the password")
    }
}

func fuzzAgentMap(_ input: FuzzInput) {
    let map: [String: String]
    do {
        map = try AgentRouter.parseMap(input.text)
    } catch {
        _ = error.description
        return
    }
    for (channel, agent) in map {
        check(!channel.isEmpty && channel.allSatisfy(\.isASCIIDigit), "agent map accepted channel \(channel.debugDescription)")
        check(AgentRouter.isValidAgentName(agent), "agent map accepted agent \(agent.debugDescription)")
    }
    let router = AgentRouter(channelAgents: map, defaultAgent: "default")
    for channel in map.keys.prefix(3) { check(router.mappedAgent(channelID: channel) == map[channel], "router lost a mapping") }
}

// MARK: - Discord REST and Redis replies

func fuzzRateLimit(_ input: FuzzInput) {
    let headerKeys = ["x-ratelimit-bucket", "x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset-after",
                      "x-ratelimit-scope", "retry-after", "x-ratelimit-global", "body"]
    let fields = input.fields(knownKeys: headerKeys)
    let body = fields["body"].flatMap { try? JSON.decode(JSONValue.self, from: $0) }
    _ = RateLimitInfo(headers: fields, body: body)
}

func fuzzChannelCatalog(_ input: FuzzInput) {
    // Pairs are channel id -> name; a name starting with "=" is pinned instead.
    let fields = input.fields(knownKeys: ["1", "2", "3", "general", "#General", "name"])
    var entries: [ChannelCatalog.Entry] = []
    var pinned: [String: String] = [:]
    for (id, name) in fields.sorted(by: { $0.key < $1.key }) {
        if name.hasPrefix("=") {
            pinned[ChannelCatalog.normalise(String(name.dropFirst()))] = id
        } else {
            entries.append(.init(id: id, name: name, type: (id.utf8.first.map(Int.init) ?? 0) % 16, guildID: nil, parentID: nil))
        }
    }
    let catalog = ChannelCatalog(entries: entries, pinned: pinned)
    let ids = Set(entries.map(\.id)).union(pinned.values)
    for query in Array(fields.values.prefix(3)) + [input.text] {
        switch catalog.resolve(query) {
        case .found(let id): check(ids.contains(id), "resolve found an unknown id \(id)")
        case .ambiguous(_, let matches): check(matches.count > 1 && matches.allSatisfy(ids.contains), "bad ambiguity \(matches)")
        case .unknown: break
        }
    }
}

/// A Redis reply tree built from the bytes, as hiredis would hand it over.
func fuzzStreamEntries(_ input: FuzzInput) {
    var reader = ByteReader(bytes: input.bytes)
    let value = reader.redisValue(depth: 0)
    _ = value.description
    _ = value.fieldMap
    _ = value.int
    if let entries = try? StreamEntry.list(from: value) {
        for entry in entries { if let record = try? ReplyRecord(fields: entry.fields) { _ = ReplyResolution.resolve(record, signer: signer) } }
    }
    _ = try? StreamEntry.fromRead(value)
}

struct ByteReader {
    var bytes: [UInt8]
    var position = 0

    mutating func next() -> UInt8? {
        guard position < bytes.count else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func string() -> String {
        let length = Int(next() ?? 0) % 48
        let end = min(bytes.count, position + length)
        defer { position = end }
        return String(decoding: bytes[position..<end], as: UTF8.self)
    }

    mutating func redisValue(depth: Int) -> RedisValue {
        guard let tag = next() else { return .null }
        switch tag % 6 {
        case 0: return .status(string())
        case 1: return .error(string())
        case 2:
            var value = 0
            for _ in 0..<8 { value = value << 8 | Int(next() ?? 0) }
            return .integer(value)
        case 3: return .bulk(string())
        case 4: return .null
        default:
            guard depth < 6 else { return .null }
            let count = Int(next() ?? 0) % 9
            return .array((0..<count).map { _ in redisValue(depth: depth + 1) })
        }
    }
}
