import Foundation
import Shared

/// What the MCP server reads from its environment: the connector's configuration
/// (`ConnectorConfig`, environment and `.env`) and the agent identity it writes as.
struct MCPSettings: Sendable {
    var connector: ConnectorConfig
    /// `MCP_AGENT_NAME`: the `from` of every record this server writes, and its consumer name
    /// when reading inboxes.
    var agentName: String

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
        return MCPSettings(connector: connector, agentName: agentName)
    }

    /// For `--check`: the connector's configuration, secrets redacted, and the agent identity.
    var redactedDescription: String {
        connector.redactedDescription + "\nMCP_AGENT_NAME=\(agentName)"
    }
}
