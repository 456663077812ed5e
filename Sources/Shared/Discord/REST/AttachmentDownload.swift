import Foundation

/// Downloads a file a person attached to a Discord message (CONTRACT section 8), for
/// `connector attachment get` and the MCP tool `download_attachment`. Discord's CDN URLs expire,
/// so with a bot token the message is read again first (`GET /channels/{id}/messages/{id}`, which
/// answers with fresh URLs); without one the URL recorded at delivery is used. The size is checked
/// against `maxBytes` before and after the download.
public struct AttachmentDownload: Sendable {
    public let discord: DiscordClient?
    public let http: HTTPClient
    public let maxBytes: Int

    public init(discord: DiscordClient?, http: HTTPClient = HTTPClient(timeout: .seconds(60), name: "attachments"), maxBytes: Int) {
        self.discord = discord
        self.http = http
        self.maxBytes = maxBytes
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// Attachment `index` (1-based, in the order the delivered record lists them) of message
    /// `messageID` in `channelID`; `recorded` is what the delivered record listed.
    public func fetch(channelID: String, messageID: String, index: Int, recorded: [DiscordMessage.Attachment]) async throws(Failure) -> (DiscordMessage.Attachment, Data) {
        var attachments = recorded
        if let discord {
            do {
                attachments = try await discord.perform(.message(channel: channelID, id: messageID), retries: .attempts(3), as: DiscordMessage.self).attachments
            } catch {
                if case .rejected(let refusal) = error, refusal.status == 404 {
                    throw Failure("message \(messageID) is gone from channel \(channelID) (Discord: \(refusal)); its files went with it")
                }
                if recorded.isEmpty { throw Failure("cannot read message \(messageID) from Discord: \(error)") }
                // The recorded URL may still be good.
            }
        }
        guard !attachments.isEmpty else { throw Failure("message \(messageID) has no attachments") }
        guard (1...attachments.count).contains(index) else {
            throw Failure("message \(messageID) has \(attachments.count) attachment(s); ask for 1 to \(attachments.count), not \(index)")
        }
        let attachment = attachments[index - 1]
        guard attachment.size <= maxBytes else {
            throw Failure("\(attachment.filename) is \(attachment.size) bytes, over the limit of \(maxBytes)")
        }
        let response: HTTPResponse
        do {
            response = try await http.request(method: "GET", url: attachment.url)
        } catch {
            throw Failure("cannot download \(attachment.filename): \(error)")
        }
        guard (200..<300).contains(response.status) else {
            let hint = discord == nil && (response.status == 403 || response.status == 404) ? " (Discord's file URLs expire; with DISCORD_BOT_TOKEN set a fresh one is asked for)" : ""
            throw Failure("downloading \(attachment.filename) answered HTTP \(response.status)\(hint)")
        }
        guard response.body.count <= maxBytes else {
            throw Failure("\(attachment.filename) is \(response.body.count) bytes, over the limit of \(maxBytes)")
        }
        return (attachment, response.body)
    }
}

extension AttachmentDownload {
    /// Where a delivered message is and what it carried, as a record on the bus says.
    public struct Delivery: Sendable, Equatable {
        public var channelID: String
        public var messageID: String
        public var attachments: [DiscordMessage.Attachment]
    }

    /// The newest record of `stream` (an inbox, or `discord:inbound`) for Discord message
    /// `messageID`, looking at most `scanLimit` entries back; nil when none is there.
    public static func findDelivery(of messageID: String, in stream: String, redis: RedisClient, scanLimit: Int = 20_000) async throws(RedisError) -> Delivery? {
        var end = "+"
        var scanned = 0
        while scanned < scanLimit {
            let page = try await redis.run(XRANGE(stream, end: end, count: 500, reversed: true))
            for entry in page where entry.fields["message_id"] == messageID {
                // A thread's messages live in the thread, which is a channel of its own.
                let thread = entry.fields["thread_id"] ?? ""
                let channel = thread.isEmpty ? entry.fields["channel_id"] ?? "" : thread
                let attachments = entry.fields["attachments"].flatMap { try? JSON.decode([DiscordMessage.Attachment].self, from: $0) } ?? []
                return Delivery(channelID: channel, messageID: messageID, attachments: attachments)
            }
            scanned += page.count
            guard page.count == 500, let last = page.last else { return nil }
            end = "(" + last.id
        }
        return nil
    }
}
