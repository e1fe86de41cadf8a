"""manifest.yaml and the app agree: every slash command and bot event Slack will send has a listener."""

from __future__ import annotations

import time

import yaml
from conftest import ROOT
from slack_requests import event_callback, signed, signed_json, slash_command
from slack_workspace import Workspace

MANIFEST = yaml.safe_load((ROOT / "manifest.yaml").read_text())
# Slack's subscription names -> the event type the callbacks carry.
EVENT_TYPES = {"message.channels": "message", "message.groups": "message", "app_mention": "app_mention"}


def test_the_manifest_has_what_an_import_needs() -> None:
    assert MANIFEST["display_information"]["name"]
    assert MANIFEST["features"]["bot_user"]["display_name"] == "chatops"
    (command,) = MANIFEST["features"]["slash_commands"]
    assert command["command"] == "/diagnose" and command["usage_hint"]
    scopes = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "app_mentions:read", "channels:history", "files:write"} <= scopes
    settings = MANIFEST["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    urls = {
        command["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    }
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")  # the route `chatops serve` answers


def test_every_manifest_command_and_event_reaches_a_listener(workspace: Workspace) -> None:
    for command in MANIFEST["features"]["slash_commands"]:
        body = slash_command("").replace("%2Fdiagnose", command["command"].replace("/", "%2F"))
        assert workspace.app.dispatch(signed(body)).status == 200, command["command"]
    for index, subscription in enumerate(MANIFEST["settings"]["event_subscriptions"]["bot_events"]):
        kind = EVENT_TYPES[subscription]
        event = {
            "type": kind,
            "channel": "C0INCIDENTS",
            "user": "U0BOB",
            "text": "hello",
            "ts": f"{time.time():.6f}",
        }
        response = workspace.app.dispatch(signed_json(event_callback(event, f"EvContract{index}")))
        assert response.status == 200, subscription  # Bolt answers 404 when no listener matches


def test_requests_nobody_listens_for_are_not_silently_accepted(workspace: Workspace) -> None:
    body = slash_command("x").replace("%2Fdiagnose", "%2Funknown")
    assert workspace.app.dispatch(signed(body)).status == 404
