#!/usr/bin/env python3
"""Drives the ConnectorMCP server with the official MCP Python SDK (`pip install mcp`), as an
agent would: over stdio, through `stdio_client` and `ClientSession`.

Run by Tests/IntegrationTests/MCPServerTests.swift against a running connector stack; it can
also be run by hand. It prints one JSON object on stdout: what each step returned, for the
Swift test to check (the Swift side also checks Discord, through the simulator). Progress and
the server's own log go to stderr. Exit status 0 unless the driver itself broke.

Environment:
  CONNECTOR_MCP_BIN  path of the ConnectorMCP executable (required)
  SIM_CONTROL_URL    the Discord simulator, e.g. http://127.0.0.1:PORT (scenario "full")
  MUMEGA_BUS_URL, CONNECTOR_AGENT_NAME, MCP_AGENT_NAME, ...  passed on to the server

Usage: drive.py [full|unreachable|ask|members|history|own_inbox]
"""

import asyncio
import base64
import json
import os
import sys
import urllib.request

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

LONG_MESSAGE = " ".join("w%04d" % i for i in range(750)) + "!"  # 4,500 characters


def log(message):
    print("drive.py: " + message, file=sys.stderr, flush=True)


def is_error(result):
    flag = getattr(result, "is_error", None)  # mcp 2.x
    if flag is None:
        flag = getattr(result, "isError", None)  # mcp 1.x
    return bool(flag)


def text_of(result):
    return "\n".join(getattr(item, "text", "") for item in result.content)


def summary(result):
    """A tool result as plain data; `json` is the text parsed, when it is JSON."""
    text = text_of(result)
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    return {"is_error": is_error(result), "text": text, "json": parsed}


async def call(session, name, arguments):
    """Calls a tool; a protocol error (an exception) is recorded rather than raised."""
    try:
        result = await session.call_tool(name, arguments)
    except Exception as error:  # noqa: BLE001 - recorded for the test to judge
        return {"raised": type(error).__name__, "text": str(error)}
    return summary(result)


