"""manifest.yaml and the app agree: every command and event Slack will send has exactly one listener, every
listener is in the manifest, and the bot asks for exactly the scopes its calls and subscriptions need."""

from __future__ import annotations

import time
from collections import Counter

import yaml
from conftest import ROOT
from slack_workspace import Workspace, button, opened_incident

from handlers.app import routes
from handlers.ids import BUTTONS, CallbackId
from handlers.shell.payloads import signed, slash_command
from sandbox.slack_api import CHANNEL_ID

MANIFEST = yaml.safe_load((ROOT / "manifest.yaml").read_text())
SETTINGS = MANIFEST["settings"]
# Slack's subscription names -> the event type the callbacks carry, and the scope each needs.
EVENT_TYPES = {"message.channels": "message", "message.groups": "message", "app_mention": "app_mention",
               "app_home_opened": "app_home_opened"}  # fmt: skip
EVENT_SCOPES = {"message.channels": "channels:history", "message.groups": "groups:history",
                "app_mention": "app_mentions:read", "app_home_opened": None}  # fmt: skip
# Web API method -> the bot scope it needs (docs.slack.dev/reference/methods); None: no scope.
METHOD_SCOPES = {"auth.test": None, "chat.postMessage": "chat:write", "chat.update": "chat:write",
                 "chat.postEphemeral": "chat:write", "files.getUploadURLExternal": "files:write",
                 "files.completeUploadExternal": "files:write", "chat.getPermalink": None, "views.open": None,
                 "views.publish": None, "usergroups.users.list": "usergroups:read"}  # fmt: skip
# Scopes no single call shows: posting in a public channel the bot was not invited to.
POSTING_SCOPES = {"chat:write.public"}


def manifest_commands() -> set[str]:
    return {c["command"] for c in MANIFEST["features"]["slash_commands"]}


def manifest_shortcuts() -> set[str]:
    return {s["callback_id"] for s in MANIFEST["features"]["shortcuts"]}


def manifest_events() -> set[str]:
    return {EVENT_TYPES[s] for s in SETTINGS["event_subscriptions"]["bot_events"]}


def test_the_manifest_has_what_an_import_needs() -> None:
    assert MANIFEST["display_information"]["name"]
    assert MANIFEST["features"]["bot_user"]["display_name"] == "chatops"
    commands = MANIFEST["features"]["slash_commands"]
    assert [c["command"] for c in commands] == ["/diagnose", "/incident"] and all(
        c["usage_hint"] for c in commands
    )
    assert SETTINGS["interactivity"]["is_enabled"] is True
    assert SETTINGS["socket_mode_enabled"] is False  # the manifest's comment says how to switch
    urls = {
        *(c["url"] for c in commands),
        SETTINGS["event_subscriptions"]["request_url"],
        SETTINGS["interactivity"]["request_url"],
    }
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")  # the route `chatops serve` answers


def test_every_listener_is_in_the_manifest_and_every_manifest_entry_has_exactly_one(
    workspace: Workspace,
) -> None:
    listeners = Counter((r.kind, r.key) for r in routes(workspace.deps))
    assert all(n == 1 for n in listeners.values()), listeners
    assert {name for kind, name in listeners if kind == "command"} == manifest_commands()
    assert {name for kind, name in listeners if kind == "event"} == manifest_events()
    assert {name for kind, name in listeners if kind == "shortcut"} == manifest_shortcuts()
    assert {name for kind, name in listeners if kind == "view"} == {CallbackId.DIAGNOSE_MODAL.value}
    assert {name for kind, name in listeners if kind == "action"} == {a.pattern().pattern for a in BUTTONS}
    assert SETTINGS["interactivity"]["is_enabled"], "buttons need interactivity"


def test_every_manifest_command_and_event_reaches_a_listener(workspace: Workspace) -> None:
    for command in manifest_commands():
        body = slash_command("", command=command)
        assert workspace.send(signed(body)).status == 200, command
    for kind in manifest_events():
        event = {
            "type": kind,
            "channel": CHANNEL_ID,
            "user": "U0BOB",
            "text": "hello",
            "ts": f"{time.time():.6f}",
        }
        assert workspace.deliver(event).status == 200, kind  # Bolt answers 404 when no listener matches
    posted = workspace.say("an alert: api-gateway 504s", "U0BOB")
    for callback_id in manifest_shortcuts():
        assert workspace.shortcut(posted, callback_id=callback_id).status == 200, callback_id


def test_requests_nobody_listens_for_are_not_silently_accepted(workspace: Workspace) -> None:
    assert workspace.send(signed(slash_command("x", command="/unknown"))).status == 404


def test_the_bot_asks_for_exactly_the_scopes_it_uses(workspace: Workspace) -> None:
    _, thread = opened_incident(workspace)  # posts, updates the checklist, attaches evidence
    workspace.press(button(thread[3], "Roll back the recent deployment (breaking change)"), user="U0BOB")
    workspace.wait_idle()
    request = next(m for m in workspace.slack.thread(CHANNEL_ID, thread[0].ts) if "Fix request 1" in m.text)
    workspace.press(button(request, "Approve"))  # alice approves: her group membership is asked
    workspace.command("")  # the form
    workspace.deliver({"type": "app_home_opened", "user": "U0BOB", "channel": "D0BOB", "tab": "home",
                       "event_ts": f"{time.time():.6f}"})  # fmt: skip
    workspace.wait_idle()
    methods = {call.method for call in workspace.slack.calls()}
    assert methods <= METHOD_SCOPES.keys(), (
        f"add the scope of {methods - METHOD_SCOPES.keys()} here and to the manifest"
    )
    used = {METHOD_SCOPES[m] for m in methods} - {None}
    used |= {EVENT_SCOPES[s] for s in SETTINGS["event_subscriptions"]["bot_events"]} - {None}
    used |= {"commands"} | POSTING_SCOPES
    assert set(MANIFEST["oauth_config"]["scopes"]["bot"]) == used
