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

    for inbox in inboxes {
        _ = try? await redis.send("XGROUP", "CREATE", inbox, group, "$", "MKSTREAM")
    }
    while !Task.isCancelled {
        let reply = try await RedisClient.retrying(logger: logger, what: "reading inboxes") { () throws(RedisError) -> RedisValue in
            try await redis.send(["XREADGROUP", "GROUP", group, "echo", "COUNT", "16", "BLOCK", "1000", "STREAMS"] + inboxes + inboxes.map { _ in ">" })
        }
        guard let streams = reply?.array else { continue }
        for stream in streams {
            guard let pair = stream.array, pair.count == 2, let inbox = pair[0].string else { continue }
            for entry in try StreamEntry.list(from: pair[1]) {
                let agent = entry.fields["to"] ?? String(inbox.dropFirst("sos:inbox:".count))
                let replyTo = entry.fields["reply_to"].flatMap { $0.isEmpty ? nil : $0 } ?? BusKeys.inbox(config.connectorAgentName)
                if let requestID = entry.fields["request_id"] {
                    let text = "echo from \(agent): \(entry.fields["content"] ?? "")\n{ack_for:\(requestID)}"
                    let answer = ReplyRecord(from: agent, to: config.connectorAgentName, text: text)
                    try await redis.send(["XADD", replyTo, "*"] + flattenFields(answer.fields))
                    logger.info("answered request \(requestID) as \(agent)")
                }
                try await redis.send("XACK", inbox, group, entry.id)
            }
        }
    }
}
