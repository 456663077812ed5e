import Foundation
import Logging
import ServiceLifecycle
import Shared

/// Feedback in Discord while an agent works: a typing indicator in the channel from dispatch
/// until the reply posts (renewed every 8 s, as Discord's lasts 10 s; given up after
/// `TYPING_LIMIT` seconds), and an optional reaction on the human's message on receipt.
///
/// The Dispatcher adds each delivered request to `discord:typing` (scored by when); the
/// posting of its reply removes it. This loop runs in one Replier copy at a time (the holder of
/// its lease), so each channel gets one typing call per interval, whatever the number of copies.
/// It stops at once on graceful shutdown: a typing call is not worth waiting for.
struct FeedbackLoop: Service, CustomStringConvertible {
    let redis: RedisClient
    let keys: BusKeys
    let discord: DiscordClient
    let typing: Bool
    let reaction: String?
    let typingLimit: Int
    let lease: LeaseSet
    let logger: Logger
    var description: String { "FeedbackLoop" }

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await lease.run { _ in await loop() }
        }
    }

    private func loop() async {
        var typedAt: [String: ContinuousClock.Instant] = [:]  // channel -> last typing call
        var reacted: Set<String> = []  // request ids
        var contexts: [String: PendingContext] = [:]
        while !Task.isCancelled {
            let now = Int(Date().timeIntervalSince1970 * 1000)
            _ = try? await redis.run(ZREMRANGEBYSCORE(keys.typing, max: now - typingLimit * 1000))
            let open = (try? await redis.run(ZRANGE(keys.typing, start: 0, stop: 199))) ?? []
            var channels: Set<String> = []
            for requestID in open {
                if contexts[requestID] == nil,
                   let fields = try? await redis.run(HGETALL(keys.pending(requestID))),
                   let context = try? PendingContext(fields: fields) {
                    contexts[requestID] = context
                }
                guard let context = contexts[requestID] else { continue }
                channels.insert(context.replyChannelID)
                if let reaction, !reacted.contains(requestID) {
                    reacted.insert(requestID)
                    await call(.addReaction(channel: context.replyChannelID, message: context.messageID, emoji: reaction))
                }
            }
            if typing {
                for channel in channels.sorted() where typedAt[channel].map({ ContinuousClock.now - $0 >= .seconds(8) }) ?? true {
                    typedAt[channel] = ContinuousClock.now
                    await call(.typing(channel: channel))
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

    /// One try and one retry: feedback that comes late is no feedback.
    private func call(_ endpoint: DiscordEndpoint) async {
        do {
            _ = try await discord.perform(endpoint, retries: .attempts(2))
        } catch {
            logger.warning("\(endpoint.route) failed: \(error)")
        }
    }
}
