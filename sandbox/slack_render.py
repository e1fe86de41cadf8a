"""Slack messages for the sandbox: as stored and returned by the fake Web API, checked as Slack checks them,
and drawn as terminal text the way a person would see them in Slack.

`Message` (with its `edits`) is what sandbox.slack_api keeps; `checked_content()` makes Slack's checks
(msg_too_long, no_text, invalid_blocks / invalid_attachments with sandbox.block_kit's messages, and the
practical msg_blocks_too_long) and `fill_in_ids()` the block_id / action_id Slack generates.
`render_message(msg, buttons)` draws one message (a Slack message dict, or a `Message`): Block Kit or its
text, attachments, files, reactions; every button gets a number ("[3] Approve") kept in `buttons`, a
`Buttons` shared by everything on one screen, so `buttons[3]` tells what a click would send (action_id,
value, block_id, message ts, channel, or the view it is in). A button drawn again keeps its number.
`render_view(view, buttons)` draws a modal or a Home tab, its inputs as fields to fill in.
`mentions(msg)` lists what a message would ping or link on Slack, for tests.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sandbox import block_kit

Names = Callable[[str], "str | None"]  # user or channel id -> display name (None: unknown)
EMOJI = {
    "white_check_mark": "✅", "warning": "⚠️", "red_circle": "🔴", "x": "❌", "fast_forward": "⏩",
    "hourglass_flowing_sand": "⏳", "rotating_light": "🚨", "book": "📖", "eyes": "👀", "fire": "🔥",
    "large_green_circle": "🟢", "large_yellow_circle": "🟡", "heavy_check_mark": "✔️", "mag": "🔍",
    "wrench": "🔧", "lock": "🔒", "bell": "🔔", "memo": "📝", "link": "🔗", "tada": "🎉", "+1": "👍",
    "thumbsup": "👍", "no_entry": "⛔", "information_source": "\u2139\ufe0f", "robot_face": "🤖", "stopwatch": "⏱️",
    "arrow_forward": "▶️", "gear": "⚙️", "ballot_box_with_check": "☑️", "recycle": "♻️", "hourglass": "⌛",
    "arrow_double_up": "⏫", "adhesive_bandage": "🩹", "arrows_counterclockwise": "🔄", "man_in_tuxedo": "🤵",
}  # fmt: skip
RULE = "─" * 40
TEAM_ID, BOT_USER_ID, BOT_ID, APP_ID, BOT_NAME = "T0SANDBOX", "U0CHATOPS", "B0CHATOPS", "A0CHATOPS", "chatops"
# Slack truncates `text` past 40,000 characters (changelog 2018-04, "truncating really long messages") or
# answers msg_too_long; the stand-in always refuses it, so a test sees the text it would have lost.
MAX_TEXT = 40_000
MAX_BLOCKS_TEXT = 13_000  # not documented: messages fail at about this much block text (bolt-js#2509)
# A mention or a link, as Slack parses them in `text` and mrkdwn (formatting reference: "<", ">", "&" are its
# control characters, so `&lt;!here&gt;` is text, not a ping).
SPECIAL = re.compile(r"<(?P<target>[!@#][^<>|\s]+|[a-z][a-z0-9+.-]*:[^<>|\s]+)(?:\|(?P<label>[^<>]*))?>")
BROADCASTS = ("channel", "here", "everyone")


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
    view_id: str | None = None  # a button in a modal or Home tab: the view its click comes from


class Buttons:
    """The buttons on a screen by number; numbers start at 1 and are never reused."""

    def __init__(self) -> None:
        self._by_number: dict[int, Button] = {}
        self._by_key: dict[tuple[Any, ...], int] = {}

    def add(
        self,
        element: Mapping[str, Any],
        block_id: str | None,
        ts: str | None,
        channel: str | None,
        view_id: str | None = None,
    ) -> Button:
        key = (
            channel,
            ts,
            view_id,
            block_id,
            element.get("action_id"),
            element.get("value"),
            element.get("url"),
        )
        number = self._by_key.setdefault(key, len(self._by_number) + 1)
        self._by_number[number] = Button(
            number, plain(element.get("text")), str(element.get("action_id") or ""), element.get("value"),
            block_id, ts, channel, element.get("style"), element.get("url"), element.get("confirm"), view_id,
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
        if target.startswith("!subteam^"):  # a user group: its handle, as Slack shows it
            group = target.removeprefix("!subteam^")
            return "@" + (label or (names(group) if names else None) or group)
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
    """An interactive or context element as text: buttons get their number, inputs show what to fill in."""
    kind = str(el.get("type"))
    if kind == "button":
        button = ctx.buttons.add(el, block_id, ctx.ts, ctx.channel, ctx.view_id)
        return f"[{button.number}] {button.text}" + (f" <{button.url}>" if button.url else "")
    if kind == "image":
        return f"[image: {el.get('alt_text', '')}]"
    if kind in ("plain_text", "mrkdwn"):
        return plain(el, ctx.names)
    if kind in ("radio_buttons", "checkboxes"):
        return _choices(el, ctx.names)
    if kind.endswith("select") or kind == "overflow":
        return _menu(el, kind, ctx.names)
    if kind in FIELDS:
        shown = el.get("initial_value") or el.get("initial_date") or el.get("initial_time")
        hint = plain(el.get("placeholder"), ctx.names) or FIELDS[kind]
        return f"[ {shown or hint} ]" + (" (multi-line)" if el.get("multiline") else "")
    return f"<{kind}>"


FIELDS = {"plain_text_input": "text", "email_text_input": "email address", "url_text_input": "URL",
          "number_input": "number", "rich_text_input": "formatted text", "datepicker": "YYYY-MM-DD",
          "timepicker": "HH:MM", "datetimepicker": "date and time", "file_input": "files"}  # fmt: skip
PICKS = {"users_select": "a person", "conversations_select": "a conversation", "channels_select": "a channel",
         "external_select": "a search"}  # fmt: skip


def _options(el: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    groups = [group.get("options") or [] for group in el.get("option_groups") or []]
    return [*(el.get("options") or []), *(o for group in groups for o in group)]


def _menu(el: Mapping[str, Any], kind: str, names: Names | None) -> str:
    """A select or overflow menu: `<placeholder: A / B>`, the initially chosen options marked ✓."""
    chosen = [o.get("value") for o in [el.get("initial_option") or {}, *(el.get("initial_options") or [])]]
    options = " / ".join(("✓ " if o.get("value") in chosen else "") + plain(o.get("text"), names)
                         for o in _options(el))  # fmt: skip
    label = plain(el.get("placeholder"), names) or ("…" if kind == "overflow" else "Select")
    picks = PICKS.get(kind.removeprefix("multi_"), "")
    return f"<{label}{': ' + (options or picks) if options or picks else ''}>"


def _choices(el: Mapping[str, Any], names: Names | None) -> str:
    """Radio buttons as `(•) A  ( ) B`, checkboxes as `[x] A  [ ] B`."""
    chosen = [o.get("value") for o in [el.get("initial_option") or {}, *(el.get("initial_options") or [])]]
    marks = ("(•)", "( )") if el.get("type") == "radio_buttons" else ("[x]", "[ ]")
    return "  ".join(f"{marks[0] if o.get('value') in chosen else marks[1]} {plain(o.get('text'), names)}"
                     for o in _options(el))  # fmt: skip


@dataclass
class _Context:
    buttons: Buttons
    ts: str | None
    channel: str | None
    names: Names | None
    view_id: str | None = None


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
        label = plain(block.get("label"), ctx.names) + ("" if block.get("optional") else " *")
        hint = f"\n  {plain(block.get('hint'), ctx.names)}" if block.get("hint") else ""
        return f"{label}\n  {_element(block.get('element') or {}, block_id, ctx)}{hint}"
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
    data: Mapping[str, Any] = msg.to_api() if hasattr(msg, "to_api") else msg
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


def render_view(
    view: Mapping[str, Any], buttons: Buttons | None = None, *, names: Names | None = None
) -> str:
    """A modal or Home tab as a person sees it: its title, its blocks (an input's label ends in * when it must
    be filled in) and a modal's close and submit buttons. Buttons in it are numbered into `buttons`, with
    the view's id as where the click comes from."""
    ctx = _Context(buttons if buttons is not None else Buttons(), None, None, names, view.get("id"))
    title = "Home" if view.get("type") == "home" else plain(view.get("title"), names)
    parts = [f"{title}\n{'━' * min(max(len(title), 4), 60)}"]
    parts += [render_block(block, ctx) for block in view.get("blocks") or []]
    footer = "  ".join(f"[{plain(view[key], names)}]" for key in ("close", "submit") if view.get(key))
    return "\n".join(p for p in [*parts, footer] if p)


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
    if problems := block_kit.message_problems(blocks):
        raise SlackError("invalid_blocks", response_metadata={"messages": problems})
    if problems := block_kit.attachment_problems(attachments):
        raise SlackError("invalid_attachments", response_metadata={"messages": problems})
    if text_length(blocks) > MAX_BLOCKS_TEXT:
        raise SlackError("msg_blocks_too_long")
    fill_in_ids(blocks, seed)
    for i, attachment in enumerate(attachments):
        if isinstance(attachment, dict) and isinstance(attachment.get("blocks"), list):
            fill_in_ids(attachment["blocks"], f"{seed}/attachments/{i}")
    return text, blocks, attachments


