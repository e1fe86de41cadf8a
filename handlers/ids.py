"""Slack ids we own: action_id, block_id and callback_id values, one enum each (never strings inline)."""

from __future__ import annotations

from enum import StrEnum


class ActionId(StrEnum):
    RUN_PLAYBOOK = "run_playbook"  # a runner-up or an abstention candidate: run this playbook instead
    SET_SEVERITY = "set_severity"
    REQUEST_ACTION = "request_action"  # a remediation: records a request that a second person approves


class BlockId(StrEnum):
    HEADER = "incident_header"
    MATCH = "incident_match"
    ALTERNATIVES = "incident_alternatives"
    CHECKLIST = "incident_checklist"
    VERDICT = "incident_verdict"
    SEVERITY = "incident_severity"
    REMEDIATIONS = "incident_remediations"
    MANUAL = "incident_manual"
