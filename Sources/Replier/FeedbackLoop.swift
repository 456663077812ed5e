import Foundation
import Logging
import Shared

/// Feedback in Discord while an agent works: a typing indicator in the channel from dispatch
/// until the reply posts (renewed every 8 s, as Discord's lasts 10 s; given up after
/// `TYPING_LIMIT` seconds), and an optional reaction on the human's message on receipt.
///
/// The Dispatcher adds each delivered request to `discord:typing` (scored by when); the
/// posting of its reply removes it. This loop runs in the one Replier copy holding the sequencer
/// lease, so each channel gets one typing call per interval, whatever the number of copies.
struct FeedbackLoop: Sendable {
    let redis: RedisClient
    let keys: BusKeys
    let rest: DiscordREST
    let limiter: SharedRateLimiter
    let typing: Bool
    let reaction: String?
    let typingLimit: Int
    let logger: Logger

    func run() async {
        var typedAt: [String: ContinuousClock.Instant] = [:]  // channel -> last typing call
        var reacted: Set<String> = []  // request ids
        var contexts: [String: PendingContext] = [:]
        while !Task.isCancelled {
            let now = Int(Date().timeIntervalSince1970 * 1000)
            _ = try? await redis.send("ZREMRANGEBYSCORE", keys.typing, "-inf", String(now - typingLimit * 1000))
            let open = (try? await redis.send("ZRANGE", keys.typing, "0", "199").array?.compactMap(\.string)) ?? []
            var channels: Set<String> = []
            for requestID in open {
                if contexts[requestID] == nil,
                   let fields = try? await redis.send("HGETALL", keys.pending(requestID)).fieldMap,
                   let context = try? PendingContext(fields: fields) {
                    contexts[requestID] = context
                }
                guard let context = contexts[requestID] else { continue }
                channels.insert(context.replyChannelID)
                if let reaction, !reacted.contains(requestID) {
                    reacted.insert(requestID)
                    await react(reaction, to: context)
                }
            }
            if typing {
                for channel in channels.sorted() where typedAt[channel].map({ ContinuousClock.now - $0 >= .seconds(8) }) ?? true {
                    typedAt[channel] = ContinuousClock.now
                    await call("POST", "/channels/\(channel)/typing", route: "POST /channels/{channel.id}/typing", major: channel)
                }
            }
            // Forget what is no longer open.
            let stillOpen = Set(open)
            contexts = contexts.filter { stillOpen.contains($0.key) }
            reacted = reacted.intersection(stillOpen)
            typedAt = typedAt.filter { channels.contains($0.key) }
            try? await Task.sleep(for: .seconds(1))
        }
    }

    private func react(_ emoji: String, to context: PendingContext) async {
        let encoded = emoji.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? emoji
        await call("PUT", "/channels/\(context.replyChannelID)/messages/\(context.messageID)/reactions/\(encoded)/@me",
                   route: "PUT /channels/{channel.id}/messages/{message.id}/reactions/{emoji}/@me", major: context.replyChannelID)
    }

    private func call(_ method: String, _ path: String, route: String, major: String) async {
        guard let reservation = await limiter.acquire(route: route, major: major) else { return }
        do {
            let response = try await rest.send(method, path)
            await limiter.record(route: route, major: major, reservation: reservation, status: response.status, info: RateLimitInfo(headers: response.headers, body: try? JSON.decode(JSONValue.self, from: response.body)))
            if !(200..<300).contains(response.status) {
                logger.warning("\(method) \(route) answered \(response.status): \(response.bodyText.prefix(200))")
            }
        } catch {
            logger.warning("\(method) \(route) failed: \(error)")
        }
    }
}
