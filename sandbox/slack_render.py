"""Slack messages for the sandbox: as stored and returned by the fake Web API, checked as Slack checks them,
and drawn as terminal text the way a person would see them in Slack.

`Message` (with its `edits`) is what sandbox.slack_api keeps; `checked_content()` makes Slack's cheap
checks (msg_too_long, no_text, invalid_blocks with its messages, msg_blocks_too_long) and fills in the
block_id / action_id Slack generates. `render_message(msg, buttons)` draws one message (a Slack message dict,
or a `Message`): Block Kit or its text, attachments, files, reactions; every button gets a number
("[3] Approve") kept in `buttons`, a `Buttons` shared by everything on one screen, so `buttons[3]` tells what
a click would send (action_id, value, block_id, message ts, channel). A button drawn again keeps its number.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

Names = Callable[[str], "str | None"]  # user or channel id -> display name (None: unknown)
EMOJI = {
    "white_check_mark": "✅", "warning": "⚠️", "red_circle": "🔴", "x": "❌", "fast_forward": "⏩",
    "hourglass_flowing_sand": "⏳", "rotating_light": "🚨", "book": "📖", "eyes": "👀", "fire": "🔥",
    "large_green_circle": "🟢", "large_yellow_circle": "🟡", "heavy_check_mark": "✔️", "mag": "🔍",
    "wrench": "🔧", "lock": "🔒", "bell": "🔔", "memo": "📝", "link": "🔗", "tada": "🎉", "+1": "👍",
    "thumbsup": "👍", "no_entry": "⛔", "information_source": "\u2139\ufe0f", "robot_face": "🤖", "stopwatch": "⏱️",
    "arrow_forward": "▶️",
}  # fmt: skip
RULE = "─" * 40
TEAM_ID, BOT_USER_ID, BOT_ID, APP_ID, BOT_NAME = "T0SANDBOX", "U0CHATOPS", "B0CHATOPS", "A0CHATOPS", "chatops"
MAX_TEXT, MAX_BLOCKS, MAX_BLOCKS_TEXT, MAX_SECTION, MAX_ELEMENTS = 40_000, 50, 13_000, 3000, 25
BLOCK_TYPES = {"section", "header", "context", "divider", "actions", "rich_text", "image", "input", "markdown",
               "file", "video", "context_actions", "table"}  # fmt: skip


class SlackError(Exception):
    """A Web API call Slack refuses: `{"ok": false, "error": error, **extra}`."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error, self.extra = error, extra


@dataclass(frozen=True)
class Edit:
    """An earlier version of a message, replaced by chat.update at `replaced_ts`."""

    replaced_ts: str
    text: str
    blocks: list[dict[str, Any]]


@dataclass
class Message:
    channel: str
    ts: str
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    user: str = BOT_USER_ID
    bot_id: str | None = BOT_ID
    thread_ts: str | None = None
    subtype: str | None = None
    attachments: list[dict[str, Any]] = field(default_factory=list)
    files: list[dict[str, Any]] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    edits: list[Edit] = field(default_factory=list)  # oldest first
    ephemeral_to: str | None = None
    replies: list[Message] = field(default_factory=list, repr=False)  # a thread's parent only

    @property
    def is_reply(self) -> bool:
        return self.thread_ts not in (None, self.ts)

    def to_api(self) -> dict[str, Any]:
        """The message as Slack's API returns it."""
        data: dict[str, Any] = {
            "type": "message",
            "ts": self.ts,
            "user": self.user,
            "text": self.text,
            "team": TEAM_ID,
        }
        if self.bot_id:
            profile = {"id": self.bot_id, "app_id": APP_ID, "name": BOT_NAME, "team_id": TEAM_ID}
            data.update(bot_id=self.bot_id, app_id=APP_ID, bot_profile=profile)
        optional = {"blocks": self.blocks, "attachments": self.attachments, "files": self.files,
                    "thread_ts": self.thread_ts, "subtype": self.subtype}  # fmt: skip
        data.update({k: v for k, v in optional.items() if v})
        if self.edits:
            data["edited"] = {"user": self.user, "ts": self.edits[-1].replaced_ts}
        if self.reactions:
            data["reactions"] = [{"name": n, "users": u, "count": len(u)} for n, u in self.reactions.items()]
        if self.replies:
            users = list(dict.fromkeys(r.user for r in self.replies))
            data.update(reply_count=len(self.replies), reply_users=users, reply_users_count=len(users),
                        latest_reply=self.replies[-1].ts)  # fmt: skip
        return data


