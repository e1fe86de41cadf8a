"""The message shortcut "Diagnose this": any message (an alert bot's post, a customer report) becomes the symptom
of a new incident, whose thread links back to it. The service comes from the text or the channel; when
neither names one, the form opens with the message filled in."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack

from bot.incident.parse import channel_service, incident_channel_for, is_incident_channel
from bot.incident.requests import Asker, DiagnoseRequest
from bot.redaction import redact
from handlers.deps import Deps
from handlers.ids import CallbackId
from handlers.payloads import to_symptom
from handlers.routes import Route
from handlers.views.diagnose_modal import open_modal

MAX_SYMPTOM = 3000  # what the form's text input takes; the matcher reads the start and the error lines anyway


def handle_diagnose_message_shortcut(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    ack()
    config = deps.config
    channel, message = body.get("channel") or {}, body.get("message") or {}
    symptom = redact(to_symptom(message))[:MAX_SYMPTOM]
    service = config.find_service_in(symptom) or channel_service(
        config, channel.get("id", ""), channel.get("name")
    )
    here = is_incident_channel(config, channel.get("id", ""), channel.get("name"))
    target = channel["id"] if here else incident_channel_for(config, service)
    asker = Asker(body["user"]["id"], target)
    source = (
        (str(channel.get("id")), str(message.get("ts"))) if channel.get("id") and message.get("ts") else None
    )
    if service is not None and symptom:
        deps.later(DiagnoseRequest(asker, service, symptom, source=source))
    else:
        deps.soon.submit(open_modal, deps, body["trigger_id"], asker, symptom, service, source)


def routes(deps: Deps) -> list[Route]:
    def on_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        handle_diagnose_message_shortcut(ack, body, deps)

    return [Route("shortcut", CallbackId.DIAGNOSE_MESSAGE.value, on_shortcut)]
