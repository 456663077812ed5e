/// Redis Cluster's key space: 16,384 slots, a key's slot the CRC16 (XMODEM) of its hash tag (the
/// part between the first `{` and the next `}`, when not empty) or else of the whole key.
public enum ClusterSlots {
    public static let count = 16_384

    /// The slot of a key.
    public static func slot(of key: some Collection<UInt8>) -> Int {
        let bytes = Array(key)
        var hashed = bytes[...]
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
           let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 {
            hashed = bytes[(open + 1)..<close]
        }
        return Int(crc16(hashed) % UInt16(count))
    }

    public static func slot(of key: String) -> Int { slot(of: Array(key.utf8)) }

    /// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0), as Redis computes it.
    static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc ^= UInt16(byte) << 8
            for _ in 0..<8 {
                crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
            }
        }
        return crc
    }

    /// A `MOVED <slot> <host>:<port>` or `ASK <slot> <host>:<port>` redirection.
    public struct Redirect: Sendable, Equatable {
        public enum Kind: Sendable, Equatable { case moved, ask }
        public var kind: Kind
        public var slot: Int
        public var node: RedisURL.HostPort
    }

    /// The redirection an error reply names; nil for any other error.
    public static func redirect(_ message: String) -> Redirect? {
        let parts = message.split(separator: " ")
        guard parts.count == 3, let slot = Int(parts[1]), (0..<count).contains(slot) else { return nil }
        let kind: Redirect.Kind
        switch parts[0] {
        case "MOVED": kind = .moved
        case "ASK": kind = .ask
        default: return nil
        }
        guard let colon = parts[2].lastIndex(of: ":"), let port = Int(parts[2][parts[2].index(after: colon)...]) else { return nil }
        var host = String(parts[2][..<colon])
        // An empty host means "the address you reached me on" (Redis 7's cluster-preferred-endpoint-type unknown-endpoint).
        if host.isEmpty { host = "?" }
        return Redirect(kind: kind, slot: slot, node: RedisURL.HostPort(host: host, port: port))
    }
}