class HasApi(Protocol):
    def to_api(self) -> dict[str, Any]: ...


@dataclass(frozen=True)
class Button:
    number: int
    text: str
    action_id: str
    value: str | None
    block_id: str | None
    message_ts: str | None
    channel: str | None
    style: str | None = None  # "primary" | "danger"
    url: str | None = None
    confirm: Mapping[str, Any] | None = None  # the dialog Slack shows before sending the click


class Buttons:
    """The buttons on a screen by number; numbers start at 1 and are never reused."""

    def __init__(self) -> None:
        self._by_number: dict[int, Button] = {}
        self._by_key: dict[tuple[Any, ...], int] = {}

    def add(
        self, element: Mapping[str, Any], block_id: str | None, ts: str | None, channel: str | None
    ) -> Button:
        key = (channel, ts, block_id, element.get("action_id"), element.get("value"), element.get("url"))
        number = self._by_key.setdefault(key, len(self._by_number) + 1)
        self._by_number[number] = Button(
            number, plain(element.get("text")), str(element.get("action_id") or ""), element.get("value"),
            block_id, ts, channel, element.get("style"), element.get("url"), element.get("confirm"),
        )  # fmt: skip
        return self._by_number[number]

    def __getitem__(self, number: int) -> Button:
        return self._by_number[number]

    def get(self, number: int) -> Button | None:
        return self._by_number.get(number)

    def __len__(self) -> int:
        return len(self._by_number)

    def __iter__(self) -> Any:
        return iter(self._by_number.values())


def emojize(text: str) -> str:
    return re.sub(r":([a-z0-9_+-]+):", lambda m: EMOJI.get(m.group(1), m.group(0)), text)


def mrkdwn(text: str, names: Names | None = None) -> str:
    """Slack mrkdwn as plain text: links, mentions, emoji, entities; *bold*, _italic_, ~strike~ markers dropped."""

    def special(m: re.Match[str]) -> str:
        target, _, label = m.group(1).partition("|")
        if target[:1] in "@#":
            shown = label or (names(target[1:]) if names else None) or target[1:]
            return f"{target[0]}{shown}"
        if target.startswith("!"):
            return "@" + (label or target[1:].split("^")[0])
        return f"{label} ({target})" if label and label != target else target

    text = re.sub(r"<([^<>\n]+)>", special, text)
    for mark in "*_~":
        m = re.escape(mark)
        text = re.sub(rf"(?<![\w{m}]){m}(?=\S)([^{m}\n]*?\S){m}(?![\w{m}])", r"\1", text)
    text = re.sub(r"^(?:&gt;|>)\s?", "│ ", text, flags=re.M)
    return html.unescape(emojize(text))


def plain(obj: Any, names: Names | None = None) -> str:
    """A text object (plain_text or mrkdwn) or a string, as plain text."""
    if obj is None:
        return ""
    if isinstance(obj, str):
        return mrkdwn(obj, names)
    text = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn(text, names)
    return emojize(text) if obj.get("emoji", True) else text


def _rich(element: Mapping[str, Any], names: Names | None) -> str:
    """One rich_text element (section, list, preformatted, quote) or inline element, as text."""
    kind, children = element.get("type"), element.get("elements") or []
    inline = "".join(_rich(c, names) for c in children)
    if kind == "rich_text_list":
        indent, ordered = "  " * int(element.get("indent") or 0), element.get("style") == "ordered"
        return "\n".join(
            f"{indent}{f'{i}.' if ordered else '•'} {_rich(c, names)}" for i, c in enumerate(children, 1)
        )
    if kind == "rich_text_preformatted":
        return f"```\n{inline}\n```"
    if kind == "rich_text_quote":
        return "\n".join("│ " + line for line in inline.splitlines())
    if kind == "text":
        return str(element.get("text", ""))
    if kind == "link":
        url, label = element.get("url", ""), element.get("text")
        return f"{label} ({url})" if label else str(url)
    if kind in ("user", "channel"):
        key = "user_id" if kind == "user" else "channel_id"
        ident = str(element.get(key, ""))
        return ("@" if kind == "user" else "#") + ((names(ident) if names else None) or ident)
    if kind == "emoji":
        return emojize(f":{element.get('name')}:")
    if kind == "broadcast":
        return f"@{element.get('range')}"
    return inline


