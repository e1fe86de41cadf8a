"""Incidents and their timelines: the records the store keeps, their ids, and what a timeline entry may say.

Pure domain: no SQL and no Slack. `bot.store` persists these; the Slack app and the CLI render them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import Enum, StrEnum
from typing import Any

from bot.redaction import redact
from bot.severity import Sev

ID_PREFIX = "INC"
_ID = re.compile(r"^INC-(\d{8})-(\d{4,})$")


class IncidentStatus(StrEnum):
    """investigating -> acknowledged -> mitigated -> resolved; a resolved incident can be reopened."""

    INVESTIGATING = "investigating"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"


class TimelineKind(StrEnum):
    """What a timeline entry records; the incident summary is written from these."""

    OPENED = "opened"
    MATCHED = "matched"
    FINDING = "finding"
    VERDICT = "verdict"
    SEVERITY = "severity"
    OFFER = "offer"
    ACTION_REQUESTED = "action_requested"
    ACTION_APPROVED = "action_approved"
    ACTION_DENIED = "action_denied"
    ACTION_RESULT = "action_result"
    PAGED = "paged"
    ESCALATED = "escalated"
    NOTE = "note"
    ACKNOWLEDGED = "acknowledged"
    MITIGATED = "mitigated"
    COMMANDER = "commander"
    ALERT = "alert"
    RESOLVED = "resolved"
    REOPENED = "reopened"
    SUMMARY = "summary"


def to_utc(when: datetime) -> datetime:
    """The same instant in UTC; a naive datetime is refused (whose clock would it be?)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got naive {when.isoformat()}")
    return when.astimezone(UTC)


def incident_id(day: date, seq: int) -> str:
    """`INC-20261123-0007`: the UTC day the incident opened and its number that day (from 1)."""
    if seq < 1:
        raise ValueError(f"incident numbers start at 1 (got {seq})")
    return f"{ID_PREFIX}-{day:%Y%m%d}-{seq:04d}"


def parse_incident_id(text: str) -> tuple[date, int] | None:
    """The day and number of an incident id, or None when the text is not one (e.g. typed in Slack)."""
    match = _ID.match(text.strip().upper())
    if not match:
        return None
    try:
        day = datetime.strptime(match.group(1), "%Y%m%d").date()
    except ValueError:
        return None
    seq = int(match.group(2))
    return (day, seq) if seq >= 1 else None


def redact_data(value: Any) -> Any:
    """Every string in structured data (keys kept, values masked), so the store never holds a secret."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {str(key): redact_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_data(item) for item in value]
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, Enum):
        return redact_data(value.value)
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    return redact(str(value))  # paths, ids, anything else: kept as its text, masked like any text


@dataclass(frozen=True)
class Incident:
    """One incident: what was reported, where its thread is, how bad it is, and whether it is over."""

    id: str
    service: str
    symptom: str
    channel: str
    created_by: str
    created_at: datetime
    status: IncidentStatus = IncidentStatus.INVESTIGATING
    thread_ts: str | None = None
    permalink: str | None = None  # of the root message, for links from elsewhere (App Home)
    playbook_id: str | None = None
    severity: Sev | None = None
    severity_by: str | None = None
    severity_reason: str | None = None
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    title: str | None = None  # declared incidents; else the symptom stands for it
    commander: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str | None = None
    mitigated_at: datetime | None = None
    detected_at: datetime | None = None  # when the alert that opened it started firing
    alert_key: str | None = None  # service and alert name of the alert it stands for: repeats attach to it
    source_link: str | None = None  # the message it was opened from (a shortcut), linked from its own

    @property
    def is_open(self) -> bool:
        return self.status is not IncidentStatus.RESOLVED

    @property
    def name(self) -> str:
        """What people call it: its title, or the symptom it was opened with."""
        return self.title or self.symptom

    def age(self, now: datetime) -> timedelta:
        """How long it has been open (until resolved, if it is)."""
        return (self.resolved_at or to_utc(now)) - self.created_at


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened in an incident, redacted, in the order it was recorded."""

    seq: int
    incident_id: str
    at: datetime
    kind: TimelineKind
    text: str
    actor: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


class RequestState(StrEnum):
    """Where a request for a fix stands. Only `pending -> executing` runs anything, in one conditional write."""

    PENDING = "pending"  # waiting for approval
    EXECUTING = "executing"  # approved; running (exactly one caller got here)
    SUCCEEDED = "succeeded"  # ran and verified
    FAILED = "failed"  # the system refused or failed the change, or verification saw it fail
    TIMED_OUT = "timed_out"  # ran, but did not verify in time
    DENIED = "denied"
    EXPIRED = "expired"
    STALE = "stale"  # the object changed after the preview: refused, a fresh preview offered
    INTERRUPTED = "interrupted"  # the bot stopped while it ran: the outcome must be checked by hand

    @property
    def is_final(self) -> bool:
        return self not in (RequestState.PENDING, RequestState.EXECUTING)


@dataclass(frozen=True)
class ActionRequest:
    """A request to run one fix, bound to the exact change its preview showed (target and version)."""

    id: str
    incident_id: str
    seq: int  # 1, 2, ... within the incident: what people call it ("fix request 2")
    playbook_id: str
    action: str
    title: str
    params: dict[str, Any]
    preview: dict[str, Any]  # bot.actions.base.Preview as JSON
    requested_by: str
    requested_at: datetime
    expires_at: datetime
    needed: int  # approvals needed, from people other than the requester
    state: RequestState = RequestState.PENDING
    approvals: tuple[str, ...] = ()
    decided_by: str | None = None
    message_ts: str | None = None
    outcome: dict[str, Any] = field(default_factory=dict)
    verification: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditEntry:
    """One line of the append-only audit log: who did what to which request, when."""

    seq: int
    at: datetime
    incident_id: str
    request_id: str | None
    event: str
    actor: str | None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EscalationStep:
    """One rung of an incident's ladder: due at a time, fired once if its condition still holds then."""

    id: int
    incident_id: str
    step: int
    tier: str
    condition: str  # not_acknowledged | not_resolved
    due_at: datetime
    state: str = "waiting"  # waiting | fired | cancelled
    fired_at: datetime | None = None


@dataclass(frozen=True)
class Outgoing:
    """A message to keep in the outbox: its dedup key (one message per key, ever), kind and payload."""

    dedup: str
    kind: str  # pagerduty
    payload: dict[str, Any]


@dataclass(frozen=True)
class OutboxMessage:
    """Something to deliver to another system (a page), kept until it is delivered or refused for good."""

    id: int
    incident_id: str
    dedup: str
    kind: str  # pagerduty
    payload: dict[str, Any]
    state: str  # pending | sending | delivered | rejected
    attempts: int
    due_at: datetime
    last_error: str | None = None
