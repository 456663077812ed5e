import Foundation
import Logging
import MCP
import Shared

// ConnectorMCP: the connector's tools for agents, as an MCP server on stdio.
// Standard output is the MCP channel: everything else (logs, errors) goes to standard error.

let programName = "ConnectorMCP"

func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data("\(programName): \(message)\n".utf8))
    exit(code)
}

let commandLine = Array(CommandLine.arguments.dropFirst())
if commandLine.contains("--help") || commandLine.contains("-h") {
    print("""
    \(programName): MCP server (stdio) with the Discord connector's tools for agents:
      send_discord_message(channel_name, message, rig_name?), read_inbox(agent, max?, wait_ms?),
      reply(request_id, text), list_channels(), ask_human, react, create_thread,
      update_progress, send_file, fetch_messages, download_attachment

    Usage: \(programName) [--check]
      --check   validate the configuration, print it with secrets redacted, and exit
                (non-zero on error); touches no network.

    Started by an MCP client (see docs/MCP.md for the .mcp.json entry). Configuration comes from
    the environment and a .env file in the working directory: MUMEGA_BUS_URL, MUMEGA_BUS_TOKEN,
    CONNECTOR_AGENT_NAME, CHANNELS_FILE, LOG_LEVEL, MCP_AGENT_NAME (the agent this server is;
    default mcp-agent) and MCP_BUS_TOKEN (the password of that agent's Redis ACL user; unset: the
    bus URL's credentials). The server reads only the agent's inbox and queues to its outbox
    sos:outbox:<agent>. DISCORD_BOT_TOKEN (optional) lets fetch_messages and download_attachment
    ask Discord directly.
    """)
    exit(0)
}
if let unknown = commandLine.first(where: { $0 != "--check" }) {
    fail("unknown argument '\(unknown)' (try --help)", code: 2)
}

let settings: MCPSettings
do {
    settings = try MCPSettings.load()
} catch {
    fail("\(error)", code: 2)
}

if commandLine.contains("--check") {
    print("\(programName): configuration OK")
    print(settings.redactedDescription)
    exit(0)
}

let logLevel = Logger.Level(rawValue: settings.connector.logLevel) ?? .info
LoggingSystem.bootstrap { label in
    var handler = StreamLogHandler.standardError(label: label)
    handler.logLevel = logLevel
    return handler
}
let logger = Logger(label: programName)

let tools = ConnectorTools(settings: settings, logger: logger)
await tools.registerOutbox()
let server = Server(
    name: "discord-connector",
    version: "1.0.0",
    title: "Discord connector",
    instructions: """
    Tools to talk to the team's Discord through the connector's Redis bus. read_inbox(agent) returns \
    the Discord messages addressed to an agent; answer one with reply(request_id, text). \
    send_discord_message(channel_name, message) posts to a channel without a request; list_channels \
    shows the channel names.
    """,
    capabilities: .init(tools: .init(listChanged: false))
)
await server.withMethodHandler(ListTools.self) { _ in
    ListTools.Result(tools: ToolCatalog.all)
}
await server.withMethodHandler(CallTool.self) { params in
    try await tools.call(params)
}

do {
    try await server.start(transport: StdioTransport(logger: logger))
} catch {
    fail("cannot start the MCP server on stdio: \(error)", code: 1)
}
logger.info("serving MCP on stdio", metadata: [
    "agent": "\(settings.agentName)", "bus": "\(settings.connector.busURL.description)",
    "reply_inbox": "\(BusKeys(config: settings.connector).replyInbox)",
])
// Runs until the client closes standard input.
await server.waitUntilCompleted()
logger.info("standard input closed; exiting")
exit(0)