def _element(el: Mapping[str, Any], block_id: str | None, ctx: _Context) -> str:
    """An interactive or context element as text; buttons get their number."""
    kind = el.get("type")
    if kind == "button":
        button = ctx.buttons.add(el, block_id, ctx.ts, ctx.channel)
        return f"[{button.number}] {button.text}" + (f" <{button.url}>" if button.url else "")
    if kind == "image":
        return f"[image: {el.get('alt_text', '')}]"
    if kind in ("plain_text", "mrkdwn"):
        return plain(el, ctx.names)
    if kind in ("static_select", "external_select", "users_select", "conversations_select", "overflow"):
        options = " / ".join(plain(o.get("text"), ctx.names) for o in el.get("options") or [])
        label = plain(el.get("placeholder"), ctx.names) or kind
        return f"<{label}{': ' + options if options else ''}>"
    return f"<{kind}>"


@dataclass
class _Context:
    buttons: Buttons
    ts: str | None
    channel: str | None
    names: Names | None


def render_block(block: Mapping[str, Any], ctx: _Context) -> str:
    kind, block_id = block.get("type"), block.get("block_id")
    if kind == "header":
        title = plain(block.get("text"), ctx.names)
        return f"{title}\n{'═' * min(len(title), 60)}"
    if kind == "divider":
        return RULE
    if kind == "section":
        lines = [plain(block.get("text"), ctx.names)] if block.get("text") else []
        lines += [plain(f, ctx.names) for f in block.get("fields") or []]
        if block.get("accessory"):
            lines.append(_element(block["accessory"], block_id, ctx))
        return "\n".join(lines)
    if kind == "context":
        return "  ".join(_element(e, block_id, ctx) for e in block.get("elements") or [])
    if kind == "actions":
        return "  ".join(_element(e, block_id, ctx) for e in block.get("elements") or [])
    if kind == "rich_text":
        return "\n".join(_rich(e, ctx.names) for e in block.get("elements") or [])
    if kind == "markdown":
        return mrkdwn(str(block.get("text", "")), ctx.names)
    if kind == "image":
        title = plain(block.get("title"), ctx.names)
        return f"[image: {block.get('alt_text', '')}]" + (f" {title}" if title else "")
    if kind == "input":
        return (
            f"{plain(block.get('label'), ctx.names)}: {_element(block.get('element') or {}, block_id, ctx)}"
        )
    return f"[{kind} block]"


def render_blocks(
    blocks: list[Mapping[str, Any]],
    buttons: Buttons | None = None,
    *,
    ts: str | None = None,
    channel: str | None = None,
    names: Names | None = None,
) -> str:
    ctx = _Context(buttons if buttons is not None else Buttons(), ts, channel, names)
    return "\n".join(render_block(b, ctx) for b in blocks)


def render_message(
    msg: Mapping[str, Any] | HasApi,
    buttons: Buttons | None = None,
    *,
    channel: str | None = None,
    names: Names | None = None,
) -> str:
    """The message as a person sees it: its blocks (or its text when it has none), an "(edited)" mark,
    attachments, files, reactions and replies. Buttons are numbered into `buttons` (a fresh one if not given);
    `channel` (else the message's own) goes into each `Button`; `names` turns ids in mentions into names."""
    data: Mapping[str, Any] = msg.to_api() if hasattr(msg, "to_api") else msg  # type: ignore[assignment]
    channel = channel or getattr(msg, "channel", None) or data.get("channel")
    ctx = _Context(buttons if buttons is not None else Buttons(), data.get("ts"), channel, names)
    blocks = data.get("blocks") or []
    parts = (
        [render_blocks(blocks, ctx.buttons, ts=ctx.ts, channel=ctx.channel, names=names)] if blocks else []
    )
    if not blocks and data.get("text"):
        parts.append(mrkdwn(str(data["text"]), names))
    if data.get("edited") and parts:
        parts[-1] += " (edited)"
    for att in data.get("attachments") or []:
        body = [plain(att.get(k), names) for k in ("pretext", "title", "text") if att.get(k)]
        body += [f"{f.get('title')}: {plain(f.get('value'), names)}" for f in att.get("fields") or []]
        if att.get("blocks"):
            body.append(
                render_blocks(att["blocks"], ctx.buttons, ts=ctx.ts, channel=ctx.channel, names=names)
            )
        parts.append("\n".join("┃ " + line for line in "\n".join(body).splitlines()))
    parts += [f"📎 {f.get('title') or f.get('name')} ({f.get('name')})" for f in data.get("files") or []]
    if data.get("reactions"):
        parts.append(
            "  ".join(emojize(f":{r['name']}:") + f" {r.get('count', 1)}" for r in data["reactions"])
        )
    if data.get("reply_count"):
        count = data["reply_count"]
        parts.append(f"💬 {count} {'reply' if count == 1 else 'replies'}")
    return "\n".join(p for p in parts if p)


