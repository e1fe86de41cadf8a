"""The store as the rest of the bot relies on it: narrow interfaces, and the connection a backend provides.

    IncidentLog      incidents and their timelines
    Claims           idempotency: `claim(key)` is true for exactly one caller (Slack retries, double clicks,
                     one offer per playbook, one execution per approved action)
    ButtonStates     what a button's opaque id stands for
    ActionRequests   requests for fixes, their approvals and the append-only audit log
    Lifecycle        status, commander, the escalation ladder and the outbox of pages
    Store            all of them, plus health and closing

Flows and listeners ask for the narrowest one they use. Every run-once guarantee is a single conditional
write (`INSERT ... ON CONFLICT DO NOTHING`, `UPDATE ... WHERE state = ...`) whose RETURNING rows say who won, so
it holds across threads, worker processes and replicas alike, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from bot.incidents import (
    ActionRequest,
    AuditEntry,
    EscalationStep,
    Incident,
    IncidentStatus,
    OutboxMessage,
    Outgoing,
    RequestState,
    TimelineEntry,
    TimelineKind,
)
from bot.severity import Sev

Row = dict[str, Any]


class State(NamedTuple):
    """What a button's opaque id stands for."""

    kind: str
    payload: dict[str, Any]


class IncidentLog(Protocol):
    def open_incident(
        self, service: str, symptom: str, channel: str, created_by: str, title: str | None = None,
        alert_key: str | None = None, detected_at: datetime | None = None, source_link: str | None = None,
    ) -> Incident: ...  # fmt: skip
    def get(self, incident_id: str) -> Incident | None: ...
    def require(self, incident_id: str) -> Incident: ...
    def by_thread(self, channel: str, thread_ts: str) -> Incident | None: ...
    def list_open(self, limit: int = 100) -> list[Incident]: ...
    def list_all(self, limit: int = 100) -> list[Incident]: ...
    def set_thread(
        self, incident_id: str, thread_ts: str, permalink: str | None = None, channel: str | None = None
    ) -> Incident: ...
    def set_playbook(
        self, incident_id: str, playbook_id: str, actor: str | None = None, why: str = ""
    ) -> Incident: ...
    def set_severity(
        self, incident_id: str, severity: Sev | str, by: str | None, why: str
    ) -> Incident | None: ...
    def resolve(self, incident_id: str, by: str, note: str = "") -> bool: ...
    def append(
        self,
        incident_id: str,
        kind: TimelineKind | str,
        text: str,
        actor: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> TimelineEntry: ...
    def timeline(self, incident_id: str) -> list[TimelineEntry]: ...
    def latest(self, incident_id: str, kind: TimelineKind) -> TimelineEntry | None: ...


class Claims(Protocol):
    def claim(self, key: str, holder: str | None = None, ttl: timedelta | None = None) -> bool: ...


class ButtonStates(Protocol):
    def put_state(self, kind: str, payload: dict[str, Any], incident_id: str | None = None) -> str: ...
    def get_state(self, state_id: str) -> State | None: ...
    def states_of(self, incident_id: str) -> dict[str, list[tuple[str, dict[str, Any]]]]: ...


class ActionRequests(Protocol):
    """Requests for fixes: created with their preview, approved by others, moved on by conditional writes."""

    def create_request(
        self, incident_id: str, playbook_id: str, action: str, title: str, params: dict[str, Any],
        preview: dict[str, Any], requested_by: str, expires_at: datetime, needed: int,
    ) -> ActionRequest: ...  # fmt: skip
    def get_request(self, request_id: str) -> ActionRequest | None: ...
    def requests_in(self, incident_id: str) -> list[ActionRequest]: ...
    def requests_by_state(self, state: RequestState) -> list[ActionRequest]: ...
    def set_request_message(self, request_id: str, message_ts: str) -> None: ...
    def approve(self, request_id: str, approver: str) -> tuple[int, bool]: ...
    def move_request(
        self, request_id: str, from_states: list[RequestState], to_state: RequestState, actor: str | None = None,
        detail: dict[str, Any] | None = None, outcome: dict[str, Any] | None = None,
        verification: dict[str, Any] | None = None,
    ) -> bool: ...  # fmt: skip
    def expire_request(self, request_id: str) -> bool: ...
    def record_audit(
        self, incident_id: str, request_id: str | None, event: str, actor: str | None, detail: dict[str, Any]
    ) -> None: ...
    def audit(self, incident_id: str | None = None) -> list[AuditEntry]: ...


class Lifecycle(Protocol):
    """Status and people, the escalation ladder (rows with due times) and the outbox of pages."""

    def set_status(
        self, incident_id: str, status: IncidentStatus, by: str | None, note: str = ""
    ) -> Incident | None: ...
    def set_commander(self, incident_id: str, commander: str, by: str | None) -> Incident: ...
    def open_for_alert(self, alert_key: str) -> Incident | None: ...
    def count_open(self) -> dict[str, int]: ...
    def plan_escalation(self, incident_id: str, steps: Sequence[tuple[int, str, str, datetime]]) -> None: ...
    def cancel_escalations(self, incident_id: str, condition: str | None = None) -> int: ...
    def due_escalations(self) -> list[EscalationStep]: ...
    def fire_escalation(self, step_id: int, page: Outgoing | None = None) -> bool: ...
    def escalations_of(self, incident_id: str) -> list[EscalationStep]: ...
    def enqueue(self, incident_id: str, message: Outgoing) -> bool: ...
    def claim_outbox(self, lease: timedelta) -> OutboxMessage | None: ...
    def outbox_done(self, message_id: int, state: str, error: str | None = None,
                    retry_in: timedelta | None = None) -> None: ...  # fmt: skip
    def outbox_of(self, incident_id: str) -> list[OutboxMessage]: ...
    def keep_alerts(self, body: str) -> int: ...
    def take_alerts(self, intake_id: int, stale: timedelta = ...) -> str | None: ...
    def alerts_done(self, intake_id: int) -> None: ...
    def unhandled_alerts(self, older_than: timedelta) -> list[int]: ...


class Store(IncidentLog, Claims, ButtonStates, ActionRequests, Lifecycle, Protocol):
    url: str

    def ping(self) -> None:
        """A constant-time query: raises StoreError when the store cannot be used."""
        ...

    def close(self) -> None: ...


class Cursor(Protocol):
    # No rowcount: SQLite's is not reset by an upsert that did nothing (it reports the previous statement's),
    # so every conditional write says who won with RETURNING instead.
    def fetchone(self) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """One connection of a backend; SQL uses `?` placeholders (a backend translates them if it must)."""

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor: ...
    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...


class Backend(Protocol):
    """What a database gives the store: connections for reads and transactions for writes."""

    url: str

    def read(self) -> AbstractContextManager[Connection]: ...

    def write(self) -> AbstractContextManager[Connection]:
        """A transaction; read-then-write steps inside it cannot race another writer's."""
        ...

    def close(self) -> None: ...
