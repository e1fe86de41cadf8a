"""What the shell and the scenario tests send is what Slack sends: every field of the documented samples in
tests/fixtures/slack/ is in our payloads, nested objects included (enterprise-grid fields aside: a plain
workspace has none), and the bodies are encoded as Slack encodes them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from handlers.shell.payloads import block_action, event_callback, signed, slash_command

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"
GRID_ONLY = {"enterprise_id", "enterprise_name", "context_enterprise_id", "is_enterprise_install"}
# Fields Slack adds to a person's message that the bot never reads (profile, shared-channel teams).
PROFILE = {"team", "user_team", "source_team", "user_profile", "parent_user_id", "blocks", "client_msg_id"}


def sample(name: str) -> Any:
    data = json.loads((SAMPLES / name).read_text())
    data.pop("_source", None)
    return data


def missing(expected: Any, ours: Any, path: str = "", ignore: frozenset[str] = frozenset()) -> list[str]:
    """The fields of `expected` (recursively) that `ours` lacks or holds with another JSON type."""
    if isinstance(expected, dict):
        if not isinstance(ours, dict):
            return [path or "."]
        return [
            problem
            for key, value in expected.items()
            if key not in GRID_ONLY | ignore
            for problem in (
                missing(value, ours[key], f"{path}.{key}", ignore) if key in ours else [f"{path}.{key}"]
            )
        ]
    if isinstance(expected, list) and expected:
        return (
            missing(expected[0], ours[0], f"{path}[0]", ignore) if isinstance(ours, list) and ours else [path]
        )
    same = type(expected) is type(ours) or expected is None or ours is None
    return [] if same else [f"{path}: {type(ours).__name__} where Slack sends {type(expected).__name__}"]


def test_a_slash_command_has_every_field_slack_sends() -> None:
    line = next(
        row for row in (SAMPLES / "slash_command.txt").read_text().splitlines() if not row.startswith("#")
    )
    ours = dict(parse_qsl(slash_command("api-gateway 504s")))
    assert missing(dict(parse_qsl(line)), ours) == []
    assert ours["command"] == "/diagnose" and ours["text"] == "api-gateway 504s"


def test_a_button_click_has_every_field_slack_sends() -> None:
    body = dict(parse_qsl(block_action("U0BOB", "C0INCIDENTS", "1.000001", "set_severity", "opaque-id")))
    assert list(body) == ["payload"], "form-encoded with one JSON field, as Slack posts it"
    ours = json.loads(body["payload"])
    assert missing(sample("block_actions.json"), ours) == []
    assert ours["actions"][0]["value"] == "opaque-id" and ours["user"]["id"] == "U0BOB"


def test_events_have_every_field_slack_sends() -> None:
    reply = {"type": "message", "channel": "C0INCIDENTS", "channel_type": "channel", "user": "U0BOB",
             "text": "still failing", "ts": "2.000002", "thread_ts": "1.000001"}  # fmt: skip
    assert (
        missing(sample("message_thread_reply.json"), json.loads(event_callback(reply)), ignore=PROFILE) == []
    )
    mention = {**reply, "type": "app_mention", "text": "<@U0CHATOPS> status"}
    assert missing(sample("app_mention.json"), json.loads(event_callback(mention))) == []
    assert missing(sample("event_callback.json"), json.loads(event_callback(reply))) == []


def test_requests_are_signed_and_typed_as_slack_sends_them() -> None:
    form, events = signed(slash_command("x")), signed(event_callback({"type": "app_mention"}), retry=1)
    assert form.headers["content-type"] == ["application/x-www-form-urlencoded"]
    assert events.headers["content-type"] == ["application/json"]
    assert events.headers["x-slack-retry-num"] == ["1"] and form.headers.get("x-slack-retry-num") is None
    assert form.headers["x-slack-signature"][0].startswith("v0=")
