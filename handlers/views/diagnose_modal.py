"""The /diagnose form: opened by `/diagnose` with no text (or a shortcut on a message that names no service);
submitting it opens the incident exactly as the command does. A submission is checked like any input: a
service we do not know or an empty symptom is answered in the form, and nothing opens."""

from __future__ import annotations

import json
import logging
from typing import Any

from slack_bolt import Ack
from slack_sdk.errors import SlackApiError

from bot.incident.parse import is_incident_channel
from bot.incident.requests import Asker, DiagnoseRequest
from bot.severity import Sev
from handlers import blocks, messages
from handlers.deps import Deps
from handlers.ids import ActionId, BlockId, CallbackId
from handlers.routes import Route
from handlers.slack_view import clean

log = logging.getLogger("chatops")


def open_modal(
    deps: Deps,
    trigger_id: str,
    asker: Asker,
    symptom: str = "",
    service: str | None = None,
    source: tuple[str, str] | None = None,
) -> None:
    """views.open within the trigger's 3 s; if Slack refuses, the person still gets the usage hint."""
    metadata = json.dumps({"channel": asker.channel, "source": list(source) if source else None})
    view = blocks.diagnose_modal(sorted(deps.config.services), metadata, symptom, service)
    try:
        deps.client.views_open(trigger_id=trigger_id, view=clean(view))
    except SlackApiError as error:
        log.warning("views.open failed: %s", error.response.get("error"))
        deps.client.chat_postEphemeral(channel=asker.channel, user=asker.user,
                                       text=messages.usage(sorted(deps.config.services)))  # fmt: skip


def _selected(values: dict[str, Any], block: BlockId, action: ActionId) -> str | None:
    element = (values.get(block.value) or {}).get(action.value) or {}
    option = element.get("selected_option")
    return str(option["value"]) if option else (str(element["value"]) if element.get("value") else None)


def parse_submission(body: dict[str, Any], deps: Deps) -> DiagnoseRequest | dict[str, str]:
    """The request the form asks for, or the errors to show in it (by block id)."""
    view = body.get("view") or {}
    values = (view.get("state") or {}).get("values") or {}
    service = _selected(values, BlockId.MODAL_SERVICE, ActionId.MODAL_SERVICE)
    symptom = (_selected(values, BlockId.MODAL_SYMPTOM, ActionId.MODAL_SYMPTOM) or "").strip()
    severity = _selected(values, BlockId.MODAL_SEVERITY, ActionId.MODAL_SEVERITY)
    errors = {}
    if service not in deps.config.services:
        errors[BlockId.MODAL_SERVICE.value] = "Pick one of the services in the list."
    if not symptom:
        errors[BlockId.MODAL_SYMPTOM.value] = "Say what is wrong: an error message, an alert, what users see."
    if severity is not None and severity not in {s.value for s in Sev}:
        errors[BlockId.MODAL_SEVERITY.value] = "Pick a severity from the list, or none."
    try:
        metadata = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        metadata = {}
    channel = str(metadata.get("channel") or "")
    if not is_incident_channel(deps.config, channel, channel):
        channel = deps.config.slack.incident_channels[0]
    if errors:
        return errors
    assert service is not None
    source = metadata.get("source")
    return DiagnoseRequest(Asker(body["user"]["id"], channel), service, symptom,
                           Sev(severity) if severity else None,
                           (str(source[0]), str(source[1])) if isinstance(source, list) and len(source) == 2 else None)  # fmt: skip


def handle_diagnose_modal_view(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    parsed = parse_submission(body, deps)
    if isinstance(parsed, dict):
        ack(response_action="errors", errors=parsed)
        return
    ack()
    deps.later(parsed)


def routes(deps: Deps) -> list[Route]:
    def on_submit(ack: Ack, body: dict[str, Any]) -> None:
        handle_diagnose_modal_view(ack, body, deps)

    return [Route("view", CallbackId.DIAGNOSE_MODAL.value, on_submit)]
