"""The incident buttons. A button's value is an opaque id of state the flows keep; we trust nothing else in
the payload but the clicking user, and a stale or forged id changes nothing. Buttons of a kind are numbered
(`set_severity:2`), so each kind is one listener on a pattern."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack

from bot.incident.requests import Asker, ButtonClick
from handlers.deps import Deps
from handlers.ids import BUTTONS
from handlers.payloads import channel_of, user_of
from handlers.routes import Route


def to_click(body: dict[str, Any]) -> ButtonClick:
    """A button's value, or the chosen option's of a select (both are opaque state ids)."""
    container = body.get("container") or {}
    message = {} if container.get("is_ephemeral") else dict(body.get("message") or {})
    action = body["actions"][0]
    value = action.get("value") or (action.get("selected_option") or {}).get("value") or ""
    return ButtonClick(Asker(user_of(body), channel_of(body)), str(value), container.get("message_ts"), message,
                       body.get("response_url"))  # fmt: skip


def routes(deps: Deps) -> list[Route]:
    def on_click(ack: Ack, body: dict[str, Any]) -> None:
        ack()  # at once; what the click does happens in the background
        deps.later(to_click(body))

    return [Route("action", kind.pattern(), on_click) for kind in BUTTONS]
