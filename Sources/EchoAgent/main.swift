import Foundation
import Logging
import ServiceLifecycle
import Shared

// A stand-in agent for development and tests: answers every message in its inboxes with an
// echo, naming the request with {ack_for:<uuid>} as a real agent would. A message with the word
// "buttons" in it is answered with Approve / Deny buttons; a click on them is answered by
// editing the clicked message (update=1) to say who chose what, which removes the buttons.
// The words "file", "react", "thread" and "progress" show the other rich replies: the echo as
// echo.txt, a 👍 on the message, the answer in a new thread, three status updates in place.
// Files a person attached are named in the echo.
//
// Inboxes: ECHO_AGENTS (comma-separated), else MUMEGA_DEFAULT_AGENT and every mapped agent.
await ServiceMain.run(
    .init(name: "EchoAgent", summary: "a stand-in agent that echoes every message it receives", needsDiscordToken: false)
) { config, logger in
    let names = ProcessInfo.processInfo.environment["ECHO_AGENTS"]?.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        ?? Array(Set([config.router.defaultAgent] + config.router.channelAgents.values)).sorted()
    return [EchoAgent(config: config, names: names, logger: logger)]
}

struct EchoAgent: Service, CustomStringConvertible {
    let config: ConnectorConfig
    let names: [String]
    let logger: Logger
    var description: String { "EchoAgent" }

    func run() async throws {
        try await cancelWhenGracefulShutdown { await answerUntilCancelled() }
    }

    private func answerUntilCancelled() async {
        let redis = RedisClient(config: config, name: "echo-redis")
        let inboxes = names.map(BusKeys.inbox)
        let group = BusKeys.echoGroup
        logger.info("echo agent answering \(inboxes.joined(separator: ", "))")

        var groupsReady = false
        var recovering = false
        while !Task.isCancelled {
            if !groupsReady {
                for inbox in inboxes {
                    _ = try? await redis.run(XGROUPCREATE(inbox, group: group, start: "$"))
                }
                groupsReady = true
            }
            let entries: [(inbox: String, entry: StreamEntry)]?
            do {
                entries = try await RedisClient.retrying(logger: logger, what: "reading inboxes") { () throws(RedisError) -> [(inbox: String, entry: StreamEntry)] in
                    // After a failed read, first what was delivered to us but never seen ("0"), until
                    // none is left; a read that fails sets `recovering` again.
                    let from = recovering ? "0" : ">"
                    recovering = true
                    // On a Redis Cluster the inboxes live in different slots, where one read
                    // cannot span them: one read per inbox, shorter blocks.
                    let reads = await redis.url.isCluster ? inboxes.map { [$0] } : [inboxes]
                    var streams: [(stream: String, entries: [StreamEntry])] = []
                    for batch in reads {
                        streams += try await redis.run(XREADGROUP(
                            group: group, consumer: "echo", count: 16, block: from == ">" ? 1000 / reads.count : nil, streams: batch.map { ($0, from) }
                        ).byStream)
                    }
                    let read = streams.flatMap { stream in stream.entries.map { (stream.stream, $0) } }
                    recovering = from == "0" && !read.isEmpty
                    return read
                }
            } catch {
                logger.error("cannot read the inboxes: \(error); retrying")
                groupsReady = false
                recovering = true
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            guard let entries else { return }
            for (inbox, entry) in entries {
                await answer(entry, in: inbox, group: group, redis: redis)
            }
        }
    }

    private func answer(_ entry: StreamEntry, in inbox: String, group: String, redis: RedisClient) async {
        let agent = entry.fields["to"] ?? String(inbox.dropFirst("sos:inbox:".count))
        let replyTo = entry.fields["reply_to"].flatMap { $0.isEmpty ? nil : $0 } ?? BusKeys.inbox(config.connectorAgentName)
        guard let requestID = entry.fields["request_id"] else {
            _ = try? await RedisClient.retrying(logger: logger, what: "acknowledging") { () throws(RedisError) in
                try await redis.run(XACK(inbox, group: group, ids: [entry.id]))
            }
            return
        }
        var answer: ReplyRecord
        if entry.fields["kind"] == InboundMessage.Kind.component.rawValue {
            let values = entry.fields["values"].flatMap { ["", "[]"].contains($0) ? nil : " \($0)" } ?? ""
            let text = "echo from \(agent): \(entry.fields["author_name"] ?? "someone") chose \(entry.fields["component_label"] ?? entry.fields["custom_id"] ?? "?")\(values)\n{ack_for:\(requestID)}"
            answer = ReplyRecord(from: agent, to: config.connectorAgentName, text: text)
            answer.update = true
        } else {
            let content = entry.fields["content"] ?? ""
            // Files the person attached are named back (the agent could fetch them with
            // `connector attachment get` or the MCP tool download_attachment).
            let files = (entry.fields["attachments"].flatMap { try? JSON.decode([DiscordMessage.Attachment].self, from: $0) } ?? [])
                .map { "\($0.filename) (\($0.size) bytes)" }
            let received = files.isEmpty ? "" : "\nreceived: " + files.joined(separator: ", ")
            answer = ReplyRecord(from: agent, to: config.connectorAgentName, text: "echo from \(agent): \(content)\(received)\n{ack_for:\(requestID)}")
            let words = content.lowercased()
            if words.contains("buttons") { answer.buttons = #"["Approve","Deny"]"# }
            if words.contains("file") { answer.files = [DiscordFile(filename: "echo.txt", contentType: "text/plain; charset=utf-8", data: Data(content.utf8))] }
            if words.contains("react") { answer.react = "👍" }
            if words.contains("thread") { answer.thread = "echo: \(content.prefix(60))" }
            if words.contains("progress") {
                // Three status updates in place, a second apart, then the answer as a new message.
                for step in 1...3 {
                    var status = ReplyRecord(from: agent, to: config.connectorAgentName, text: "working… step \(step)/3", ackFor: requestID)
                    status.progress = true
                    _ = try? await redis.run(XADD(replyTo, fields: status.streamFields))
                    try? await Task.sleep(for: .seconds(1))
                }
            }
        }
        // Acknowledge and answer in one step, so a restart of Redis or of this agent neither
        // loses nor doubles an answer.
        _ = try? await RedisClient.retrying(logger: logger, what: "answering") { () throws(RedisError) in
            try await BusMove.forward(redis: redis, source: inbox, group: group, entryID: entry.id, target: replyTo, fields: answer.streamFields)
        }
        logger.info("answered request \(requestID) as \(agent)")
    }
}
