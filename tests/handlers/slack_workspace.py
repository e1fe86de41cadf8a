"""What the scenario tests look at in the local workspace (handlers.shell.workspace.LocalWorkspace)."""

from __future__ import annotations

import json

from handlers.shell.workspace import LocalWorkspace
from sandbox.slack_api import CHANNEL_ID
from sandbox.slack_render import Button, Message

Workspace = LocalWorkspace
OOM_REPORT = "api-gateway pods keep restarting, OOMKilled since the last deploy"


def shown(message: Message) -> str:
    return json.dumps(message.blocks) + message.text


def opened_incident(workspace: LocalWorkspace, text: str = OOM_REPORT) -> tuple[Message, list[Message]]:
    """/diagnose as alice, once the bot is done: the root message and its thread."""
    workspace.command(text)
    workspace.wait_idle()
    (root,) = workspace.slack.messages(CHANNEL_ID, top_level=True)
    return root, workspace.slack.thread(CHANNEL_ID, root.ts)


def button(message: Message, label: str) -> Button:
    """The button labelled `label` on `message`, as the person sees it."""
    for block in message.blocks:
        for element in block.get("elements", []) if block["type"] == "actions" else []:
            if element["text"]["text"] == label:
                return Button(0, label, element["action_id"], element.get("value"), block.get("block_id"),
                              message.ts, message.channel)  # fmt: skip
    raise AssertionError(f"no button {label!r} on the message")


def buttons(message: Message) -> list[str]:
    return [e["text"]["text"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]]


def thread_texts(workspace: LocalWorkspace, root_ts: str) -> list[str]:
    return [shown(m) for m in workspace.slack.thread(CHANNEL_ID, root_ts)]


def forged(message: Message, action_id: str, value: str) -> Button:
    return Button(0, "forged", action_id, value, "b", message.ts, message.channel)
