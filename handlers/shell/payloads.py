"""What Slack sends us, built as Slack builds it and signed as Slack signs it: the shell types through these,
and the tests send them (tests/fixtures/slack/ holds the documented samples these are checked against)."""

from __future__ import annotations

import hashlib
import itertools
import json
import time
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

from sandbox.slack_api import CHANNEL_ID, CHANNEL_NAME, TEAM_DOMAIN
from sandbox.slack_render import APP_ID, BOT_USER_ID, TEAM_ID

SIGNING_SECRET = "sandbox-signing-secret"
_serial = itertools.count(1)


def _trigger() -> str:
    return f"{int(time.time())}.{next(_serial)}.sandboxtrigger"


def slash_command(text: str, channel_id: str = CHANNEL_ID, channel_name: str = CHANNEL_NAME,
                  user_id: str = "U0ALICE", command: str = "/diagnose", trigger_id: str | None = None,
                  response_url: str | None = None) -> str:  # fmt: skip
    """The form body of a slash command."""
    return urlencode({
        "token": "sandbox-verification-token", "team_id": TEAM_ID, "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id, "channel_name": channel_name, "user_id": user_id, "user_name": user_id.lower(),
        "command": command, "text": text, "api_app_id": APP_ID, "trigger_id": trigger_id or _trigger(),
        "response_url": response_url or f"https://hooks.slack.com/commands/{TEAM_ID}/{next(_serial)}/sandbox",
    })  # fmt: skip


def block_action(user_id: str, channel_id: str, message_ts: str, action_id: str, value: str | None,
                 block_id: str = "b", text: str = "", message: dict[str, Any] | None = None,
                 ephemeral: bool = False, trigger_id: str | None = None, response_url: str | None = None) -> str:  # fmt: skip
    """The form body of a button click in a message (`payload=<json>`); Slack includes the `message`."""
    team = {"id": TEAM_ID, "domain": TEAM_DOMAIN}
    payload = {
        "type": "block_actions", "api_app_id": APP_ID, "token": "sandbox-verification-token",
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID},
        "container": {"type": "message", "message_ts": message_ts, "channel_id": channel_id, "is_ephemeral": ephemeral},
        "trigger_id": trigger_id or _trigger(), "team": team, "channel": {"id": channel_id, "name": CHANNEL_NAME},
        "response_url": response_url or f"https://hooks.slack.com/actions/{TEAM_ID}/{next(_serial)}/sandbox",
        "actions": [{"action_id": action_id, "block_id": block_id, "value": value, "type": "button",
                     "text": {"type": "plain_text", "text": text or action_id, "emoji": True},
                     "action_ts": f"{time.time():.6f}"}],
    }  # fmt: skip
    if message is not None:
        payload["message"] = message
    return urlencode({"payload": json.dumps(payload)})


def event_callback(event: dict[str, Any], event_id: str | None = None) -> str:
    """The JSON body of an Events API delivery of `event` to our bot."""
    now = time.time()
    event = {"event_ts": f"{now:.6f}", **event}
    return json.dumps({
        "type": "event_callback", "token": "sandbox-verification-token", "team_id": TEAM_ID, "api_app_id": APP_ID,
        "event": event, "event_context": f"EC{next(_serial)}", "event_id": event_id or f"Ev{next(_serial):08d}",
        "event_time": int(now), "is_ext_shared_channel": False, "context_team_id": TEAM_ID,
        "context_enterprise_id": None,
        "authorizations": [{"enterprise_id": None, "team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True,
                            "is_enterprise_install": False}],
    })  # fmt: skip


