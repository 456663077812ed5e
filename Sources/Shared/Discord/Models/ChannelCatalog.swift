import Foundation

/// The channels the connector knows by name: what Ingest learned from GUILD_CREATE and channel
/// events (kept in Redis as `discord:channels`), plus names pinned in a channels file.
public struct ChannelCatalog: Sendable, Equatable {
    public struct Entry: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var type: Int
        public var guildID: String?
        public var parentID: String?

        public init(id: String, name: String, type: Int, guildID: String?, parentID: String?) {
            self.id = id
            self.name = name
            self.type = type
            self.guildID = guildID
            self.parentID = parentID
        }

        public init?(_ channel: DiscordChannel) {
            guard let name = channel.name else { return nil }
            self.init(id: channel.id, name: name, type: channel.type, guildID: channel.guildID, parentID: channel.parentID)
        }

        enum CodingKeys: String, CodingKey {
            case id, name, type
            case guildID = "guild_id"
            case parentID = "parent_id"
        }
    }

    public var entries: [Entry]
    /// Names pinned in the channels file: name -> channel id; they win over learned names.
    public var pinned: [String: String]

    public init(entries: [Entry], pinned: [String: String] = [:]) {
        self.entries = entries
        self.pinned = pinned
    }

    public enum Resolution: Equatable, Sendable {
        case found(String)
        case unknown(String)
        case ambiguous(String, [String])
    }

    /// Finds a channel by name: `general`, `#general` and `General` are the same name. Only
    /// text channels, announcement channels and threads can be posted to.
    public func resolve(_ rawName: String) -> Resolution {
        let name = Self.normalise(rawName)
        if let id = pinned[name] { return .found(id) }
        let matches = entries.filter { Self.normalise($0.name) == name && Self.postableTypes.contains($0.type) }
        switch matches.count {
        case 0: return .unknown(name)
        case 1: return .found(matches[0].id)
        default: return .ambiguous(name, matches.map(\.id).sorted())
        }
    }

    static let postableTypes: Set<Int> = [0, 5, 10, 11, 12]

    public static func normalise(_ name: String) -> String {
        var trimmed = name.trimmingCharacters(in: .whitespaces)
        if trimmed.hasPrefix("#") { trimmed.removeFirst() }
        return trimmed.lowercased()
    }

    /// Reads a channels file shaped like `discord-channels.json`: `{"project": {"name": "id"}}`
    /// (a flat `{"name": "id"}` works too).
    public static func pinnedNames(fromFile path: String) throws -> [String: String] {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw CocoaError(.fileReadCorruptFile)
        }
        var names: [String: String] = [:]
        for (key, value) in object {
            if let id = value as? String {
                names[normalise(key)] = id
            } else if let project = value as? [String: Any] {
                for (name, id) in project { if let id = id as? String { names[normalise(name)] = id } }
            }
        }
        return names
    }
}

extension ChannelCatalog {
    /// The catalog from Redis (`discord:channels`) and the pinned names file, if any.
    public static func load(redis: RedisClient, keys: BusKeys, pinnedFile: String?) async throws(RedisError) -> ChannelCatalog {
        let stored = try await redis.run(HGETALL(keys.channels))
        let entries = stored.dictionary.values.compactMap { try? JSON.decode(Entry.self, from: $0) }.sorted { $0.id < $1.id }
        let pinned = pinnedFile.flatMap { try? pinnedNames(fromFile: $0) } ?? [:]
        return ChannelCatalog(entries: entries, pinned: pinned)
    }
}
