import Foundation

/// Decides which agent gets a message (CONTRACT section 2), from `MUMEGA_AGENT_MAP` and
/// `MUMEGA_DEFAULT_AGENT`. A thread inherits its parent channel's mapping.
public struct AgentRouter: Sendable, Equatable {
    public var channelAgents: [String: String]
    public var defaultAgent: String

    public init(channelAgents: [String: String], defaultAgent: String) {
        self.channelAgents = channelAgents
        self.defaultAgent = defaultAgent
    }

    /// The agent mapped to a channel, looking at a thread's parent first; nil when unmapped.
    public func mappedAgent(channelID: String, threadID: String = "") -> String? {
        // For a thread message `channelID` is already the parent; the thread id may be mapped too.
        if !threadID.isEmpty, let agent = channelAgents[threadID] { return agent }
        return channelAgents[channelID]
    }

    /// The agent for an accepted message.
    public func agent(for message: InboundMessage) -> String {
        // A click, or a reply to an agent's message, goes back to that agent, mapped or not.
        if message.kind == .component || message.kind == .reply, Self.isValidAgentName(message.requestedAgent) { return message.requestedAgent }
        if !message.requestedAgent.isEmpty, isKnownAgent(message.requestedAgent) { return message.requestedAgent }
        if message.kind == .dm { return defaultAgent }
        return mappedAgent(channelID: message.channelID, threadID: message.threadID) ?? defaultAgent
    }

    /// The agents the configuration names: the default and every mapped one, sorted.
    public var knownAgents: [String] { Array(Set([defaultAgent] + channelAgents.values)).sorted() }

    public func isKnownAgent(_ name: String) -> Bool { name == defaultAgent || channelAgents.values.contains(name) }

    /// Agent names become stream keys: keep them to a safe alphabet.
    public static func isValidAgentName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.unicodeScalars.allSatisfy {
            $0.isASCIILetter || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == "."
        }
    }

    /// Parses `MUMEGA_AGENT_MAP`: a JSON object of channel id -> agent name.
    public static func parseMap(_ json: String) throws(ConfigError) -> [String: String] {
        let variable = "MUMEGA_AGENT_MAP"
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(json.utf8))
        } catch {
            throw ConfigError(variable: variable, problem: "not valid JSON; expected {\"CHANNEL_ID\": \"agent-name\", ...}")
        }
        guard let dictionary = object as? [String: Any] else {
            throw ConfigError(variable: variable, problem: "expected a JSON object {\"CHANNEL_ID\": \"agent-name\", ...}")
        }
        var map: [String: String] = [:]
        for (channel, value) in dictionary {
            guard !channel.isEmpty, channel.allSatisfy(\.isASCIIDigit) else {
                throw ConfigError(variable: variable, problem: "key '\(channel)' is not a Discord channel id (digits only)")
            }
            guard let agent = value as? String, isValidAgentName(agent) else {
                throw ConfigError(variable: variable, problem: "channel \(channel): agent must be a name of letters, digits, '-', '_' or '.'")
            }
            map[channel] = agent
        }
        return map
    }
}

extension Character {
    var isASCIIDigit: Bool { isASCII && isNumber }
}
