"""Buttons the incident flows offer: what kind, what a person reads, and the opaque id of the state they stand for."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal


class OfferKind(StrEnum):
    RUN_PLAYBOOK = "run_playbook"  # a runner-up or an abstention candidate: run this playbook instead
    SET_SEVERITY = "set_severity"
    REQUEST_ACTION = "request_action"  # a remediation: a request that a second person approves
    DIAGNOSE_SERVICE = "diagnose_service"  # the service a symptom with no service named is about
    APPROVE_ACTION = "approve_action"  # a pending fix request: a second person runs it
    DENY_ACTION = "deny_action"
    ACKNOWLEDGE = "acknowledge"  # the incident's own controls, on its channel message
    MITIGATE = "mitigate"
    RESOLVE = "resolve"
    REOPEN = "reopen"


@dataclass(frozen=True)
class Offer:
    kind: OfferKind
    label: str
    state: str
    style: Literal["primary", "danger"] | None = None