def signed(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None,
           retry: int | None = None) -> BoltRequest:  # fmt: skip
    """The request as it reaches Bolt: signed, with the content type Slack uses for this body."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    kind = "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
    headers: dict[str, str | Sequence[str]] = {
        "content-type": [kind],
        "x-slack-signature": [str(signature)],
        "x-slack-request-timestamp": [str(timestamp)],
    }
    if retry is not None:  # Slack's redelivery of a request it thinks we missed
        headers |= {"x-slack-retry-num": [str(retry)], "x-slack-retry-reason": ["http_timeout"]}
    return BoltRequest(body=body, headers=headers)


def view_submission(user_id: str, view: dict[str, Any], values: dict[str, dict[str, Any]]) -> str:
    """The form body of a modal's submission (`payload=<json>`): the view as Slack keeps it, with its state."""
    submitted = {**view, "state": {"values": values}}
    payload = {
        "type": "view_submission", "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID},
        "api_app_id": APP_ID, "token": "sandbox-verification-token", "trigger_id": _trigger(),
        "view": submitted, "response_urls": [], "is_enterprise_install": False, "enterprise": None,
    }  # fmt: skip
    return urlencode({"payload": json.dumps(payload)})


def message_shortcut(user_id: str, callback_id: str, channel_id: str, message: dict[str, Any],
                     trigger_id: str | None = None, response_url: str | None = None) -> str:  # fmt: skip
    """The form body of a message shortcut (`message_action`) used on `message`."""
    payload = {
        "type": "message_action", "token": "sandbox-verification-token", "action_ts": f"{time.time():.6f}",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": {"id": user_id, "username": user_id.lower(), "name": user_id.lower(), "team_id": TEAM_ID},
        "channel": {"id": channel_id, "name": CHANNEL_NAME if channel_id == CHANNEL_ID else channel_id.lower()},
        "callback_id": callback_id, "trigger_id": trigger_id or _trigger(), "message_ts": message.get("ts"),
        "message": message,
        "response_url": response_url or f"https://hooks.slack.com/app/{TEAM_ID}/{next(_serial)}/sandbox",
    }  # fmt: skip
    return urlencode({"payload": json.dumps(payload)})


def input_state(view: dict[str, Any], fields: dict[str, str]) -> dict[str, dict[str, Any]]:
    """A modal's state as Slack sends it once a person filled `fields` in: each key names an input by its
    block_id or the start of its label (`service`, `symptom`); a select takes the option with that value."""
    values: dict[str, dict[str, Any]] = {}
    for block in view.get("blocks") or []:
        if block.get("type") != "input":
            continue
        label = str((block.get("label") or {}).get("text", "")).lower()
        wanted = next(
            (v for k, v in fields.items() if k in block["block_id"] or label.startswith(k.lower())), None
        )
        element = block["element"]
        state: dict[str, Any] = {"type": element["type"]}
        if element["type"] == "static_select":
            options = [o for o in element.get("options") or [] if o["value"] == wanted]
            state["selected_option"] = options[0] if options else None
        else:
            state["value"] = wanted
        values[block["block_id"]] = {element["action_id"]: state}
    return values


def alertmanager_webhook(labels: dict[str, str], annotations: dict[str, str], starts_at: str,
                         ends_at: str | None = None) -> dict[str, Any]:  # fmt: skip
    """What Alertmanager POSTs for one alert (webhook payload version 4); resolved when `ends_at` is given."""
    status = "resolved" if ends_at else "firing"
    grouped = {k: labels[k] for k in ("alertname", "service") if k in labels}
    return {
        "version": "4",
        "groupKey": "{}:{" + ", ".join(f'{k}="{v}"' for k, v in grouped.items()) + "}",
        "truncatedAlerts": 0, "status": status, "receiver": "chatops-bot",
        "groupLabels": grouped, "commonLabels": labels, "commonAnnotations": annotations,
        "externalURL": "http://alertmanager.sandbox:9093",
        "alerts": [{"status": status, "labels": labels, "annotations": annotations, "startsAt": starts_at,
                    "endsAt": ends_at or "0001-01-01T00:00:00Z",
                    "generatorURL": "http://prometheus.sandbox:9090/graph",
                    "fingerprint": hashlib.sha256(json.dumps(labels, sort_keys=True).encode()).hexdigest()[:16]}],
    }  # fmt: skip
