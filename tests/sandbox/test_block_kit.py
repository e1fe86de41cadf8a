"""sandbox.block_kit: each Block Kit rule with a payload just within it (Slack takes it) and one just past it
(Slack's reason and json-pointer); real payloads from Slack's docs pass; a few end to end through WebClient."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox.block_kit import attachment_problems, message_problems, too_long, view_problems
from sandbox.slack_api import CHANNEL_ID, TOKEN, FakeSlackApi

Block = dict[str, Any]


def plain(text: str) -> Block:
    return {"type": "plain_text", "text": text}


def mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}


def section(text: str = "hi", **fields: Any) -> Block:
    return {"type": "section", "text": mrkdwn(text), **fields}


def button(text: str = "Go", action_id: str = "go", **fields: Any) -> Block:
    return {"type": "button", "text": plain(text), "action_id": action_id, **fields}


def actions(*elements: Block) -> Block:
    return {"type": "actions", "elements": list(elements)}


def option(text: str = "One", value: str = "1", **fields: Any) -> Block:
    return {"text": plain(text), "value": value, **fields}


def select(**fields: Any) -> Block:
    return {"type": "static_select", "action_id": "pick", "placeholder": plain("Pick"), **fields}


def confirm(**texts: str) -> Block:
    parts = {"title": "Sure?", "text": "This restarts pods", "confirm": "Yes", "deny": "No"} | texts
    return {key: plain(value) for key, value in parts.items()}


def modal(*blocks: Block, **fields: Any) -> Block:
    return {"type": "modal", "title": plain("Declare"), "blocks": list(blocks) or [section()], **fields}


def text_input(**fields: Any) -> Block:
    return {"type": "input", "label": plain("Why?"), "element": {"type": "plain_text_input", **fields}}


def error(reason: str, pointer: str) -> str:
    return f"[ERROR] {reason} [json-pointer:{pointer}]"


# (payload maker, the limit, what Slack says past it, where): maker(limit) passes, maker(limit + 1) fails.
MESSAGE_LIMITS: dict[str, tuple[Callable[[int], list[Block]], int, str, str]] = {
    "block_id": (lambda n: [{"type": "divider", "block_id": "b" * n}], 255, too_long(255), "/blocks/0/block_id"),
    "action_id": (lambda n: [actions(button(action_id="a" * n))], 255, too_long(255), "/blocks/0/elements/0/action_id"),
    "blocks per message": (lambda n: [{"type": "divider"}] * n, 50, "no more than 50 items allowed", "/blocks"),
    "actions elements": (lambda n: [actions(*(button(action_id=f"a{i}") for i in range(n)))], 25,
                         "no more than 25 items allowed", "/blocks/0/elements"),
    "context elements": (lambda n: [{"type": "context", "elements": [mrkdwn("x")] * n}], 10,
                         "no more than 10 items allowed", "/blocks/0/elements"),
    "context text": (lambda n: [{"type": "context", "elements": [mrkdwn("x" * n)]}], 3000, too_long(3000),
                     "/blocks/0/elements/0/text"),
    "section text": (lambda n: [section("x" * n)], 3000, too_long(3000), "/blocks/0/text/text"),
    "section fields": (lambda n: [{"type": "section", "fields": [mrkdwn("f")] * n}], 10,
                       "no more than 10 items allowed", "/blocks/0/fields"),
    "section field text": (lambda n: [{"type": "section", "fields": [mrkdwn("f" * n)]}], 2000, too_long(2000),
                           "/blocks/0/fields/0/text"),
    "header text": (lambda n: [{"type": "header", "text": plain("h" * n)}], 150, too_long(150), "/blocks/0/text/text"),
    "button text": (lambda n: [actions(button("b" * n))], 75, too_long(75), "/blocks/0/elements/0/text/text"),
    "button value": (lambda n: [actions(button(value="v" * n))], 2000, too_long(2000), "/blocks/0/elements/0/value"),
    "button url": (lambda n: [actions(button(url="https://x.example/" + "u" * (n - 18)))], 3000, too_long(3000),
                   "/blocks/0/elements/0/url"),
    "confirm title": (lambda n: [actions(button(confirm=confirm(title="t" * n)))], 100, too_long(100),
                      "/blocks/0/elements/0/confirm/title/text"),
    "confirm text": (lambda n: [actions(button(confirm=confirm(text="t" * n)))], 300, too_long(300),
                     "/blocks/0/elements/0/confirm/text/text"),
    "confirm button": (lambda n: [actions(button(confirm=confirm(confirm="c" * n)))], 30, too_long(30),
                       "/blocks/0/elements/0/confirm/confirm/text"),
    "deny button": (lambda n: [actions(button(confirm=confirm(deny="d" * n)))], 30, too_long(30),
                    "/blocks/0/elements/0/confirm/deny/text"),
    "select options": (lambda n: [actions(select(options=[option(value=str(i)) for i in range(n)]))], 100,
                       "no more than 100 items allowed", "/blocks/0/elements/0/options"),
    "option groups": (lambda n: [actions(select(option_groups=[{"label": plain("G"), "options": [option()]}] * n))],
                      100, "no more than 100 items allowed", "/blocks/0/elements/0/option_groups"),
    "options in a group": (lambda n: [actions(select(option_groups=[{"label": plain("G"), "options": [option()] * n}]))],
                           100, "no more than 100 items allowed", "/blocks/0/elements/0/option_groups/0/options"),
    "option group label": (lambda n: [actions(select(option_groups=[{"label": plain("g" * n), "options": [option()]}]))],
                           75, too_long(75), "/blocks/0/elements/0/option_groups/0/label/text"),
    "option text": (lambda n: [actions(select(options=[option("o" * n)]))], 75, too_long(75),
                    "/blocks/0/elements/0/options/0/text/text"),
    "option value": (lambda n: [actions(select(options=[option(value="v" * n)]))], 150, too_long(150),
                     "/blocks/0/elements/0/options/0/value"),
    "option description": (lambda n: [actions(select(options=[option(description=plain("d" * n))]))], 75,
                           too_long(75), "/blocks/0/elements/0/options/0/description/text"),
    "placeholder": (lambda n: [actions(select(options=[option()], placeholder=plain("p" * n)))], 150, too_long(150),
                    "/blocks/0/elements/0/placeholder/text"),
    "overflow options": (lambda n: [actions({"type": "overflow", "options": [option()] * n})], 5,
                         "no more than 5 items allowed", "/blocks/0/elements/0/options"),
    "radio options": (lambda n: [actions({"type": "radio_buttons", "options": [option()] * n})], 10,
                      "no more than 10 items allowed", "/blocks/0/elements/0/options"),
    "checkbox options": (lambda n: [actions({"type": "checkboxes", "options": [option()] * n})], 10,
                         "no more than 10 items allowed", "/blocks/0/elements/0/options"),
    "image alt_text": (lambda n: [{"type": "image", "image_url": "https://x.example/a.png", "alt_text": "a" * n}],
                       2000, too_long(2000), "/blocks/0/alt_text"),
}  # fmt: skip


@pytest.mark.parametrize("rule", MESSAGE_LIMITS)
def test_message_limits(rule: str) -> None:
    make, limit, reason, pointer = MESSAGE_LIMITS[rule]
    assert message_problems(make(limit)) == []
    assert message_problems(make(limit + 1)) == [error(reason, pointer)]


VIEW_LIMITS: dict[str, tuple[Callable[[int], Block], int, str, str]] = {
    "modal blocks": (lambda n: modal(*[{"type": "divider"}] * n), 100, "no more than 100 items allowed", "/view/blocks"),
    "title": (lambda n: modal(title=plain("t" * n)), 24, too_long(24), "/view/title/text"),
    "close": (lambda n: modal(close=plain("c" * n)), 24, too_long(24), "/view/close/text"),
    "submit": (lambda n: modal(submit=plain("s" * n)), 24, too_long(24), "/view/submit/text"),
    "callback_id": (lambda n: modal(callback_id="c" * n), 255, too_long(255), "/view/callback_id"),
    "private_metadata": (lambda n: modal(private_metadata="m" * n), 3000, too_long(3000), "/view/private_metadata"),
    "external_id": (lambda n: modal(external_id="e" * n), 255, too_long(255), "/view/external_id"),
    "input label": (lambda n: modal({**text_input(), "label": plain("l" * n)}, submit=plain("Go")), 2000,
                    too_long(2000), "/view/blocks/0/label/text"),
    "input hint": (lambda n: modal({**text_input(), "hint": plain("h" * n)}, submit=plain("Go")), 2000,
                   too_long(2000), "/view/blocks/0/hint/text"),
    "text input max_length": (lambda n: modal(text_input(max_length=n), submit=plain("Go")), 3000,
                              "must be between 1 and 3000", "/view/blocks/0/element/max_length"),
    "text input min_length": (lambda n: modal(text_input(min_length=n), submit=plain("Go")), 3000,
                              "must be between 0 and 3000", "/view/blocks/0/element/min_length"),
}  # fmt: skip


@pytest.mark.parametrize("rule", VIEW_LIMITS)
def test_modal_limits(rule: str) -> None:
    make, limit, reason, pointer = VIEW_LIMITS[rule]
    assert view_problems(make(limit), "modal") == []
    assert view_problems(make(limit + 1), "modal") == [error(reason, pointer)]


def test_home_tab_takes_100_blocks() -> None:
    home = lambda n: {"type": "home", "blocks": [{"type": "divider"}] * n}  # noqa: E731
    assert view_problems(home(100), "home") == []
    assert view_problems(home(101), "home") == [error("no more than 100 items allowed", "/view/blocks")]


# (what the rule is about, a payload Slack takes, one it refuses, the problems it answers)
MESSAGE_RULES: list[tuple[str, list[Block], list[Block], list[str]]] = [
    ("action_id unique within its block", [actions(button(action_id="a")), actions(button(action_id="a"))],
     [section(), actions(button(action_id="a"), button(action_id="a"))],
     [error("duplicate action_id", "/blocks/1/elements/1/action_id")]),
    ("block_id unique in the message", [section(block_id="a"), section(block_id="b")],
     [section(block_id="a"), section(block_id="a")], [error("duplicate block_id", "/blocks/1/block_id")]),
    ("actions: at least one element", [actions(button())], [actions()],
     [error("must provide at least 1 item", "/blocks/0/elements")]),
    ("actions: interactive elements only", [actions(button(), select(options=[option()]))],
     [actions({"type": "plain_text_input"})], [error("unsupported type: plain_text_input", "/blocks/0/elements/0/type")]),
    ("actions: not text", [actions(button())], [actions(mrkdwn("x"))],
     [error("unsupported type: mrkdwn", "/blocks/0/elements/0/type")]),
    ("context: images and text only", [{"type": "context", "elements": [plain("x"),
                                        {"type": "image", "image_url": "https://x.example/i.png", "alt_text": "i"}]}],
     [{"type": "context", "elements": [button()]}], [error("unsupported type: button", "/blocks/0/elements/0/type")]),
    ("context: elements required", [{"type": "context", "elements": [mrkdwn("x")]}], [{"type": "context"}],
     [error("missing required field: elements", "/blocks/0")]),
    ("section: text or fields", [{"type": "section", "fields": [mrkdwn("f")]}], [{"type": "section"}],
     [error("must define either `text` or `fields`", "/blocks/0")]),
    ("section: one accessory", [section(accessory=button())], [section(accessory=[button(), button("b", "b")])],
     [error("must provide an object", "/blocks/0/accessory")]),
    ("section: accessory an element that fits", [section(accessory=select(options=[option()]))],
     [section(accessory={"type": "plain_text_input"})],
     [error("unsupported type: plain_text_input", "/blocks/0/accessory/type")]),
    ("header: text required", [{"type": "header", "text": plain("h")}], [{"type": "header"}],
     [error("missing required field: text", "/blocks/0")]),
    ("header: plain_text only", [{"type": "header", "text": plain("h")}], [{"type": "header", "text": mrkdwn("*h*")}],
     [error("must be a valid enum value", "/blocks/0/text/type")]),
    ("button: plain_text only", [actions(button())], [actions({**button(), "text": mrkdwn("*Go*")})],
     [error("must be a valid enum value", "/blocks/0/elements/0/text/type")]),
    ("button: text required", [actions(button())], [actions({"type": "button", "action_id": "go"})],
     [error("missing required field: text", "/blocks/0/elements/0")]),
    ("button: style primary or danger", [actions(button(style="danger"))], [actions(button(style="secondary"))],
     [error("must be a valid enum value", "/blocks/0/elements/0/style")]),
    ("confirm: all four texts", [actions(button(confirm=confirm()))],
     [actions(button(confirm={"title": plain("Sure?")}))],
     [error(f"missing required field: {key}", "/blocks/0/elements/0/confirm") for key in ("text", "confirm", "deny")]),
    ("confirm: style", [actions(button(confirm={**confirm(), "style": "danger"}))],
     [actions(button(confirm={**confirm(), "style": "red"}))],
     [error("must be a valid enum value", "/blocks/0/elements/0/confirm/style")]),
    ("select: options or option_groups", [actions(select(options=[option()]))], [actions(select())],
     [error("must define either `options` or `option_groups`", "/blocks/0/elements/0")]),
    ("select: not both", [actions(select(option_groups=[{"label": plain("G"), "options": [option()]}]))],
     [actions(select(options=[option()], option_groups=[{"label": plain("G"), "options": [option()]}]))],
     [error("must define either `options` or `option_groups`", "/blocks/0/elements/0")]),
    ("select: plain_text options", [actions({"type": "radio_buttons", "options": [{"text": mrkdwn("*a*"), "value": "a"}]})],
     [actions(select(options=[{"text": mrkdwn("*a*"), "value": "a"}]))],
     [error("must be a valid enum value", "/blocks/0/elements/0/options/0/text/type")]),
    ("option: url only in overflow", [actions({"type": "overflow", "options": [option(url="https://x.example")]})],
     [actions(select(options=[option(url="https://x.example")]))],
     [error("invalid additional property: url", "/blocks/0/elements/0/options/0")]),
    ("option: text and value required", [actions(select(options=[option()]))],
     [actions(select(options=[{"text": plain("a")}]))],
     [error("missing required field: value", "/blocks/0/elements/0/options/0")]),
    ("overflow: at least one option", [actions({"type": "overflow", "options": [option()]})],
     [actions({"type": "overflow", "options": []})], [error("must provide at least 1 item", "/blocks/0/elements/0/options")]),
    ("text: non-empty", [section("x")], [section("")], [error("must be more than 0 characters", "/blocks/0/text/text")]),
    ("text: type required", [section()], [{"type": "section", "text": {"text": "x"}}],
     [error("missing required field: type", "/blocks/0/text")]),
    ("text: plain_text or mrkdwn", [section()], [{"type": "section", "text": {"type": "markdown", "text": "x"}}],
     [error("must be a valid enum value", "/blocks/0/text/type")]),
    ("text: emoji only on plain_text", [{"type": "header", "text": {**plain("h"), "emoji": True}}],
     [{"type": "section", "text": {**mrkdwn("x"), "emoji": True}}],
     [error("invalid additional property: emoji", "/blocks/0/text")]),
    ("text: verbatim only on mrkdwn", [{"type": "section", "text": {**mrkdwn("x"), "verbatim": True}}],
     [{"type": "header", "text": {**plain("h"), "verbatim": True}}],
     [error("invalid additional property: verbatim", "/blocks/0/text")]),
    ("unknown block type", [{"type": "divider"}], [{"type": "carousel_of_doom"}],
     [error("unsupported type: carousel_of_doom", "/blocks/0/type")]),
    ("block type required", [{"type": "divider"}], [{"block_id": "x"}], [error("missing required field: type", "/blocks/0")]),
    ("unknown element type", [actions(button())], [actions({"type": "slider"})],
     [error("unsupported type: slider", "/blocks/0/elements/0/type")]),
    ("unknown field", [section()], [section(color="#f00")], [error("invalid additional property: color", "/blocks/0")]),
    ("blocks are objects", [section()], ["Approve"], [error("must provide an object", "/blocks/0")]),  # type: ignore[list-item]
    ("image: a source", [{"type": "image", "image_url": "https://x.example/a.png", "alt_text": "a"}],
     [{"type": "image", "alt_text": "a"}], [error("must define either `image_url` or `slack_file`", "/blocks/0")]),
    ("datepicker: YYYY-MM-DD", [actions({"type": "datepicker", "initial_date": "2024-02-29"})],
     [actions({"type": "datepicker", "initial_date": "29/02/2024"})],
     [error("must match the expected format", "/blocks/0/elements/0/initial_date")]),
    ("modal-only elements", [{"type": "input", "label": plain("Email"), "element": {"type": "plain_text_input"}}],
     [{"type": "input", "label": plain("Email"), "element": {"type": "email_text_input"}}],
     [error("unsupported type: email_text_input", "/blocks/0/element/type")]),
]  # fmt: skip


@pytest.mark.parametrize("rule", [rule[0] for rule in MESSAGE_RULES])
def test_message_rules(rule: str) -> None:
    _, passes, fails, problems = next(r for r in MESSAGE_RULES if r[0] == rule)
    assert message_problems(passes) == []
    assert message_problems(fails) == problems


VIEW_RULES: list[tuple[str, Block, Block, list[str]]] = [
    ("modal: title required", modal(), {"type": "modal", "blocks": [section()]},
     [error("missing required field: title", "/view")]),
    ("modal: title plain_text", modal(), modal(title=mrkdwn("*D*")), [error("must be a valid enum value", "/view/title/type")]),
    ("modal: type modal", modal(), {**modal(), "type": "home"}, [error("must be a valid enum value", "/view/type")]),
    ("modal: submit with inputs", modal(text_input(), submit=plain("Declare")), modal(text_input()),
     [error("missing required field: submit", "/view")]),
    ("input: element required", modal(text_input(), submit=plain("Go")),
     modal({"type": "input", "label": plain("Why?")}, submit=plain("Go")),
     [error("missing required field: element", "/view/blocks/0")]),
    ("input: an input element", modal(text_input(), submit=plain("Go")),
     modal({**text_input(), "element": button()}, submit=plain("Go")),
     [error("unsupported type: button", "/view/blocks/0/element/type")]),
    ("input: label plain_text", modal(text_input(), submit=plain("Go")),
     modal({**text_input(), "label": mrkdwn("*Why?*")}, submit=plain("Go")),
     [error("must be a valid enum value", "/view/blocks/0/label/type")]),
    ("modal: email input", modal({**text_input(), "element": {"type": "email_text_input"}}, submit=plain("Go")),
     modal({**text_input(), "element": {"type": "slider"}}, submit=plain("Go")),
     [error("unsupported type: slider", "/view/blocks/0/element/type")]),
    ("block_id unique in the view", modal(section(block_id="a"), section(block_id="b")),
     modal(section(block_id="a"), section(block_id="a")), [error("duplicate block_id", "/view/blocks/1/block_id")]),
    ("file blocks are for messages", modal(section()), modal({"type": "file", "external_id": "f", "source": "remote"}),
     [error("unsupported type: file", "/view/blocks/0/type")]),
    ("the view is an object", modal(), "{not json", [error("must provide an object", "/view")]),  # type: ignore[list-item]
]  # fmt: skip


@pytest.mark.parametrize("rule", [rule[0] for rule in VIEW_RULES])
def test_modal_rules(rule: str) -> None:
    _, passes, fails, problems = next(r for r in VIEW_RULES if r[0] == rule)
    assert view_problems(passes, "modal") == []
    assert view_problems(fails, "modal") == problems


def test_home_tab_has_no_title_submit_or_close() -> None:
    home = {"type": "home", "blocks": [section()], "callback_id": "home"}
    assert view_problems(home, "home") == []
    assert view_problems({**home, "title": plain("Home")}, "home") == [
        error("invalid additional property: title", "/view")
    ]
    assert view_problems({**home, "type": "modal"}, "home") == [
        error("must be a valid enum value", "/view/type")
    ]


def test_blocks_inside_attachments() -> None:
    within = [
        {"color": "#e01e5a", "blocks": [section("*SEV1*")]},
        {"fallback": "legacy", "text": "no blocks"},
    ]
    assert attachment_problems(within) == []
    past = [{"color": "#e01e5a", "blocks": [section("x" * 3001)]}]
    assert attachment_problems(past) == [error(too_long(3000), "/attachments/0/blocks/0/text/text")]


# Real payloads: examples from Slack's Block Kit reference (docs.slack.dev) and blocks as Slack returns them.
SLACK_DOCS_MESSAGE = [
    {"type": "header", "text": {"type": "plain_text", "text": "A Heartfelt Header"}},
    {"type": "actions", "block_id": "actions1", "elements": [
        {"type": "static_select", "placeholder": {"type": "plain_text", "text": "Which witch is the witchiest witch?"},
         "action_id": "select_2", "options": [
             {"text": {"type": "plain_text", "text": "Matilda"}, "value": "matilda"},
             {"text": {"type": "plain_text", "text": "Glinda"}, "value": "glinda"},
             {"text": {"type": "plain_text", "text": "Granny Weatherwax"}, "value": "grannyWeatherwax"},
             {"text": {"type": "plain_text", "text": "Hermione"}, "value": "hermione"}]},
        {"type": "button", "text": {"type": "plain_text", "text": "Cancel"}, "value": "cancel", "action_id": "button_1"},
    ]},
    {"type": "context", "elements": [
        {"type": "image", "image_url": "https://image.freepik.com/free-photo/red-drawing-pin_1156-445.jpg", "alt_text": "images"},
        {"type": "mrkdwn", "text": "Location: **Dogpatch**"}]},
    {"type": "section", "block_id": "section 890", "text": {"type": "mrkdwn", "text": "This is a section block with an overflow menu."},
     "accessory": {"type": "overflow", "options": [
         {"text": {"type": "plain_text", "text": "*this is plain_text text*"}, "value": "value-0"},
         {"text": {"type": "plain_text", "text": "*this is plain_text text*"}, "value": "value-1"}],
      "action_id": "overflow"}},
    {"type": "section", "text": {"type": "mrkdwn", "text": ":mag: Search results for *Cata*"},
     "accessory": {"type": "static_select", "placeholder": {"type": "plain_text", "emoji": True, "text": "Manage"},
                   "option_groups": [{"label": {"type": "plain_text", "text": "Group 1"}, "options": [
                       {"text": {"type": "plain_text", "text": "*this is plain_text text*"}, "value": "value-0"}]}]}},
    {"type": "section", "fields": [{"type": "mrkdwn", "text": "*Type:*\nPaid Time Off"},
                                   {"type": "mrkdwn", "text": "*Created by:*\n<example.com|Fred Enriquez>"}]},
    {"type": "divider"},
    {"type": "rich_text", "block_id": "Sesm", "elements": [
        {"type": "rich_text_section", "elements": [{"type": "user", "user_id": "U111"}]}]},
    # as Slack returned it in a block_actions payload (slack-payloads/block_actions_bolt_fixture.json)
    {"type": "section", "block_id": "8KR", "text": {"type": "mrkdwn", "text": "This is a section block with a button.", "verbatim": False},
     "accessory": {"type": "button", "action_id": "button", "text": {"type": "plain_text", "text": "Click Me"}, "value": "clicked"}},
]  # fmt: skip
SLACK_DOCS_MODAL = {  # the views.open reference's modal, as sent
    "type": "modal", "title": {"type": "plain_text", "text": "Quite a plain modal"},
    "submit": {"type": "plain_text", "text": "Create"},
    "blocks": [{"type": "input", "block_id": "a_block_id", "optional": False,
                "label": {"type": "plain_text", "text": "A simple label", "emoji": True},
                "element": {"type": "plain_text_input", "action_id": "an_action_id"}}],
    "private_metadata": "Shh it is a secret", "callback_id": "identify_your_modals",
}  # fmt: skip


def test_real_payloads_pass() -> None:
    assert message_problems(SLACK_DOCS_MESSAGE) == []
    assert view_problems(SLACK_DOCS_MODAL, "modal") == []
    assert view_problems({"type": "home", "blocks": SLACK_DOCS_MESSAGE[:7]}, "home") == []


@pytest.fixture
def web() -> Iterator[tuple[FakeSlackApi, WebClient]]:
    with FakeSlackApi() as slack:
        yield slack, WebClient(token=TOKEN, base_url=slack.api_url)


def test_through_the_real_client(web: tuple[FakeSlackApi, WebClient]) -> None:
    slack, client = web
    client.chat_postMessage(channel=CHANNEL_ID, text="witches", blocks=SLACK_DOCS_MESSAGE)
    [posted] = slack.messages(CHANNEL_ID)
    assert posted.blocks[1]["elements"][0]["action_id"] == "select_2" and posted.blocks[0]["block_id"]
    for blocks, problem in [
        (MESSAGE_LIMITS["button text"][0](76), error(too_long(75), "/blocks/0/elements/0/text/text")),
        (MESSAGE_LIMITS["blocks per message"][0](51), error("no more than 50 items allowed", "/blocks")),
        (
            [section(), actions(button(), button())],
            error("duplicate action_id", "/blocks/1/elements/1/action_id"),
        ),
    ]:
        with pytest.raises(SlackApiError) as failure:
            client.chat_postMessage(channel=CHANNEL_ID, text="x", blocks=blocks)
        assert failure.value.response["error"] == "invalid_blocks"
        assert failure.value.response["response_metadata"]["messages"] == [problem]
    with pytest.raises(SlackApiError) as failure:
        client.chat_update(
            channel=CHANNEL_ID, ts=posted.ts, text="x", blocks=[{"type": "header", "text": mrkdwn("h")}]
        )
    assert failure.value.response["error"] == "invalid_blocks"
    opened = client.views_open(trigger_id=slack.trigger_id("U0ALICE"), view=SLACK_DOCS_MODAL)["view"]
    assert opened["blocks"][0]["element"]["action_id"] == "an_action_id"
    with pytest.raises(SlackApiError) as failure:
        client.views_update(view_id=opened["id"], view={**SLACK_DOCS_MODAL, "submit": None})
    assert failure.value.response["error"] == "invalid_arguments"
    assert failure.value.response["response_metadata"]["messages"] == [
        error("missing required field: submit", "/view")
    ]


def test_message_text_and_emptiness(web: tuple[FakeSlackApi, WebClient]) -> None:
    slack, client = web
    client.chat_postMessage(channel=CHANNEL_ID, text="x" * 40_000)  # chat.postMessage: 40,000 characters
    with pytest.raises(SlackApiError) as failure:
        client.chat_postMessage(channel=CHANNEL_ID, text="x" * 40_001)
    assert failure.value.response["error"] == "msg_too_long"
    with pytest.raises(SlackApiError) as failure:
        client.api_call("chat.postMessage", json={"channel": CHANNEL_ID, "text": "", "blocks": []})
    assert failure.value.response["error"] == "no_text"
    client.chat_postMessage(
        channel=CHANNEL_ID, attachments=[{"fallback": "x", "blocks": [section("only here")]}]
    )
    assert slack.messages(CHANNEL_ID)[-1].attachments[0]["blocks"][0]["block_id"]  # Slack fills ids in too
    with pytest.raises(SlackApiError) as failure:
        client.chat_postMessage(channel=CHANNEL_ID, text="x", attachments=["not an attachment"])
    assert failure.value.response["error"] == "invalid_attachments"
    assert failure.value.response["response_metadata"]["messages"] == [
        error("must provide an object", "/attachments/0")
    ]
