"""Block Kit as Slack checks it: the problems real Slack finds in a message's blocks, an attachment's blocks,
a modal view or a Home tab view, in Slack's own format (`[ERROR] <reason> [json-pointer:/blocks/1/...]`).

`message_problems(blocks)` is what chat.postMessage / chat.update / chat.postEphemeral answer as
`invalid_blocks`, `attachment_problems(attachments)` as `invalid_attachments`, and `view_problems(view,
surface)` what views.open / update / push / publish answer as `invalid_arguments`; an empty list means
Slack takes it. Each limit names its source: the Block Kit reference (docs.slack.dev/reference/block-kit,
"the reference" below) unless a comment says otherwise. Reasons use Slack's wording where we have seen it
("must be less than 76 characters", "missing required field: title", "must provide an object", "no more
than 50 items allowed"); the others ("duplicate action_id", "unsupported type: x") are ours, in its style.

Checked: required and unknown fields of every block, element and composition object below; text objects
(`plain_text` | `mrkdwn`, plain-only where Slack says so, non-empty, `emoji` only on plain_text and
`verbatim` only on mrkdwn); which elements each block takes, and on which surface; unique block_id per
message or view and unique action_id per block. Block types we know but do not inspect (rich_text, video,
file, table...) are checked for their type and block_id only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, Literal

Surface = Literal["message", "modal", "home"]
Json = Mapping[str, Any]

MAX_BLOCKS: dict[Surface, int] = {"message": 50, "modal": 100, "home": 100}  # "Reference: blocks"
MAX_ID = 255  # block_id and action_id, on every block and interactive element
MAX_TEXT = 3000  # any text object
TEXT_TYPES = ("plain_text", "mrkdwn")
STYLES = ("primary", "danger")  # button and confirm dialog `style`
SELECTS = ("static_select", "external_select", "users_select", "conversations_select", "channels_select")
MULTI_SELECTS = tuple(f"multi_{kind}" for kind in SELECTS)
# Where each element goes: the "Works with blocks" column of the block elements reference.
IN_ACTIONS = frozenset({"button", "checkboxes", "datepicker", "datetimepicker", "overflow", "radio_buttons",
                        "timepicker", "workflow_button", *SELECTS, *MULTI_SELECTS})  # fmt: skip
IN_ACCESSORY = IN_ACTIONS - {"datetimepicker"} | {"image"}
IN_INPUT = frozenset({"checkboxes", "datepicker", "datetimepicker", "email_text_input", "file_input", "number_input",
                      "plain_text_input", "radio_buttons", "rich_text_input", "timepicker", "url_text_input",
                      *SELECTS, *MULTI_SELECTS})  # fmt: skip
IN_CONTEXT = frozenset({"image", *TEXT_TYPES})
# Elements and blocks not on every surface: the "Surfaces" column of the reference.
ONLY_ON: dict[str, frozenset[Surface]] = {
    "email_text_input": frozenset({"modal"}), "file_input": frozenset({"modal"}),
    "number_input": frozenset({"modal"}), "url_text_input": frozenset({"modal"}),
    "rich_text_input": frozenset({"modal", "home"}), "datetimepicker": frozenset({"modal", "message"}),
    "file": frozenset({"message"}),
}  # fmt: skip
SHALLOW_BLOCKS = frozenset({"rich_text", "file", "video", "table", "context_actions"})
DATE, TIME = re.compile(r"\d{4}-\d{2}-\d{2}"), re.compile(r"([01]\d|2[0-3]):[0-5]\d")
_INPUT, _PLACEHOLDER = ("confirm", "focus_on_load"), ("placeholder",)  # most input elements take these
# Fields each element may carry, besides `type` and `action_id`: the reference page of each element.
ELEMENT_FIELDS: dict[str, frozenset[str]] = {kind: frozenset(fields) for kind, fields in {
    "button": ("text", "url", "value", "style", "confirm", "accessibility_label"),
    "static_select": ("options", "option_groups", "initial_option", *_INPUT, *_PLACEHOLDER),
    "multi_static_select": ("options", "option_groups", "initial_options", "max_selected_items", *_INPUT,
                            *_PLACEHOLDER),
    "external_select": ("initial_option", "min_query_length", *_INPUT, *_PLACEHOLDER),
    "multi_external_select": ("initial_options", "min_query_length", "max_selected_items", *_INPUT, *_PLACEHOLDER),
    "users_select": ("initial_user", *_INPUT, *_PLACEHOLDER),
    "multi_users_select": ("initial_users", "max_selected_items", *_INPUT, *_PLACEHOLDER),
    "conversations_select": ("initial_conversation", "default_to_current_conversation", "response_url_enabled",
                             "filter", *_INPUT, *_PLACEHOLDER),
    "multi_conversations_select": ("initial_conversations", "default_to_current_conversation",
                                   "max_selected_items", "filter", *_INPUT, *_PLACEHOLDER),
    "channels_select": ("initial_channel", "response_url_enabled", *_INPUT, *_PLACEHOLDER),
    "multi_channels_select": ("initial_channels", "max_selected_items", *_INPUT, *_PLACEHOLDER),
    "overflow": ("options", "confirm"),
    "radio_buttons": ("options", "initial_option", *_INPUT),
    "checkboxes": ("options", "initial_options", *_INPUT),
    "datepicker": ("initial_date", *_INPUT, *_PLACEHOLDER),
    "timepicker": ("initial_time", "timezone", *_INPUT, *_PLACEHOLDER),
    "datetimepicker": ("initial_date_time", *_INPUT),
    "plain_text_input": ("initial_value", "multiline", "min_length", "max_length", "dispatch_action_config",
                         "focus_on_load", *_PLACEHOLDER),
    "email_text_input": ("initial_value", "dispatch_action_config", "focus_on_load", *_PLACEHOLDER),
    "url_text_input": ("initial_value", "dispatch_action_config", "focus_on_load", *_PLACEHOLDER),
    "number_input": ("is_decimal_allowed", "initial_value", "min_value", "max_value", "dispatch_action_config",
                     "focus_on_load", *_PLACEHOLDER),
    "rich_text_input": ("initial_value", "dispatch_action_config", "focus_on_load", *_PLACEHOLDER),
    "file_input": ("filetypes", "max_files"),
    "workflow_button": ("text", "workflow", "style", "accessibility_label"),
}.items()}  # fmt: skip
REQUIRED_FIELDS = {"button": ("text",), "overflow": ("options",), "radio_buttons": ("options",),
                   "checkboxes": ("options",), "workflow_button": ("text", "workflow")}  # fmt: skip


def message_problems(blocks: Any) -> list[str]:
    """What Slack finds wrong with a message's `blocks` (chat.postMessage answers `invalid_blocks`)."""
    checker = _Checker("message")
    checker.blocks(blocks, "/blocks")
    return checker.problems