def text_length(value: Any) -> int:
    if isinstance(value, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else text_length(v) for k, v in value.items())
    return sum(text_length(v) for v in value) if isinstance(value, list) else 0


def checked_content(params: Mapping[str, Any], seed: str) -> tuple[str, list[Any], list[Any]]:
    """A message's text, blocks and attachments as Slack takes them, or the SlackError Slack answers."""
    text, blocks = str(params.get("text") or ""), params.get("blocks") or []
    attachments = params.get("attachments") or []
    if not isinstance(blocks, list) or not isinstance(attachments, list):
        raise SlackError("invalid_blocks_format" if not isinstance(blocks, list) else "invalid_attachments")
    if len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")
    if not (text or blocks or attachments):
        raise SlackError("no_text")
    problems = []
    if len(blocks) > MAX_BLOCKS:
        problems.append(f"[ERROR] no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    seen: set[str] = set()
    for i, block in enumerate(blocks):
        where = f"[json-pointer:/blocks/{i}"
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            problems.append(f"[ERROR] unsupported type {where}/type]")
            continue
        if block.get("block_id") in seen:
            problems.append(f"[ERROR] duplicate block_id {where}/block_id]")
        seen.add(block.get("block_id") or f"#{i}")
        shown = block.get("text") or ""
        shown = str(shown.get("text", "")) if isinstance(shown, dict) else str(shown)
        if block["type"] == "section" and not (shown or block.get("fields")):
            problems.append(f"[ERROR] must provide either text or fields {where}]")
        if block["type"] == "section" and len(shown) > MAX_SECTION:
            problems.append(f"[ERROR] must be less than {MAX_SECTION + 1} characters {where}/text/text]")
        if block["type"] == "header" and len(shown) > 150:
            problems.append(f"[ERROR] must be less than 151 characters {where}/text/text]")
        elements = block.get("elements") or []
        if block["type"] == "actions" and not 0 < len(elements) <= MAX_ELEMENTS:
            problems.append(f"[ERROR] must have 1 to {MAX_ELEMENTS} items {where}/elements]")
        for j, el in enumerate([*elements, block.get("accessory") or {}]):
            if not isinstance(el, dict) or (
                el.get("type") == "button" and (len(str(el.get("value", ""))) > 2000 or not el.get("text"))
            ):
                problems.append(f"[ERROR] invalid element {where}/elements/{j}]")
    if problems:
        raise SlackError("invalid_blocks", response_metadata={"messages": problems})
    if text_length(blocks) > MAX_BLOCKS_TEXT:
        raise SlackError("msg_blocks_too_long")
    for i, block in enumerate(blocks):  # what Slack fills in
        block.setdefault("block_id", short_id(f"{seed}/{i}"))
        for j, element in enumerate([*(block.get("elements") or []), block.get("accessory") or {}]):
            if element.get("type") in ("button", "static_select", "overflow", "datepicker"):
                element.setdefault("action_id", short_id(f"{seed}/{i}/{j}"))
    return text, blocks, attachments


def short_id(seed: str) -> str:
    """A short id like the ones Slack generates, stable for a seed."""
    return hashlib.sha1(seed.encode()).hexdigest()[:5]
