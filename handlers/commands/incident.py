"""`/incident <subcommand>`: declare, SEV, acknowledge, commander, note, mitigated, resolve, reopen, status,
summary. Answered at once (what is being done, or a usage hint); the work goes to the flows as a request."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack

from bot.incident.commands import CommandRefusal, parse_incident
from bot.incident.requests import Asker
from handlers import messages
from handlers.deps import Deps
from handlers.routes import Route
from handlers.slack_view import clean

REFUSALS = {
    "not_incident_channel": "`/incident declare` opens incidents in the incident channels: run it there.",
    "needs_service": "Which service is it about? `/incident declare <service> <title> [sev N]`.",
    "bad_sev": "Which SEV? `/incident sev 1` (1 is the most severe, 4 the least).",
    "bad_user": "Who? `/incident commander @someone`.",
    "no_note": "What should the note say? `/incident note <text>` (it goes to the incident's timeline and thread).",
}
DOING = {"declare": "Declaring an incident…", "sev": "Setting the severity…", "ack": "Acknowledging…",
         "commander": "Naming the commander…", "note": "Noted.", "mitigated": "Marking it mitigated…",
         "resolve": "Resolving…", "reopen": "Reopening…", "status": "", "summary": "Writing the summary…"}  # fmt: skip


def handle_incident_command(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    asker = Asker(body["user_id"], body["channel_id"])
    parsed = parse_incident(body.get("text", ""), asker, deps.config, body.get("channel_name"))
    if isinstance(parsed, CommandRefusal):
        ack(clean(REFUSALS.get(parsed.reason, messages.INCIDENT_USAGE)))
        return
    ack(DOING[parsed.verb])
    deps.later(parsed)


def routes(deps: Deps) -> list[Route]:
    def on_incident(ack: Ack, body: dict[str, Any]) -> None:
        handle_incident_command(ack, body, deps)

    return [Route("command", "/incident", on_incident)]