def attachment_problems(attachments: Any) -> list[str]:
    """What Slack finds wrong with a message's attachments: each an object, their blocks as a message's (it
    answers `invalid_attachments`: slack-go/slack#826, bolt-js#717)."""
    checker = _Checker("message")
    for i, attachment in enumerate(attachments if isinstance(attachments, list) else []):
        if checker.is_object(attachment, f"/attachments/{i}") and "blocks" in attachment:
            checker.blocks(attachment["blocks"], f"/attachments/{i}/blocks")
    return checker.problems


def view_problems(view: Any, surface: Literal["modal", "home"]) -> list[str]:
    """What Slack finds wrong with a view for that surface (the views methods answer `invalid_arguments`)."""
    checker = _Checker(surface)
    checker.view(view, "/view")
    return checker.problems


def too_long(limit: int) -> str:
    # Slack's wording, e.g. "must be less than 76 characters" for option text (rtCamp/frappe-slack-connector#54)
    return f"must be less than {limit + 1} characters"


class _Checker:
    """Walks one payload, collecting problems with their json-pointers."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface
        self.problems: list[str] = []

    def fail(self, reason: str, at: str) -> None:
        self.problems.append(f"[ERROR] {reason} [json-pointer:{at}]")

    # --- generic shapes ---

    def is_object(self, value: Any, at: str) -> bool:
        if not isinstance(value, dict):
            self.fail("must provide an object", at)
        return isinstance(value, dict)

    def fields(self, obj: Json, at: str, allowed: Collection[str], required: Collection[str] = ()) -> None:
        for name in required:
            if obj.get(name) is None:
                self.fail(f"missing required field: {name}", at)
        for name in obj:
            if name not in allowed and name not in required:
                self.fail(f"invalid additional property: {name}", at)

    def string(self, obj: Json, key: str, at: str, limit: int) -> None:
        value = obj.get(key)
        if value is None:
            return
        if not isinstance(value, str):
            self.fail("must provide a string", f"{at}/{key}")
        elif len(value) > limit:
            self.fail(too_long(limit), f"{at}/{key}")

    def one_of(self, obj: Json, key: str, at: str, values: Collection[str]) -> None:
        if obj.get(key) is not None and obj[key] not in values:
            self.fail("must be a valid enum value", f"{at}/{key}")

    def items(self, obj: Json, key: str, at: str, most: int, least: int = 1) -> list[Any]:
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.fail("must provide an array", f"{at}/{key}")
            return []
        if len(value) > most:
            self.fail(f"no more than {most} items allowed", f"{at}/{key}")
        elif len(value) < least:
            self.fail(f"must provide at least {least} item{'s' if least > 1 else ''}", f"{at}/{key}")
        return value

    def text(self, value: Any, at: str, limit: int = MAX_TEXT, plain: bool = False) -> None:
        """A text object: `plain_text` (or `mrkdwn` where `plain` is False) with 1..limit characters."""
        if value is None or not self.is_object(value, at):
            return
        kind = value.get("type")
        extra = {"plain_text": ("emoji",), "mrkdwn": ("verbatim",)}.get(kind, ())  # text object reference
        self.fields(value, at, ("type", "text", *extra), ("type", "text"))
        self.one_of(value, "type", at, ("plain_text",) if plain else TEXT_TYPES)
        text, limit = value.get("text"), min(limit, MAX_TEXT)
        if text is not None and not isinstance(text, str):
            self.fail("must provide a string", f"{at}/text")
        elif text == "":
            self.fail("must be more than 0 characters", f"{at}/text")
        elif text is not None and len(text) > limit:
            self.fail(too_long(limit), f"{at}/text")

    # --- views ---

    def view(self, view: Any, at: str) -> None:
        if not self.is_object(view, at):
            return
        common = ("type", "blocks", "private_metadata", "callback_id", "external_id")
        if self.surface == "modal":  # modal view reference
            self.fields(view, at, (*common, "close", "submit", "clear_on_close", "notify_on_close",
                                   "submit_disabled"), ("type", "title", "blocks"))  # fmt: skip
            for key in ("title", "close", "submit"):
                self.text(view.get(key), f"{at}/{key}", 24, plain=True)
            has_input = any(
                isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or []
            )
            if has_input and view.get("submit") is None:  # "submit is required when an input block is within"
                self.fail("missing required field: submit", at)
        else:  # Home tab view reference: no title, submit or close
            self.fields(view, at, common, ("type", "blocks"))
        self.one_of(view, "type", at, (self.surface,))
        self.string(view, "private_metadata", at, 3000)
        self.string(view, "callback_id", at, MAX_ID)
        self.string(view, "external_id", at, MAX_ID)  # views.open: "a max length of 255 characters"
        if "blocks" in view:
            self.blocks(view["blocks"], f"{at}/blocks")

    # --- blocks ---

    def blocks(self, blocks: Any, at: str) -> None:
        if not isinstance(blocks, list):
            self.fail("must provide an array", at)
            return
        if len(blocks) > MAX_BLOCKS[self.surface]:
            self.fail(f"no more than {MAX_BLOCKS[self.surface]} items allowed", at)
        if self.surface != "message" and not blocks:  # slack_sdk View: "between 1 and 100 blocks"
            self.fail("must provide at least 1 item", at)
        seen: set[str] = set()
        for i, block in enumerate(blocks):
            where = f"{at}/{i}"
            if not self.is_object(block, where):
                continue
            block_id = block.get("block_id")
            if isinstance(block_id, str) and block_id in seen:  # "block_id should be unique for each message"
                self.fail("duplicate block_id", f"{where}/block_id")
            if isinstance(block_id, str):
                seen.add(block_id)
            self.block(block, where)

    def block(self, block: Json, at: str) -> None:
        kind = block.get("type")
        check = BLOCKS.get(kind) if isinstance(kind, str) else None
        if kind is None:
            self.fail("missing required field: type", at)
        elif check is None or self.surface not in ONLY_ON.get(kind, {self.surface}):
            self.fail(f"unsupported type: {kind}", f"{at}/type")
        else:
            self.string(block, "block_id", at, MAX_ID)
            check(self, block, at)

    def section(self, block: Json, at: str) -> None:
        self.fields(block, at, ("type", "block_id", "text", "fields", "accessory", "expand"))
        if block.get("text") is None and block.get("fields") is None:
            self.fail("must define either `text` or `fields`", at)  # wording as in java-slack-sdk#1017
        self.text(block.get("text"), f"{at}/text", 3000)
        for i, field in enumerate(self.items(block, "fields", at, 10)):
            self.text(field, f"{at}/fields/{i}", 2000)
        if block.get("accessory") is not None:
            self.element(block["accessory"], f"{at}/accessory", IN_ACCESSORY)

    def header(self, block: Json, at: str) -> None:
        self.fields(block, at, ("type", "block_id"), ("text",))
        self.text(block.get("text"), f"{at}/text", 150, plain=True)

    def divider(self, block: Json, at: str) -> None:
        self.fields(block, at, ("type", "block_id"))

    def context(self, block: Json, at: str) -> None:
        self.fields(block, at, ("type", "block_id"), ("elements",))
        for i, element in enumerate(self.items(block, "elements", at, 10)):
            self.element(element, f"{at}/elements/{i}", IN_CONTEXT)

    def actions(self, block: Json, at: str) -> None:
        self.fields(block, at, ("type", "block_id"), ("elements",))
        seen: set[str] = set()
        for i, element in enumerate(self.items(block, "elements", at, 25)):
            self.element(element, f"{at}/elements/{i}", IN_ACTIONS)
            action_id = element.get("action_id") if isinstance(element, dict) else None
            # button reference: "unique among all other action_ids in the containing block"
            if isinstance(action_id, str) and action_id in seen:
                self.fail("duplicate action_id", f"{at}/elements/{i}/action_id")
            if isinstance(action_id, str):
                seen.add(action_id)

    def input(self, block: Json, at: str) -> None:
        self.fields(
            block, at, ("type", "block_id", "hint", "optional", "dispatch_action"), ("label", "element")
        )
        self.text(block.get("label"), f"{at}/label", 2000, plain=True)
        self.text(block.get("hint"), f"{at}/hint", 2000, plain=True)
        element = block.get("element")
        if element is not None:
            self.element(element, f"{at}/element", IN_INPUT)
        if block.get("dispatch_action") and isinstance(element, dict) and element.get("type") == "file_input":
            self.fail("unsupported type: file_input", f"{at}/element/type")  # input block reference

    def image_block(self, block: Json, at: str) -> None:
        self.fields(block, at, ("type", "block_id", "image_url", "slack_file", "title"), ("alt_text",))
        self.image_source(block, at)
        self.string(block, "alt_text", at, 2000)
        self.text(block.get("title"), f"{at}/title", 2000, plain=True)

    def markdown(self, block: Json, at: str) -> None:
        self.fields(block, at, ("type", "block_id"), ("text",))
        self.string(block, "text", at, 12_000)  # markdown block reference: 12,000 characters

    def shallow(self, block: Json, at: str) -> None:
        """A block we know but do not inspect: its type and block_id were checked already."""

    # --- elements ---

    def element(self, element: Any, at: str, allowed: Collection[str]) -> None:
        if not self.is_object(element, at):
            return
        kind = element.get("type")
        if kind is None:
            self.fail("missing required field: type", at)
        elif kind not in allowed or self.surface not in ONLY_ON.get(kind, {self.surface}):
            self.fail(f"unsupported type: {kind}", f"{at}/type")
        elif kind in TEXT_TYPES:
            self.text(element, at)
        elif kind == "image":
            self.fields(element, at, ("type", "image_url", "slack_file"), ("alt_text",))
            self.image_source(element, at)
            self.string(element, "alt_text", at, 2000)
        else:
            self.interactive(element, kind, at)

    def interactive(self, element: Json, kind: str, at: str) -> None:
        self.fields(element, at, ("type", "action_id", *ELEMENT_FIELDS[kind]), REQUIRED_FIELDS.get(kind, ()))
        self.string(element, "action_id", at, MAX_ID)
        self.text(element.get("placeholder"), f"{at}/placeholder", 150, plain=True)
        if element.get("confirm") is not None:
            self.confirm(element["confirm"], f"{at}/confirm")
        if kind in ("button", "workflow_button"):
            self.button(element, at)
        elif kind in ("static_select", "multi_static_select"):
            self.static_select(element, at)
        elif kind in ("overflow", "radio_buttons", "checkboxes"):
            self.option_list(element, kind, at)
        elif kind == "plain_text_input":
            self.number(element, "min_length", at, 0, 3000)  # "between 0 and 3000, inclusive"
            self.number(element, "max_length", at, 1, 3000)  # "between 1 and 3000, inclusive"
        self.pattern(element, "initial_date", at, DATE)  # datepicker: YYYY-MM-DD
        self.pattern(element, "initial_time", at, TIME)  # timepicker: HH:mm
        if kind in MULTI_SELECTS:
            self.number(element, "max_selected_items", at, 1, None)

    def button(self, element: Json, at: str) -> None:
        self.text(element.get("text"), f"{at}/text", 75, plain=True)
        self.string(element, "value", at, 2000)
        self.string(element, "url", at, 3000)
        self.string(element, "accessibility_label", at, 75)
        self.one_of(element, "style", at, STYLES)

    def static_select(self, element: Json, at: str) -> None:
        if (element.get("options") is None) == (element.get("option_groups") is None):
            self.fail("must define either `options` or `option_groups`", at)  # select menu reference
        for i, option in enumerate(self.items(element, "options", at, 100)):
            self.option(option, f"{at}/options/{i}", plain=True)
        for i, group in enumerate(self.items(element, "option_groups", at, 100)):
            self.option_group(group, f"{at}/option_groups/{i}")
        self.initial_options(element, at, plain=True)

    def option_list(self, element: Json, kind: str, at: str) -> None:
        most = 5 if kind == "overflow" else 10  # overflow: "up to five"; radio buttons, checkboxes: 10
        for i, option in enumerate(self.items(element, "options", at, most)):
            self.option(option, f"{at}/options/{i}", plain=kind == "overflow", url=kind == "overflow")
        self.initial_options(element, at, plain=False)

    def initial_options(self, element: Json, at: str, plain: bool) -> None:
        if element.get("initial_option") is not None:
            self.option(element["initial_option"], f"{at}/initial_option", plain)
        for i, option in enumerate(self.items(element, "initial_options", at, 100, least=0)):
            self.option(option, f"{at}/initial_options/{i}", plain)

    def option(self, option: Any, at: str, plain: bool, url: bool = False) -> None:
        """An option object: plain_text in menus, mrkdwn allowed in radio buttons and checkboxes."""
        if not self.is_object(option, at):
            return
        self.fields(option, at, ("description", *(("url",) if url else ())), ("text", "value"))
        self.text(option.get("text"), f"{at}/text", 75, plain=plain)
        self.string(option, "value", at, 150)
        self.text(option.get("description"), f"{at}/description", 75, plain=plain)
        self.string(option, "url", at, 3000)

    def option_group(self, group: Any, at: str) -> None:
        if not self.is_object(group, at):
            return
        self.fields(group, at, (), ("label", "options"))
        self.text(group.get("label"), f"{at}/label", 75, plain=True)
        for i, option in enumerate(self.items(group, "options", at, 100)):
            self.option(option, f"{at}/options/{i}", plain=True)

    def confirm(self, dialog: Any, at: str) -> None:
        """A confirmation dialog. Its `text` is plain_text in today's reference; the older one took any text
        object, so mrkdwn passes here too: the limits are what bites."""
        if not self.is_object(dialog, at):
            return
        self.fields(dialog, at, ("style",), ("title", "text", "confirm", "deny"))
        self.text(dialog.get("title"), f"{at}/title", 100, plain=True)
        self.text(dialog.get("text"), f"{at}/text", 300)
        self.text(dialog.get("confirm"), f"{at}/confirm", 30, plain=True)
        self.text(dialog.get("deny"), f"{at}/deny", 30, plain=True)
        self.one_of(dialog, "style", at, STYLES)

    def image_source(self, obj: Json, at: str) -> None:
        if obj.get("image_url") is None and obj.get("slack_file") is None:
            self.fail("must define either `image_url` or `slack_file`", at)  # image reference
        self.string(obj, "image_url", at, 3000)

    def number(self, obj: Json, key: str, at: str, least: int, most: int | None) -> None:
        value = obj.get(key)
        if value is None:
            return
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail("must provide an integer", f"{at}/{key}")
        elif value < least or (most is not None and value > most):
            self.fail(f"must be between {least} and {most}" if most is not None else f"must be at least {least}",
                      f"{at}/{key}")  # fmt: skip

    def pattern(self, obj: Json, key: str, at: str, pattern: re.Pattern[str]) -> None:
        value = obj.get(key)
        if value is not None and not (isinstance(value, str) and pattern.fullmatch(value)):
            self.fail("must match the expected format", f"{at}/{key}")


BLOCKS: dict[str, Callable[[_Checker, Json, str], None]] = {
    "section": _Checker.section, "header": _Checker.header, "divider": _Checker.divider,
    "context": _Checker.context, "actions": _Checker.actions, "input": _Checker.input,
    "image": _Checker.image_block, "markdown": _Checker.markdown,
    **dict.fromkeys(SHALLOW_BLOCKS, _Checker.shallow),
}  # fmt: skip
