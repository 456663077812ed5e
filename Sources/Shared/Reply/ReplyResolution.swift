import Crypto
import Foundation

/// Which request an agent's reply answers (CONTRACT section 3).
///
/// In order of trust: the `ack_for` field (set deliberately by the agent's program); an
/// explicit `channel_id`/`channel_name` (an outbound message, CONTRACT section 4); a ctx block
/// this connector signed (it cannot be forged, so it wins over any `{ack_for:…}` the text
/// contains: an agent that echoes a human's message may echo a planted token with it); and only
/// then the first `{ack_for:<uuid>}` in the text.
public enum ReplyResolution: Equatable, Sendable {
    case request(String)
    /// Not a reply at all: a message for a channel (CONTRACT section 4).
    case outbound
    case unroutable(reason: String)

    public static func resolve(_ record: ReplyRecord, signer: CtxSigner) -> ReplyResolution {
        if let field = record.ackFor {
            let id = field.lowercased()
            guard isRequestID(id) else { return .unroutable(reason: "ack_for field '\(field.prefix(64))' is not a request id") }
            return .request(id)
        }
        // An explicit channel (CONTRACT section 4) wins over tokens the text may quote.
        if record.channelID != nil || record.channelName != nil { return .outbound }
        let tokens = ReplyTokens.ctxTokens(in: record.text)
        for token in tokens {
            if let id = signer.verify(token) { return .request(id) }
        }
        if let id = ReplyTokens.ackIDs(in: record.text).first { return .request(id) }
        if !tokens.isEmpty { return .unroutable(reason: "ctx block not signed by this connector") }
        return .unroutable(reason: "no ack_for and no ctx block")
    }

    /// A lowercase UUID (8-4-4-4-12 hex digits), checked byte by byte: this runs for every reply.
    static func isRequestID(_ text: String) -> Bool {
        var count = 0
        for byte in text.utf8 {
            let dash = count == 8 || count == 13 || count == 18 || count == 23
            if dash {
                guard byte == UInt8(ascii: "-") else { return false }
            } else {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte) else { return false }
            }
            count += 1
            if count > 36 { return false }
        }
        return count == 36
    }
}

/// The `nonce` for one chunk of one reply: derived from the bus entry and the chunk index, so a
/// retried post carries the same nonce and Discord (with `enforce_nonce`) creates it only once.
public enum ReplyNonce {
    /// 24 hex characters (Discord allows 25).
    public static func make(stream: String, entryID: String, chunk: Int) -> String {
        let digest = SHA256.hash(data: Data("\(stream)|\(entryID)|\(chunk)".utf8))
        return String(hexString(digest).prefix(24))
    }
}
