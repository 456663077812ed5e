/// Optional allowlists (`ALLOWED_GUILDS`, `ALLOWED_CHANNELS`, `ALLOWED_USERS`): when a list is
/// set, only messages inside it are forwarded; the rest are dropped and counted.
///
/// `ALLOWED_GUILDS` applies to guild messages, `ALLOWED_CHANNELS` to channels (a thread counts
/// as its parent channel), `ALLOWED_USERS` to every author, in DMs too. A DM passes
/// `ALLOWED_GUILDS` and `ALLOWED_CHANNELS` (it has neither), so restrict DMs with `ALLOWED_USERS`.
public struct Allowlist: Sendable, Equatable {
    public var guilds: Set<String>?
    public var channels: Set<String>?
    public var users: Set<String>?

    public init(guilds: Set<String>? = nil, channels: Set<String>? = nil, users: Set<String>? = nil) {
        self.guilds = guilds
        self.channels = channels
        self.users = users
    }

    /// Why a message is outside the lists, or nil when it may pass.
    public func refusal(guildID: String?, channelID: String, threadID: String, authorID: String) -> String? {
        if let users, !users.contains(authorID) { return "author \(authorID) is not in ALLOWED_USERS" }
        guard let guildID else { return nil }  // a DM
        if let guilds, !guilds.contains(guildID) { return "guild \(guildID) is not in ALLOWED_GUILDS" }
        if let channels, !channels.contains(channelID), threadID.isEmpty || !channels.contains(threadID) {
            return "channel \(channelID) is not in ALLOWED_CHANNELS"
        }
        return nil
    }

    /// Parses a comma-separated list of Discord ids; nil when the variable is unset or empty.
    public static func parseIDs(_ raw: String?, variable: String) throws(ConfigError) -> Set<String>? {
        guard let raw, !raw.trimmingWhitespace().isEmpty else { return nil }
        var ids: Set<String> = []
        for part in raw.split(separator: ",", omittingEmptySubsequences: false) {
            let id = part.trimmingWhitespace()
            guard !id.isEmpty, id.allSatisfy(\.isASCIIDigit) else {
                throw ConfigError(variable: variable, problem: "'\(id)' is not a Discord id; expected comma-separated ids like 123,456")
            }
            ids.insert(id)
        }
        return ids
    }
}
