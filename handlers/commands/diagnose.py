"""`/diagnose [service] <symptom>`: answered at once (the incident opening, a hint, or the form when given no
text); the work goes to the incident flows as a typed request."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack

from bot.incident.parse import Refusal, parse_diagnose
from bot.incident.requests import Asker, DiagnoseRequest
from handlers import messages
from handlers.deps import Deps
from handlers.routes import Route
from handlers.slack_view import clean
from handlers.views.diagnose_modal import open_modal


def refusal_text(refusal: Refusal, deps: Deps) -> str:
    if refusal.reason == "not_incident_channel":
        return messages.use_incident_channels(deps.config.slack.incident_channels)
    return messages.usage(sorted(deps.config.services))


def handle_diagnose_command(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    """Answer within Slack's 3 s; whatever takes longer is handed on."""
    asker = Asker(body["user_id"], body["channel_id"])
    parsed = parse_diagnose(body.get("text", ""), asker, deps.config, body.get("channel_name"))
    if isinstance(parsed, Refusal):
        if parsed.reason == "empty" and body.get("trigger_id"):
            ack()
            deps.soon.submit(open_modal, deps, body["trigger_id"], asker)
        else:
            ack(clean(refusal_text(parsed, deps)))
        return
    if isinstance(parsed, DiagnoseRequest):
        ack(messages.opening(parsed.service))
    else:
        ack()  # the likeliest services follow in a moment, as buttons
    deps.later(parsed)


def routes(deps: Deps) -> list[Route]:
    def on_diagnose(ack: Ack, body: dict[str, Any]) -> None:
        handle_diagnose_command(ack, body, deps)

    return [Route("command", "/diagnose", on_diagnose)]
