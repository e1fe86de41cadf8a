"""Slack ids we own: action_id, block_id and callback_id values, one enum each (never strings inline)."""

from __future__ import annotations

import re
from enum import StrEnum

from bot.incident.view import OfferKind


class ActionId(StrEnum):
    # Buttons the incident flows offer (one per OfferKind); several in one block are numbered `kind:n`.
    RUN_PLAYBOOK = OfferKind.RUN_PLAYBOOK.value  # a runner-up or an abstention candidate
    SET_SEVERITY = OfferKind.SET_SEVERITY.value
    REQUEST_ACTION = OfferKind.REQUEST_ACTION.value  # a remediation: a request that a second person approves
    DIAGNOSE_SERVICE = OfferKind.DIAGNOSE_SERVICE.value  # the service of a symptom that named none
    APPROVE_ACTION = OfferKind.APPROVE_ACTION.value  # carries Slack's confirmation dialog
    DENY_ACTION = OfferKind.DENY_ACTION.value
    ACKNOWLEDGE = OfferKind.ACKNOWLEDGE.value  # the incident's own controls, on its channel message
    MITIGATE = OfferKind.MITIGATE.value
    RESOLVE = OfferKind.RESOLVE.value
    REOPEN = OfferKind.REOPEN.value
    # Inputs of the /diagnose modal (read from the view's state on submission, no listener of their own).
    MODAL_SERVICE = "diagnose_service_select"
    MODAL_SYMPTOM = "diagnose_symptom_input"
    MODAL_SEVERITY = "diagnose_severity_select"

    def numbered(self, n: int) -> str:
        return f"{self.value}:{n}"

    def pattern(self) -> re.Pattern[str]:
        """Matches this id and its numbered forms, for `app.action(...)`."""
        return re.compile(rf"^{re.escape(self.value)}(:\d+)?$")


BUTTONS = [ActionId.RUN_PLAYBOOK, ActionId.SET_SEVERITY, ActionId.REQUEST_ACTION, ActionId.DIAGNOSE_SERVICE,
           ActionId.APPROVE_ACTION, ActionId.DENY_ACTION, ActionId.ACKNOWLEDGE, ActionId.MITIGATE, ActionId.RESOLVE,
           ActionId.REOPEN]  # fmt: skip


class BlockId(StrEnum):
    HEADER = "incident_header"
    MATCH = "incident_match"
    ALTERNATIVES = "incident_alternatives"
    CHECKLIST = "incident_checklist"
    VERDICT = "incident_verdict"
    SEVERITY = "incident_severity"
    REMEDIATIONS = "incident_remediations"
    MANUAL = "incident_manual"
    REQUEST = "fix_request"
    CONTROLS = "incident_controls"
    SUMMARY = "incident_summary"
    REQUEST_BUTTONS = "fix_request_buttons"
    SERVICES = "diagnose_services"
    MODAL_SERVICE = "diagnose_service"
    MODAL_SYMPTOM = "diagnose_symptom"
    MODAL_SEVERITY = "diagnose_severity"


class CallbackId(StrEnum):
    DIAGNOSE_MODAL = "diagnose_modal"  # the form /diagnose opens when given no text
    DIAGNOSE_MESSAGE = "diagnose_message"  # the message shortcut "Diagnose this"
