"""`POST /alertmanager`: Alertmanager's webhook (payload version 4), beside Slack's /slack/events.

Alertmanager signs nothing, so the endpoint wants the token it is configured to send (`http_config`'s
`authorization` as a Bearer token, or `basic_auth` with the token as password); anything else is 401. A body
that is not a webhook payload is 400 and changes nothing. A good one is kept in the store first and then
answered 200 (Alertmanager retries only 5xx, so an answer means it is safe), and handled in the background.
"""

from __future__ import annotations

import base64
import hmac
import json
from collections.abc import Callable, Iterable
from typing import Any

from bot.alerts import AlertPayloadError, parse_webhook
from bot.incident.requests import AlertsReceived
from handlers.deps import Deps

StartResponse = Callable[..., Any]
MAX_BODY = 4 * 1024 * 1024  # a group of many alerts is still far below this


def presented_token(header: str) -> str | None:
    """The token in an Authorization header: Bearer's, or basic auth's password."""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip()).decode().partition(":")[2]
        except ValueError:
            return None
    return None


def alertmanager(environ: dict[str, Any], start_response: StartResponse, deps: Deps) -> Iterable[bytes]:
    if environ.get("REQUEST_METHOD") != "POST":
        return _answer(start_response, "405 Method Not Allowed", {"error": "POST the webhook here"})
    expected = deps.settings.secrets.alertmanager_token
    given = presented_token(environ.get("HTTP_AUTHORIZATION", ""))
    if expected is None or given is None or not hmac.compare_digest(given, expected.get_secret_value()):
        return _answer(
            start_response,
            "401 Unauthorized",
            {"error": "a valid token is needed (CHATOPS_ALERTMANAGER_TOKEN)"},
        )
    size = int(environ.get("CONTENT_LENGTH") or 0)
    if size > MAX_BODY:
        return _answer(start_response, "413 Payload Too Large", {"error": f"more than {MAX_BODY} bytes"})
    body = environ["wsgi.input"].read(size) if size else b""
    try:
        parse_webhook(body)
    except AlertPayloadError as error:
        return _answer(start_response, "400 Bad Request", {"error": str(error)})
    intake_id = deps.store.keep_alerts(body.decode("utf-8", "replace"))
    deps.later(AlertsReceived(intake_id))
    return _answer(start_response, "200 OK", {"status": "accepted", "intake": intake_id})


def _answer(start_response: StartResponse, status: str, payload: dict[str, Any]) -> list[bytes]:
    data = json.dumps(payload).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