def fill_in_ids(blocks: list[dict[str, Any]], seed: str) -> None:
    """Give each block a block_id, and each interactive element an action_id, where the app left them out
    (Slack generates both; the interaction payloads carry them)."""
    for i, block in enumerate(blocks):
        block.setdefault("block_id", short_id(f"{seed}/{i}"))
        elements = [*(block.get("elements") or []), block.get("accessory") or {}, block.get("element") or {}]
        for j, element in enumerate(elements):
            if isinstance(element, dict) and element.get("type") in block_kit.ELEMENT_FIELDS:
                element.setdefault("action_id", short_id(f"{seed}/{i}/{j}"))


def mentions(message: Mapping[str, Any] | HasApi) -> list[str]:
    """What the message would ping or link on Slack, in order: `<!here>`, `<!channel>`, `<!everyone>`,
    `<!subteam^S1>`, `<@U1>`, `<#C1>` (labels dropped) and links as written (`<https://x|label>`).

    Looked for where Slack parses them: the message's `text`, mrkdwn text objects in its blocks (sections,
    their fields, context; plain_text is shown as typed, per the text object reference), rich_text mention
    and link elements, and attachments (pretext, text, field values, blocks). Escaped text is not a mention.
    """
    data: Mapping[str, Any] = message.to_api() if hasattr(message, "to_api") else message
    found = _mentions_in(str(data.get("text") or "")) + _block_mentions(data.get("blocks") or [])
    for att in data.get("attachments") or []:
        texts = [att.get("pretext"), att.get("text"), *(f.get("value") for f in att.get("fields") or [])]
        found += [m for t in texts if isinstance(t, str) for m in _mentions_in(t)]
        found += _block_mentions(att.get("blocks") or [])
    return found


