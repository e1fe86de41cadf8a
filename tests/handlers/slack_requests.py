"""Real-shaped Slack requests, signed with the signing secret as Slack signs them."""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

from slack_bolt.request import BoltRequest
from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "sandbox-signing-secret"
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "slack"


def slash_command(text: str, channel_id: str = "C0INCIDENTS", channel_name: str = "incidents",
                  user_id: str = "U0ALICE") -> str:  # fmt: skip
    """The body Slack sends for /diagnose, from the documented sample with our values."""
    lines = (FIXTURES / "slash_command.txt").read_text().splitlines()
    line = next(row for row in lines if not row.startswith("#"))
    fields = dict(parse_qsl(line))
    fields.update(command="/diagnose", text=text, channel_id=channel_id, channel_name=channel_name,
                  user_id=user_id, team_id="T0SANDBOX")  # fmt: skip
    return urlencode(fields)


def signed(body: str, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> BoltRequest:
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(timestamp), body=body)
    headers = {
        "content-type": ["application/x-www-form-urlencoded"],
        "x-slack-signature": [signature],
        "x-slack-request-timestamp": [str(timestamp)],
    }
    return BoltRequest(body=body, headers=headers)


def block_action(user_id: str, channel_id: str, message_ts: str, action_id: str, value: str) -> str:
    """The body Slack sends when a button is clicked, from Bolt's own fixture with our values."""
    payload = json.loads((FIXTURES / "block_actions.json").read_text())
    payload.pop("_source", None)
    payload["user"] = {
        "id": user_id,
        "username": user_id.lower(),
        "name": user_id.lower(),
        "team_id": "T0SANDBOX",
    }
    payload["container"] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": False,
    }
    payload["channel"] = {"id": channel_id, "name": "incidents"}
    payload["actions"][0].update(action_id=action_id, value=value, block_id="b")
    return urlencode({"payload": json.dumps(payload)})


def event_callback(event: dict[str, object], event_id: str) -> str:
    """An Events API delivery (JSON), from the documented envelope with our event."""
    envelope = json.loads((FIXTURES / "event_callback.json").read_text())
    envelope.pop("_source", None)
    envelope.update(team_id="T0SANDBOX", api_app_id="A0CHATOPS", event=event, event_id=event_id)
    envelope["authorizations"][0].update(team_id="T0SANDBOX", user_id="U0CHATOPS", is_bot=True)
    return json.dumps(envelope)


def signed_json(body: str, retry: int | None = None) -> BoltRequest:
    request = signed(body)
    request.headers["content-type"] = ["application/json"]
    if retry is not None:
        request.headers["x-slack-retry-num"] = [str(retry)]
        request.headers["x-slack-retry-reason"] = ["http_timeout"]
    return request
