import Foundation
import Logging
import Shared

// A stand-in agent for development and tests: answers every message in its inboxes with an
// echo, naming the request with {ack_for:<uuid>} as a real agent would.
//
// Inboxes: ECHO_AGENTS (comma-separated), else MUMEGA_DEFAULT_AGENT and every mapped agent.
await ServiceMain.run(
    .init(name: "EchoAgent", summary: "a stand-in agent that echoes every message it receives", needsDiscordToken: false)
) { config, logger in
    let names = ProcessInfo.processInfo.environment["ECHO_AGENTS"]?.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }
        ?? Array(Set([config.router.defaultAgent] + config.router.channelAgents.values)).sorted()
    let redis = RedisClient(config: config, name: "echo-redis")
    let inboxes = names.map(BusKeys.inbox)
    let group = "echo-agent"
    logger.info("echo agent answering \(inboxes.joined(separator: ", "))")

    var groupsReady = false
    var recovering = false
    while !Task.isCancelled {
        if !groupsReady {
            for inbox in inboxes {
                _ = try? await redis.send("XGROUP", "CREATE", inbox, group, "$", "MKSTREAM")
            }
            groupsReady = true
        }
        let reply: RedisValue?
        do {
            reply = try await RedisClient.retrying(logger: logger, what: "reading inboxes") { () throws(RedisError) -> RedisValue in
                // After a failed read, first what was delivered to us but never seen ("0"), until
                // none is left; a read that fails sets `recovering` again.
                let from = recovering ? "0" : ">"
                recovering = true
                let blocking = from == ">" ? ["BLOCK", "1000"] : []
                let reply = try await redis.send(["XREADGROUP", "GROUP", group, "echo", "COUNT", "16"] + blocking + ["STREAMS"] + inboxes + inboxes.map { _ in from })
                let delivered = reply.array?.contains { $0.array?.last?.array?.isEmpty == false } ?? false
                recovering = from == "0" && delivered
                return reply
            }
        } catch {
            logger.error("cannot read the inboxes: \(error); retrying")
            groupsReady = false
            recovering = true
            try? await Task.sleep(for: .seconds(1))
            continue
        }
        guard let streams = reply?.array else { continue }
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let inbox = pair[0].string else { continue }
            for entry in try StreamEntry.list(from: pair[1]) {
                let agent = entry.fields["to"] ?? String(inbox.dropFirst("sos:inbox:".count))
                let replyTo = entry.fields["reply_to"].flatMap { $0.isEmpty ? nil : $0 } ?? BusKeys.inbox(config.connectorAgentName)
                guard let requestID = entry.fields["request_id"] else {
                    _ = try await RedisClient.retrying(logger: logger, what: "acknowledging") { () throws(RedisError) in
                        try await redis.send("XACK", inbox, group, entry.id)
                    }
                    continue
                }
                let text = "echo from \(agent): \(entry.fields["content"] ?? "")\n{ack_for:\(requestID)}"
                let answer = ReplyRecord(from: agent, to: config.connectorAgentName, text: text)
                // Acknowledge and answer in one step, so a restart of Redis or of this agent
                // neither loses nor doubles an answer.
                _ = try await RedisClient.retrying(logger: logger, what: "answering") { () throws(RedisError) in
                    try await redis.evaluate(BusScripts.forwardToInbox, keys: [inbox, replyTo], arguments: [group, entry.id, agent] + flattenFields(answer.fields))
                }
                logger.info("answered request \(requestID) as \(agent)")
            }
        }
    }
}