def _mentions_in(mrkdwn_text: str) -> list[str]:
    found = []
    for match in SPECIAL.finditer(mrkdwn_text):
        target = match.group("target")
        if target[0] in "@#" or target.removeprefix("!") in BROADCASTS or target.startswith("!subteam^"):
            found.append(f"<{target}>")
        elif target[0] != "!":  # a link (<!date^...> and the like are formatting, not mentions)
            found.append(match.group(0))
    return found


def _block_mentions(value: Any) -> list[str]:
    """Mentions in mrkdwn text objects and rich_text elements anywhere under `value`, in document order."""
    if isinstance(value, list):
        return [m for item in value for m in _block_mentions(item)]
    if not isinstance(value, dict):
        return []
    kind = value.get("type")
    if kind == "mrkdwn":
        return _mentions_in(str(value.get("text") or ""))
    rich = {"user": ("@", "user_id"), "channel": ("#", "channel_id"), "usergroup": ("!subteam^", "usergroup_id"),
            "broadcast": ("!", "range")}  # fmt: skip
    if kind in rich and isinstance(value.get(rich[kind][1]), str):
        return [f"<{rich[kind][0]}{value[rich[kind][1]]}>"]
    if kind == "link" and value.get("url"):
        return [f"<{value['url']}|{value['text']}>" if value.get("text") else f"<{value['url']}>"]
    return [m for child in value.values() if isinstance(child, list | dict) for m in _block_mentions(child)]


def short_id(seed: str) -> str:
    """A short id like the ones Slack generates, stable for a seed."""
    return hashlib.sha1(seed.encode()).hexdigest()[:5]
