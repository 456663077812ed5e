import Foundation
import Shared

/// What the MCP server reads from its environment: the connector's configuration
/// (`ConnectorConfig`, environment and `.env`) and the agent identity it writes as.
struct MCPSettings: Sendable {
    var connector: ConnectorConfig
    /// `MCP_AGENT_NAME`: the `from` of every record this server writes, and its consumer name
    /// when reading inboxes.
    var agentName: String
    /// `MCP_BUS_TOKEN`: the password of the agent's Redis ACL user (named `MCP_AGENT_NAME`, made by
    /// `connector acl apply`). Unset: the bus URL's own credentials, if any (a Redis without ACLs).
    var busToken: String?

    static let defaultAgentName = "mcp-agent"

    /// Resolves the settings from the process environment and `.env` in the working directory
    /// (the environment wins), exactly like the connector's services.
    static func load(
        processEnvironment: [String: String] = ProcessInfo.processInfo.environment,
        dotEnvPath: String = ".env"
    ) throws(ConfigError) -> MCPSettings {
        let connector = try ConnectorConfig.load(processEnvironment: processEnvironment, dotEnvPath: dotEnvPath)
        var merged: [String: String] = [:]
        if let text = try? String(contentsOfFile: dotEnvPath, encoding: .utf8) {
            merged = try DotEnv.parse(text, source: dotEnvPath)
        }
        merged.merge(processEnvironment) { _, process in process }
        let raw = merged["MCP_AGENT_NAME"].map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        let agentName = raw.isEmpty ? defaultAgentName : raw
        guard AgentRouter.isValidAgentName(agentName) else {
            throw ConfigError(variable: "MCP_AGENT_NAME", problem: "'\(agentName)' is not a valid agent name (letters, digits, '-', '_', '.')")
        }
        let token = merged["MCP_BUS_TOKEN"].map { $0.trimmingCharacters(in: .whitespaces) }
        return MCPSettings(connector: connector, agentName: agentName, busToken: token?.isEmpty == false ? token : nil)
    }

    /// For `--check`: the connector's configuration, secrets redacted, and the agent identity.
    var redactedDescription: String {
        connector.redactedDescription + "\nMCP_AGENT_NAME=\(agentName)\nMCP_BUS_TOKEN=\(busToken == nil ? "(none: the bus URL's credentials)" : redacted(busToken))"
    }
}
