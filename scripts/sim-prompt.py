#!/usr/bin/env python3
"""The `make run` prompt in simulator mode: plays alice in #general through the simulator's
control API and prints what the bot posts.

    <text>            posted as alice's @mention of the bot
    /ask <text>       the slash command (the bot's "thinking..." is edited to the answer)
    /click [label]    clicks a button on the newest bot message that has buttons

Usage: sim-prompt.py <simulator port> <channel id>
"""
import base64
import json
import os
import sys
import time
import urllib.error
import urllib.request

PORT, CHANNEL = sys.argv[1], sys.argv[2]
BASE = f"http://127.0.0.1:{PORT}"
WAIT_S = 5
QUIET_S = 1.5


def bold(text):
    print(f"\033[1m{text}\033[0m", flush=True)


def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(BASE + path, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        raise SystemExit(f"simulator refused {method} {path}: {error.code} {error.read().decode(errors='replace')}")


def posts():
    return call("GET", f"/_sim/posts?channel_id={CHANNEL}")["posts"]


def buttons(post):
    """The labels of a post's buttons."""
    labels = []
    for row in post.get("components") or []:
        for component in row.get("components", []):
            if component.get("type") == 2 and component.get("label"):
                labels.append(component["label"])
    return labels


def show(post):
    labels = buttons(post)
    suffix = f"   [buttons: {' | '.join(labels)}]" if labels else ""
    files = [a.get("filename", "?") for a in post.get("attachments") or []]
    if files:
        suffix += f"   [files: {', '.join(files)}]"
    for line in (post.get("content") or "").splitlines() or [""]:
        print(f"connector-bot> {line}{suffix}", flush=True)
        suffix = ""


def state():
    """Each post's id -> (content, number of edits, deleted), to see what changed."""
    return {p["id"]: (p.get("content"), len(p.get("edits") or []), bool(p.get("deleted"))) for p in posts()}


def wait_for_change(before, started, what):
    """Prints the posts that appear or change (with text) after `before`: the first change with
    its round-trip time, then any further ones (progress edits, a final answer) until the bot has
    been quiet for QUIET_S."""
    deadline = time.time() + WAIT_S
    seen = dict(before)
    first = True
    last_change = None
    while time.time() < deadline:
        changed = []
        for p in posts():
            now = (p.get("content"), len(p.get("edits") or []), bool(p.get("deleted")))
            if p.get("content") and seen.get(p["id"]) not in (now, now[:2]):
                changed.append(p)
            seen[p["id"]] = now
        if changed:
            for post in changed:
                if post.get("deleted"):
                    print(f"connector-bot> (status message removed: {post.get('content')})", flush=True)
                else:
                    show(post)
            if first:
                bold(f"(round trip: {what} in {int((time.time() - started) * 1000)} ms)")
                first = False
            last_change = time.time()
            deadline = max(deadline, last_change + QUIET_S + 1)
        elif last_change and time.time() - last_change > QUIET_S:
            return
        time.sleep(0.05)
    if first:
        bold(f"no answer within {WAIT_S} s; see run/logs/")


def main():
    bold("type a message for #general (sent as alice, mentioning the bot), /ask <text> for the slash command,")
    bold("a line with 'buttons' in it to get Approve/Deny buttons, /click [label] to click one; 'file', 'react', 'thread'")
    bold("or 'progress' in a line for the other rich replies; /attach <path> [text] sends a file; Ctrl-D or Ctrl-C to stop.")
    while True:
        if sys.stdin.isatty():
            print("alice> ", end="", flush=True)
        line = sys.stdin.readline()
        if not line:
            return
        line = line.strip()
        if not line:
            continue
        before = state()
        started = time.time()
        if line.startswith("/attach"):
            parts = line[len("/attach"):].strip().split(maxsplit=1)
            if not parts or not os.path.isfile(parts[0]):
                bold("say which file: /attach <path> [text]")
                continue
            with open(parts[0], "rb") as handle:
                data = handle.read()
            text = parts[1] if len(parts) > 1 else "a file for you"
            before, started = state(), time.time()
            call("POST", "/_sim/messages", {"channel_id": CHANNEL, "content": text, "mention_bot": True, "attachments": [
                {"filename": os.path.basename(parts[0]), "data_base64": base64.b64encode(data).decode()}]})
            wait_for_change(before, started, "message with a file -> Ingest -> Dispatcher -> echo agent -> Replier")
        elif line.startswith("/ask"):
            prompt = line[len("/ask"):].strip()
            if not prompt:
                bold("say what to ask: /ask <text>")
                continue
            call("POST", "/_sim/interactions", {"type": 2, "channel_id": CHANNEL, "name": "ask", "options": [{"name": "prompt", "type": 3, "value": prompt}]})
            wait_for_change(before, started, "/ask -> Ingest (deferred) -> Dispatcher -> echo agent -> Replier edits @original")
        elif line.startswith("/click"):
            label = line[len("/click"):].strip()
            with_buttons = [p for p in posts() if buttons(p)]
            if not with_buttons:
                bold("no message with buttons yet: send a line with the word 'buttons' in it first")
                continue
            target = with_buttons[-1]
            choice = label or buttons(target)[0]
            if choice not in buttons(target):
                bold(f"the newest message with buttons has {', '.join(buttons(target))}; /click one of them")
                continue
            call("POST", f"/_sim/messages/{target['id']}/click", {"label": choice})
            wait_for_change(before, started, "click -> Ingest (deferred update) -> Dispatcher -> echo agent -> Replier edits the message")
        else:
            call("POST", "/_sim/messages", {"channel_id": CHANNEL, "content": line, "mention_bot": True})
            wait_for_change(before, started, "Discord -> Ingest -> Dispatcher -> echo agent -> Replier -> Discord")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        pass
