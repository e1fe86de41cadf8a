"""Reading Slack's payloads: pure predicates and conversions, unit-tested with literal payloads."""

from __future__ import annotations

import re
from typing import Any

MENTION = re.compile(r"<@[A-Z0-9]+>")


def is_thread_reply(event: dict[str, Any], bot_user_id: str | None) -> bool:
    """A person's reply in a thread (not the root, not an edit or a bot's own message, and not addressed
    to the bot: Slack sends those as `app_mention` too, and the mention is answered there)."""
    return (
        "subtype" not in event
        and "bot_id" not in event
        and bool(event.get("thread_ts"))
        and event.get("thread_ts") != event.get("ts")
        and f"<@{bot_user_id}>" not in event.get("text", "")
    )


def without_mentions(text: str) -> str:
    return MENTION.sub("", text).strip()


def to_symptom(message: dict[str, Any]) -> str:
    """A message as the text of a symptom: its text, its attachments (alert bots post those) and its blocks'
    texts, each once."""
    parts = [str(message.get("text") or "")]
    for attachment in message.get("attachments") or []:
        parts += [str(attachment.get(k) or "") for k in ("pretext", "title", "text", "fallback")]
        parts += [f"{f.get('title', '')}: {f.get('value', '')}" for f in attachment.get("fields") or []]
    for block in message.get("blocks") or []:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(str(text.get("text") or ""))
        parts += [str(f.get("text") or "") for f in block.get("fields") or [] if isinstance(f, dict)]
    return "\n".join(dict.fromkeys(p.strip() for p in parts if p.strip()))


def channel_of(body: dict[str, Any]) -> str:
    """The channel a click, shortcut or command came from."""
    return str(body.get("channel_id") or (body.get("channel") or {}).get("id")
               or (body.get("container") or {}).get("channel_id") or "")  # fmt: skip


def user_of(body: dict[str, Any]) -> str:
    return str(body.get("user_id") or (body.get("user") or {}).get("id") or "")
