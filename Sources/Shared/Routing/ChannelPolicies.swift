import Foundation

/// `AUTO_THREAD`: which channels give every request a thread of its own. `1` for every channel,
/// `0` (the default) for none, or a JSON object of channel id -> `1`/`0` (or `true`/`false`), like
/// `MUMEGA_AGENT_MAP`.
public struct AutoThread: Sendable, Equatable {
    /// Nil: every channel; otherwise the channels listed with `1`.
    public var channels: Set<String>?

    public static let off = AutoThread(channels: [])
    public static let everywhere = AutoThread(channels: nil)

    public init(channels: Set<String>?) {
        self.channels = channels
    }

    /// Whether a request in `channelID` (a channel, not a thread) gets its own thread.
    public func applies(to channelID: String) -> Bool {
        channels.map { $0.contains(channelID) } ?? true
    }

    public var isOff: Bool { channels?.isEmpty == true }

    public var description: String {
        switch channels {
        case nil: "1"
        case let set? where set.isEmpty: "0"
        case let set?: set.sorted().joined(separator: ",")
        }
    }

    public static func parse(_ raw: String?) throws(ConfigError) -> AutoThread {
        let variable = "AUTO_THREAD"
        guard let raw, !raw.isEmpty else { return .off }
        switch raw.lowercased() {
        case "1", "true", "yes", "on": return .everywhere
        case "0", "false", "no", "off": return .off
        default: break
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(raw.utf8))) as? [String: Any] else {
            throw ConfigError(variable: variable, problem: "expected 1, 0 or a JSON object {\"CHANNEL_ID\": 1, ...}, got '\(raw.prefix(60))'")
        }
        var channels: Set<String> = []
        for (channel, value) in object {
            guard !channel.isEmpty, channel.allSatisfy(\.isASCIIDigit) else {
                throw ConfigError(variable: variable, problem: "key '\(channel.prefix(40))' is not a Discord channel id (digits only)")
            }
            let on: Bool
            switch value {
            case let number as NSNumber: on = number.intValue != 0
            case let text as String where ["1", "true", "on"].contains(text.lowercased()): on = true
            case let text as String where ["0", "false", "off"].contains(text.lowercased()): on = false
            default: throw ConfigError(variable: variable, problem: "channel \(channel): expected 1 or 0 (or true/false)")
            }
            if on { channels.insert(channel) }
        }
        return AutoThread(channels: channels)
    }

    /// The name of a request's thread: the first line of what the person wrote, without mentions,
    /// at most 80 characters (Discord allows 1-100), else `Request from <author>`.
    public static func threadName(content: String, author: String) -> String {
        var text = content
        // <@id>, <@!id>, <@&id>, <#id>: mentions read as raw ids in a thread's name.
        while let range = text.range(of: #"<[@#][!&]?\d+>"#, options: .regularExpression) {
            text.removeSubrange(range)
        }
        let firstLine = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let words = firstLine.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        if words.isEmpty {
            let who = author.trimmingCharacters(in: .whitespacesAndNewlines)
            return who.isEmpty ? "Request" : String("Request from \(who)".prefix(80))
        }
        guard words.count > 80 else { return words }
        let cut = words.prefix(79)
        let atWord = cut.lastIndex(of: " ").map { cut[..<$0] } ?? cut
        return String(atWord.count >= 40 ? atWord : cut) + "…"
    }
}

/// `OUTBOUND_POLICY`: where each agent may post without a request (CONTRACT section 4), as a JSON
/// object agent -> channel ids or names (`"*"` as a channel: anywhere; `"*"` as an agent: every
/// agent not listed). Unset: every agent may post anywhere. Set: an agent it does not name (and
/// no `"*"` entry covers) may post nowhere without a request. Answers to requests are not
/// limited: the request says where they go.
public struct OutboundPolicy: Sendable, Equatable {
    /// Nil: no policy.
    public var rules: [String: [String]]?

    public static let open = OutboundPolicy(rules: nil)

    public init(rules: [String: [String]]?) {
        self.rules = rules
    }

    public enum Decision: Sendable, Equatable {
        case allowed
        case refused(String)
    }

    /// Whether `agent` may post to the channel `channelID` (named `channelName`, normalised, when
    /// known; `parentID` for a thread: a thread of an allowed channel is allowed).
    public func decide(agent: String, channelID: String, channelName: String?, parentID: String? = nil) -> Decision {
        guard let rules else { return .allowed }
        guard let allowed = rules[agent] ?? rules["*"] else {
            return .refused("OUTBOUND_POLICY gives agent '\(agent)' no channel to post to without a request")
        }
        let names = Set(allowed.map { ChannelCatalog.normalise($0) })
        if allowed.contains("*") || allowed.contains(channelID) || parentID.map(allowed.contains) == true
            || channelName.map({ names.contains(ChannelCatalog.normalise($0)) }) == true {
            return .allowed
        }
        let shown = channelName.map { "#\($0) (\(channelID))" } ?? channelID
        return .refused("OUTBOUND_POLICY does not let agent '\(agent)' post to \(shown) without a request (allowed: \(allowed.joined(separator: ", ")))")
    }

    public var description: String {
        guard let rules else { return "(any agent, any channel)" }
        return rules.keys.sorted().map { "\($0):\(rules[$0]!.joined(separator: "|"))" }.joined(separator: ",")
    }

    public static func parse(_ raw: String?) throws(ConfigError) -> OutboundPolicy {
        let variable = "OUTBOUND_POLICY"
        guard let raw, !raw.isEmpty else { return .open }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(raw.utf8))) as? [String: Any] else {
            throw ConfigError(variable: variable, problem: "expected a JSON object {\"agent\": [\"channel id or name\", ...]}")
        }
        var rules: [String: [String]] = [:]
        for (agent, value) in object {
            guard agent == "*" || AgentRouter.isValidAgentName(agent) else {
                throw ConfigError(variable: variable, problem: "'\(agent.prefix(40))' is not an agent name (letters, digits, '-', '_', '.') or \"*\"")
            }
            guard let list = value as? [Any], list.allSatisfy({ ($0 as? String)?.isEmpty == false }) else {
                throw ConfigError(variable: variable, problem: "agent '\(agent)': expected a JSON array of channel ids or names")
            }
            rules[agent] = list.compactMap { ($0 as? String)?.trimmingCharacters(in: .whitespaces) }
        }
        return OutboundPolicy(rules: rules)
    }
}
