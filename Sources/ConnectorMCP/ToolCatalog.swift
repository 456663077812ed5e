import MCP

/// The tools this server offers, with their JSON input schemas.
enum ToolCatalog {
    static let sendDiscordMessage = "send_discord_message"
    static let readInbox = "read_inbox"
    static let reply = "reply"
    static let listChannels = "list_channels"
    static let askHuman = "ask_human"
    static let react = "react"
    static let createThread = "create_thread"
    static let updateProgress = "update_progress"
    static let sendFile = "send_file"
    static let fetchMessages = "fetch_messages"
    static let downloadAttachment = "download_attachment"

    static let buttonsProperty: Value = [
        "type": "array", "items": ["type": "string", "maxLength": 80], "minItems": 1, "maxItems": 5,
        "description": "optional: up to 5 button labels shown under the message; a click arrives in your inbox (read_inbox) as a message with kind=component and custom_id = the label",
    ]

    static var all: [Tool] {
        [
            Tool(
                name: sendDiscordMessage,
                title: "Send a Discord message",
                description: """
                Post a message to a Discord channel by name ('general' or '#general'; case does not \
                matter), in the guilds the connector is in or pinned in its CHANNELS_FILE. The message \
                is queued on the bus and posted by the connector's Replier, usually within a second. \
                Text over 2000 characters is posted as several messages in order (the result says how \
                many). rig_name, if given, is shown as a '[rig_name] ' prefix. To answer a Discord \
                message you received, use reply instead. Call list_channels to see the names.
                """,
                inputSchema: schema(
                    properties: [
                        "channel_name": ["type": "string", "description": "channel name, e.g. general or #general"],
                        "message": ["type": "string", "description": "the text to post (Discord markdown)"],
                        "rig_name": ["type": "string", "description": "optional: shown as a '[rig_name] ' prefix"],
                        "buttons": buttonsProperty,
                    ],
                    required: ["channel_name", "message"]
                ),
                annotations: .init(title: "Send a Discord message", readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true)
            ),
            Tool(
                name: readInbox,
                title: "Read an agent's inbox",
                description: """
                Read new messages from your inbox (the Redis stream sos:inbox:<agent>; under the \
                connector's ACLs Redis refuses any other agent's) and acknowledge them, so each message is returned once (readers through this server share \
                the consumer group 'mcp'). Returns JSON {"messages": [{"id", "fields"}]}, oldest first. \
                A Discord message's fields include request_id, author_name, channel_name, content and \
                text. Answer one with reply(request_id, text). With wait_ms > 0 and nothing waiting, \
                waits up to that long for a message.
                """,
                inputSchema: schema(
                    properties: [
                        "agent": ["type": "string", "description": "whose inbox: letters, digits, '-', '_', '.' (e.g. kasra)"],
                        "max": ["type": "integer", "minimum": 1, "maximum": 100, "default": 10, "description": "at most this many messages"],
                        "wait_ms": ["type": "integer", "minimum": 0, "maximum": 30000, "default": 0, "description": "milliseconds to wait when the inbox is empty"],
                    ],
                    required: ["agent"]
                ),
                annotations: .init(title: "Read an agent's inbox", readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false)
            ),
            Tool(
                name: reply,
                title: "Reply to a Discord message",
                description: """
                Answer a Discord message received through read_inbox: the text is posted in the same \
                channel or thread, as a reply to the original message. request_id is that message's \
                request_id field. You may reply to the same request more than once (progress, then \
                result). Text over 2000 characters is posted as several messages.
                """,
                inputSchema: schema(
                    properties: [
                        "request_id": ["type": "string", "description": "the request_id of the message being answered (a UUID)"],
                        "text": ["type": "string", "description": "the answer (Discord markdown)"],
                        "buttons": buttonsProperty,
                        "update": ["type": "boolean", "description": "optional: when answering a click (kind=component), edit the clicked message instead of posting a new one (its buttons are replaced by these buttons, or removed)"],
                    ],
                    required: ["request_id", "text"]
                ),
                annotations: .init(title: "Reply to a Discord message", readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true)
            ),
            Tool(
                name: askHuman,
                title: "Ask a person and wait for their choice",
                description: """
                Post a question with one button per option (in a channel by name, or in answer to a \
                request you received) and wait for the first person to click one, up to timeout_s \
                seconds. Returns JSON {"status": "answered", "choice", "index", "user_id", \
                "user_name", "message_id", "request_id"}; the question is then edited to show who \
                chose what and its buttons are removed. With nobody answering in time: {"status": \
                "timeout"} (the buttons stay; a later click arrives in read_inbox). Use it before \
                anything risky: ask_human(channel_name="ops", question="Deploy 1.4.2 to prod?", \
                options=["Approve", "Deny"]).
                """,
                inputSchema: schema(
                    properties: [
                        "channel_name": ["type": "string", "description": "where to ask (give this or request_id)"],
                        "request_id": ["type": "string", "description": "ask in answer to this request, in its channel or thread (give this or channel_name)"],
                        "question": ["type": "string", "description": "the question (Discord markdown)"],
                        "options": ["type": "array", "items": ["type": "string", "maxLength": 80], "minItems": 1, "maxItems": 5, "description": "the choices, one button each"],
                        "timeout_s": ["type": "integer", "minimum": 1, "maximum": 900, "default": 300, "description": "seconds to wait for a click"],
                    ],
                    required: ["question", "options"]
                ),
                annotations: .init(title: "Ask a person", readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true)
            ),
            Tool(
                name: react,
                title: "React to a Discord message",
                description: """
                Add an emoji reaction to the Discord message of a request you received (request_id \
                from read_inbox): a unicode emoji like 👍, or a custom one as name:id. Posts nothing else.
                """,
                inputSchema: schema(
                    properties: [
                        "request_id": ["type": "string", "description": "the request whose message gets the reaction"],
                        "emoji": ["type": "string", "description": "👍, or name:id for a custom emoji"],
                    ],
                    required: ["request_id", "emoji"]
                ),
                annotations: .init(title: "React", readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true)
            ),
            Tool(
                name: createThread,
                title: "Move a conversation into a thread",
                description: """
                Start a thread named `name` on the Discord message of a request (in a server \
                channel; not in DMs or threads) and post `text` there if given. Every later reply to \
                the request goes to that thread too.
                """,
                inputSchema: schema(
                    properties: [
                        "request_id": ["type": "string", "description": "the request whose message starts the thread"],
                        "name": ["type": "string", "maxLength": 100, "description": "the thread's name"],
                        "text": ["type": "string", "description": "optional: the first message in the thread"],
                    ],
                    required: ["request_id", "name"]
                ),
                annotations: .init(title: "Create a thread", readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: true)
            ),
            Tool(
                name: updateProgress,
                title: "Show progress in place",
                description: """
                Show or update the status line of a request: the first call posts one status \
                message, later calls edit it in place (at most once a second). Your next reply to the \
                request is posted as a new message and the status message is removed.
                """,
                inputSchema: schema(
                    properties: [
                        "request_id": ["type": "string", "description": "the request being worked on"],
                        "text": ["type": "string", "description": "the status, e.g. 'step 2/5: running tests'"],
                    ],
                    required: ["request_id", "text"]
                ),
                annotations: .init(title: "Update progress", readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true)
            ),
            Tool(
                name: sendFile,
                title: "Send a file",
                description: """
                Post a file to a channel by name, or in answer to a request, with optional text. \
                The file is a path on this machine (`path`) or its bytes in base64 (`base64`); at most \
                the connector's MAX_UPLOAD_BYTES.
                """,
                inputSchema: schema(
                    properties: [
                        "channel_name": ["type": "string", "description": "where to post (give this or request_id)"],
                        "request_id": ["type": "string", "description": "post in answer to this request (give this or channel_name)"],
                        "filename": ["type": "string", "description": "the name Discord shows, e.g. report.pdf (defaults to the path's last part)"],
                        "path": ["type": "string", "description": "a file to read (give this or base64)"],
                        "base64": ["type": "string", "description": "the file's bytes, base64 (give this or path)"],
                        "text": ["type": "string", "description": "optional: text posted with the file"],
                    ],
                    required: []
                ),
                annotations: .init(title: "Send a file", readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: true)
            ),
            Tool(
                name: fetchMessages,
                title: "Read a channel's history",
                description: """
                Read recent messages of a Discord channel by name, newest first, as JSON \
                {"channel_id", "messages": [{"id", "author_id", "author_name", "bot", "content", \
                "timestamp", "attachments", "replied_message_id"}], "next_before"}. Pass next_before \
                as before to page further back. Needs the connector's DISCORD_BOT_TOKEN in this \
                server's environment; counts in the bot's shared rate limits.
                """,
                inputSchema: schema(
                    properties: [
                        "channel_name": ["type": "string", "description": "channel name, e.g. general or #general"],
                        "limit": ["type": "integer", "minimum": 1, "maximum": 100, "default": 20, "description": "at most this many messages"],
                        "before": ["type": "string", "description": "optional: only messages older than this message id"],
                    ],
                    required: ["channel_name"]
                ),
                annotations: .init(title: "Read channel history", readOnlyHint: true, openWorldHint: true)
            ),
            Tool(
                name: downloadAttachment,
                title: "Download a file someone attached",
                description: """
                Download a file attached to a Discord message delivered to you (message_id and the \
                attachments field of a read_inbox message; index 1 is its first file). With path, \
                the file is written there and the result gives its size and SHA-256; without, the \
                result carries the bytes as base64. At most the connector's MAX_UPLOAD_BYTES. \
                Discord's file URLs expire: with DISCORD_BOT_TOKEN set a fresh one is asked for.
                """,
                inputSchema: schema(
                    properties: [
                        "message_id": ["type": "string", "description": "the message_id of the inbox message that listed the file"],
                        "index": ["type": "integer", "minimum": 1, "maximum": 10, "default": 1, "description": "which file: 1 for the first"],
                        "path": ["type": "string", "description": "optional: write the file here instead of returning base64"],
                    ],
                    required: ["message_id"]
                ),
                annotations: .init(title: "Download an attachment", readOnlyHint: true, openWorldHint: true)
            ),
            Tool(
                name: listChannels,
                title: "List Discord channels",
                description: """
                List the Discord channels the connector knows, as JSON: {"channels": [{"id", "name", \
                "type", "kind", "guild_id", "parent_id"}], "pinned": {"name": "id"}}. Channels are \
                learned from the Discord gateway; pinned names come from the connector's CHANNELS_FILE \
                and win over learned ones.
                """,
                inputSchema: schema(properties: [:], required: []),
                annotations: .init(title: "List Discord channels", readOnlyHint: true, openWorldHint: false)
            ),
        ]
    }

    /// The arguments each tool takes, for `ToolArguments`.
    static let accepted: [String: [String]] = [
        sendDiscordMessage: ["channel_name", "message", "rig_name", "buttons"],
        readInbox: ["agent", "max", "wait_ms"],
        reply: ["request_id", "text", "buttons", "update"],
        askHuman: ["channel_name", "request_id", "question", "options", "timeout_s"],
        react: ["request_id", "emoji"],
        createThread: ["request_id", "name", "text"],
        updateProgress: ["request_id", "text"],
        sendFile: ["channel_name", "request_id", "filename", "path", "base64", "text"],
        fetchMessages: ["channel_name", "limit", "before"],
        downloadAttachment: ["message_id", "index", "path"],
        listChannels: [],
    ]

    private static func schema(properties: [String: Value], required: [String]) -> Value {
        [
            "type": "object",
            "properties": .object(properties),
            "required": .array(required.map { .string($0) }),
            "additionalProperties": false,
        ]
    }
}
