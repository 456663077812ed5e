import Foundation

/// One gateway payload as received: `{"op", "d", "s", "t"}`.
///
/// Decoding is tolerant of what it does not need and strict about what it does: a frame that
/// is not JSON, is too large, or lacks `op` is an error the caller logs and skips.
public struct GatewayFrame: Sendable {
    public var opcode: Int
    public var sequence: Int?
    public var eventName: String?
    /// The raw JSON of `d`, decoded further only for the events the connector handles.
    public var data: Data

    /// Discord's frames stay well below this; anything larger is refused unread.
    public static let maxSize = 4 * 1024 * 1024

    public struct DecodingError: Error, CustomStringConvertible {
        public var description: String
    }

    public init(opcode: Int, sequence: Int? = nil, eventName: String? = nil, data: Data = Data("null".utf8)) {
        self.opcode = opcode
        self.sequence = sequence
        self.eventName = eventName
        self.data = data
    }

    /// Reads `op`, `s` and `t` from the text as it is (`JSONScan`) and keeps `d` as the bytes it
    /// arrived in: nothing is decoded that the caller does not ask for.
    public static func decode(_ text: String) throws(DecodingError) -> GatewayFrame {
        guard text.utf8.count <= maxSize else {
            throw DecodingError(description: "frame of \(text.utf8.count) bytes exceeds \(maxSize)")
        }
        let bytes = Array(text.utf8)
        let members: [Range<Int>?]
        do {
            members = try JSONScan.values(named: ["op", "s", "t", "d"], in: bytes, range: 0..<bytes.count)
        } catch {
            throw DecodingError(description: "frame is not a JSON object (at byte \(error.offset))")
        }
        guard let opcode = members[0].flatMap({ JSONScan.int(bytes, $0) }) else { throw DecodingError(description: "frame has no integer 'op'") }
        let sequence = members[1].flatMap { JSONScan.int(bytes, $0) }
        let eventName = members[2].flatMap { JSONScan.string(bytes, $0) }
        if opcode == GatewayOpcode.dispatch.rawValue, sequence == nil || eventName == nil {
            throw DecodingError(description: "dispatch frame lacks 's' or 't'")
        }
        var data = Data("null".utf8)
        if let payload = members[3], !JSONScan.isNull(bytes, payload) { data = Data(bytes[payload]) }
        return GatewayFrame(opcode: opcode, sequence: sequence, eventName: eventName, data: data)
    }

    /// Decodes `d` as a typed payload.
    public func payload<T: Decodable>(_ type: T.Type) throws -> T {
        try JSONDecoder().decode(type, from: data)
    }
}

/// Payloads the connector sends.
public enum GatewayCommand {
    public static func heartbeat(sequence: Int?) -> String {
        "{\"op\":1,\"d\":\(sequence.map(String.init) ?? "null")}"
    }

    public static func identify(token: String, intents: GatewayIntents, shard: (Int, Int)? = nil) -> String {
        var d: [String: Any] = [
            "token": token,
            "intents": intents.rawValue,
            "properties": ["os": "linux", "browser": "discord-connector", "device": "discord-connector"],
        ]
        if let shard { d["shard"] = [shard.0, shard.1] }
        return serialise(["op": GatewayOpcode.identify.rawValue, "d": d])
    }

    public static func resume(token: String, sessionID: String, sequence: Int) -> String {
        serialise(["op": GatewayOpcode.resume.rawValue, "d": ["token": token, "session_id": sessionID, "seq": sequence] as [String: Any]])
    }

    private static func serialise(_ object: [String: Any]) -> String {
        // These objects are built from strings and numbers only, so serialisation cannot fail.
        String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
    }
}