def simulator(method, path, body=None):
    request = urllib.request.Request(
        os.environ["SIM_CONTROL_URL"] + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


async def tool_names(session):
    listed = await session.list_tools()
    return sorted(tool.name for tool in listed.tools), listed.tools


async def full(session, report):
    names, tools = await tool_names(session)
    report["tools"] = names
    report["schemas"] = {
        tool.name: getattr(tool, "input_schema", None) or getattr(tool, "inputSchema", None) for tool in tools
    }

    report["list_channels"] = await call(session, "list_channels", {})

    # Outbound: a channel by name, with a rig prefix; then one too long for one Discord message.
    report["send"] = await call(
        session,
        "send_discord_message",
        {"channel_name": "#General", "message": "hello from the MCP test", "rig_name": "rig-7"},
    )
    report["send_long"] = await call(
        session, "send_discord_message", {"channel_name": "ops", "message": LONG_MESSAGE}
    )
    report["long_message"] = LONG_MESSAGE

    # Inbound: a human mentions the bot in #general; the default agent (kasra) reads it.
    injected = simulator(
        "POST",
        "/_sim/messages",
        {"channel_id": os.environ["SIM_GENERAL_CHANNEL"], "content": "mcp test: is the build green?", "mention_bot": True},
    )
    report["injected_message_id"] = injected["id"]
    messages = []
    reads = []
    for _ in range(3):
        read = await call(session, "read_inbox", {"agent": "kasra", "max": 5, "wait_ms": 10000})
        reads.append(read)
        messages += ((read.get("json") or {}).get("messages")) or []
        if messages:
            break
    report["read_inbox"] = reads
    report["inbox_messages"] = messages
    request_id = messages[0]["fields"].get("request_id") if messages else None
    report["request_id"] = request_id

    # The answer goes back as a reply to the original message.
    if request_id:
        report["reply"] = await call(session, "reply", {"request_id": request_id, "text": "All green, from the MCP test."})

    # Read again: everything was acknowledged, nothing comes back twice.
    report["read_again"] = await call(session, "read_inbox", {"agent": "kasra"})

    # Bad arguments: tool errors with a clear message, and the server keeps answering.
    report["errors"] = {
        "unknown_channel": await call(session, "send_discord_message", {"channel_name": "no-such-channel", "message": "hi"}),
        "empty_message": await call(session, "send_discord_message", {"channel_name": "general", "message": "   "}),
        "missing_arguments": await call(session, "send_discord_message", {}),
        "wrong_type": await call(session, "read_inbox", {"agent": "kasra", "max": "lots"}),
        "out_of_range": await call(session, "read_inbox", {"agent": "kasra", "wait_ms": 999999}),
        "invalid_agent": await call(session, "read_inbox", {"agent": "../etc/passwd"}),
        "invalid_request_id": await call(session, "reply", {"request_id": "not-a-uuid", "text": "hello"}),
        "unknown_request_id": await call(session, "reply", {"request_id": "1b4e28ba-2fa1-41d2-883f-0016d3cca427", "text": "hello"}),
        "empty_reply": await call(session, "reply", {"request_id": request_id or "1b4e28ba-2fa1-41d2-883f-0016d3cca427", "text": ""}),
        "unknown_argument": await call(session, "list_channels", {"verbose": True}),
        "unknown_tool": await call(session, "no_such_tool", {}),
    }
    report["tools_after_errors"], _ = await tool_names(session)
    report["list_channels_after_errors"] = await call(session, "list_channels", {})


async def unreachable(session, report):
    report["tools"], _ = await tool_names(session)
    report["list_channels"] = await call(session, "list_channels", {})
    report["send"] = await call(session, "send_discord_message", {"channel_name": "general", "message": "hi"})
    report["read_inbox"] = await call(session, "read_inbox", {"agent": "kasra", "wait_ms": 1000})
    report["reply"] = await call(session, "reply", {"request_id": "1b4e28ba-2fa1-41d2-883f-0016d3cca427", "text": "hi"})
    report["tools_after_errors"], _ = await tool_names(session)


async def click_when_posted(question, label):
    """Plays the person: waits for the bot's post of `question` and clicks `label` on it."""
    for _ in range(200):
        posts = simulator("GET", "/_sim/posts")["posts"]
        found = [p for p in posts if p.get("content") == question and p.get("components")]
        if found:
            clicked = simulator("POST", "/_sim/messages/%s/click" % found[0]["id"], {"label": label})
            return {"message_id": found[0]["id"], "interaction_id": clicked["id"], "components": found[0]["components"]}
        await asyncio.sleep(0.05)
    return None


async def ask(session, report):
    """ask_human answered by a click, then one nobody answers, then bad arguments."""
    question = "Deploy 1.4.2 to prod?"
    asked = asyncio.create_task(call(session, "ask_human", {
        "channel_name": "general", "question": question, "options": ["Approve", "Deny"], "timeout_s": 30,
    }))
    report["clicked"] = await click_when_posted(question, "Deny")
    report["answered"] = await asyncio.wait_for(asked, 40)
    report["timeout"] = await call(session, "ask_human", {
        "channel_name": "general", "question": "Anyone?", "options": ["Yes"], "timeout_s": 2,
    })
    report["too_many_options"] = await call(session, "ask_human", {
        "channel_name": "general", "question": "Pick", "options": ["1", "2", "3", "4", "5", "6"],
    })
    report["both_places"] = await call(session, "ask_human", {
        "channel_name": "general", "request_id": "1b4e28ba-2fa1-41d2-883f-0016d3cca427", "question": "Pick", "options": ["1"],
    })
    report["send_with_buttons"] = await call(session, "send_discord_message", {
        "channel_name": "general", "message": "Release notes are ready", "buttons": ["Publish", "Hold"],
    })


async def members(session, report):
    """react, update_progress, send_file and create_thread on the request REQUEST_ID."""
    request = os.environ["REQUEST_ID"]
    report["react"] = await call(session, "react", {"request_id": request, "emoji": "👍"})
    report["progress"] = await call(session, "update_progress", {"request_id": request, "text": "step 1/2: reading"})
    await asyncio.sleep(1.5)
    report["file"] = await call(session, "send_file", {
        "request_id": request, "filename": "bytes.bin", "base64": base64.b64encode(bytes(range(256))).decode(), "text": "the bytes",
    })
    report["missing_file"] = await call(session, "send_file", {"channel_name": "general", "path": "/nonexistent/report.pdf"})
    report["thread"] = await call(session, "create_thread", {"request_id": request, "name": "follow-up", "text": "continuing here"})
    report["bad_request"] = await call(session, "react", {"request_id": "1b4e28ba-2fa1-41d2-883f-0016d3cca427", "emoji": "👍"})


async def history(session, report):
    """fetch_messages in #general (two pages), download_attachment of MESSAGE_ID's first file."""
    report["first_page"] = await call(session, "fetch_messages", {"channel_name": "general", "limit": 2})
    before = (report["first_page"].get("json") or {}).get("next_before")
    if before:
        report["second_page"] = await call(session, "fetch_messages", {"channel_name": "general", "limit": 2, "before": before})
    report["unknown_channel"] = await call(session, "fetch_messages", {"channel_name": "no-such-channel"})
    message = os.environ["MESSAGE_ID"]
    report["download"] = await call(session, "download_attachment", {"message_id": message, "index": 1})
    report["download_to_path"] = await call(session, "download_attachment", {
        "message_id": message, "index": 2, "path": os.environ["DOWNLOAD_PATH"],
    })
    report["no_such_file"] = await call(session, "download_attachment", {"message_id": message, "index": 3})
    report["not_mine"] = await call(session, "download_attachment", {"message_id": "123456789012345678"})


async def own_inbox(session, report):
    """Under the agent's own ACL user: its inbox reads, another agent's is refused by Redis."""
    report["own"] = await call(session, "read_inbox", {"agent": os.environ["MCP_AGENT_NAME"], "max": 10})
    report["other"] = await call(session, "read_inbox", {"agent": os.environ["OTHER_AGENT"], "max": 10})
    report["reply"] = await call(session, "reply", {"request_id": os.environ["REQUEST_ID"], "text": "answered under my own name"})
    report["send"] = await call(session, "send_discord_message", {"channel_name": "general", "message": "sent by me"})


async def main():
    scenario = sys.argv[1] if len(sys.argv) > 1 else "full"
    server = StdioServerParameters(command=os.environ["CONNECTOR_MCP_BIN"], args=[], env=dict(os.environ))
    report = {"scenario": scenario}
    async with stdio_client(server) as (read, write):
        async with ClientSession(read, write) as session:
            initialized = await session.initialize()
            info = getattr(initialized, "server_info", None) or getattr(initialized, "serverInfo", None)
            report["server_name"] = getattr(info, "name", None)
            report["protocol_version"] = getattr(initialized, "protocol_version", None) or getattr(initialized, "protocolVersion", None)
            log("initialized: %s, protocol %s" % (report["server_name"], report["protocol_version"]))
            await {"full": full, "unreachable": unreachable, "ask": ask, "members": members, "history": history,
                   "own_inbox": own_inbox}[scenario](session, report)
    print(json.dumps(report, indent=2, sort_keys=True), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
