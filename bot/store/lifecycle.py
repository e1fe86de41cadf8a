"""How incidents are run, in portable SQL mixed into SqlStore: status changes, the commander, the escalation
ladder and the outbox of pages.

The ladder is rows with due times, never timers in memory: whoever reconciles claims a due step with one
conditional write (`UPDATE ... WHERE state = 'waiting'`), so a step that fell due while the bot was down fires
once when it is back, and two reconcilers at once fire it once. The outbox keeps every page until it is
delivered or refused for good; its sender claims a message the same way, oldest first per incident, so pages
go out in the order they were made, even after PagerDuty was down for a while.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.clock import Clock
from bot.incidents import (
    EscalationStep,
    Incident,
    IncidentStatus,
    OutboxMessage,
    Outgoing,
    TimelineKind,
    redact_data,
    to_utc,
)
from bot.redaction import redact
from bot.store.base import Backend, Connection, Row
from bot.store.rows import _incident

if TYPE_CHECKING:
    from bot.incidents import TimelineEntry

OPEN = (IncidentStatus.INVESTIGATING, IncidentStatus.ACKNOWLEDGED, IncidentStatus.MITIGATED)
# (status it may come from, status it goes to, the timestamp column it stamps, the by column)
TRANSITIONS = {
    IncidentStatus.ACKNOWLEDGED: ([IncidentStatus.INVESTIGATING], "acknowledged_at", "acknowledged_by"),
    IncidentStatus.MITIGATED: (
        [IncidentStatus.INVESTIGATING, IncidentStatus.ACKNOWLEDGED],
        "mitigated_at",
        None,
    ),
    IncidentStatus.INVESTIGATING: ([IncidentStatus.RESOLVED], None, None),  # reopened
}
KINDS = {IncidentStatus.ACKNOWLEDGED: TimelineKind.ACKNOWLEDGED, IncidentStatus.MITIGATED: TimelineKind.MITIGATED,
         IncidentStatus.INVESTIGATING: TimelineKind.REOPENED}  # fmt: skip


def _iso(when: datetime) -> str:
    return to_utc(when).isoformat(timespec="microseconds")


def _step(row: Row) -> EscalationStep:
    return EscalationStep(int(row["id"]), row["incident_id"], int(row["step"]), row["tier"], row["condition"],
                          datetime.fromisoformat(row["due_at"]), row["state"],
                          datetime.fromisoformat(row["fired_at"]) if row["fired_at"] else None)  # fmt: skip


def _message(row: Row) -> OutboxMessage:
    return OutboxMessage(int(row["id"]), row["incident_id"], row["dedup"], row["kind"], json.loads(row["payload"]),
                         row["state"], int(row["attempts"]), datetime.fromisoformat(row["due_at"]), row["last_error"])  # fmt: skip


def _keep(db: Connection, incident_id: str, message: Outgoing, now: str) -> bool:
    """Insert a message into the outbox unless its dedup key is there already; whether it was inserted."""
    return bool(db.rows(
        "INSERT INTO outbox (incident_id, dedup, kind, payload, state, attempts, due_at, created_at) "
        "VALUES (?, ?, ?, ?, 'pending', 0, ?, ?) ON CONFLICT (dedup) DO NOTHING RETURNING id",
        [incident_id, message.dedup, message.kind, json.dumps(redact_data(message.payload), sort_keys=True), now, now],
    ))  # fmt: skip


class LifecycleSql:
    """The lifecycle part of SqlStore (which provides `backend`, `clock` and the timeline helpers)."""

    backend: Backend
    clock: Clock

    if TYPE_CHECKING:

        def _append(
            self, db: Connection, incident_id: str, kind: TimelineKind, text: str, actor: str | None,
            data: dict[str, Any],
        ) -> TimelineEntry: ...  # fmt: skip
        def _require(self, db: Connection, incident_id: str) -> Incident: ...

    # -- status and people ------------------------------------------------------------------------

    def set_status(
        self, incident_id: str, status: IncidentStatus, by: str | None, note: str = ""
    ) -> Incident | None:
        """Acknowledge, mitigate or reopen; None (and nothing recorded) when the incident was not in a state it
        can come from (a double click, or acknowledging what is resolved). Resolving is `resolve`."""
        sources, at_column, by_column = TRANSITIONS[status]
        now = _iso(self.clock.now())
        sets, values = ["status = ?"], list[str | None]([status.value])
        if at_column:
            sets.append(f"{at_column} = ?")
            values.append(now)
        if by_column:
            sets.append(f"{by_column} = ?")
            values.append(by)
        if status is IncidentStatus.INVESTIGATING:  # reopened: it is not resolved any more
            sets += ["resolved_at = NULL", "resolved_by = NULL"]
        marks = ", ".join("?" for _ in sources)
        with self.backend.write() as db:
            self._require(db, incident_id)
            changed = db.execute(
                f"UPDATE incidents SET {', '.join(sets)} WHERE id = ? AND status IN ({marks}) RETURNING id",
                [*values, incident_id, *(s.value for s in sources)],
            ).fetchall()
            if not changed:
                return None
            self._append(db, incident_id, KINDS[status], note or status.value, by, {"status": status.value})
            return self._require(db, incident_id)

    def set_commander(self, incident_id: str, commander: str, by: str | None) -> Incident:
        with self.backend.write() as db:
            before = self._require(db, incident_id)
            db.execute("UPDATE incidents SET commander = ? WHERE id = ?", [commander, incident_id])
            self._append(db, incident_id, TimelineKind.COMMANDER, f"commander {commander}", by,
                         {"commander": commander, "previous": before.commander})  # fmt: skip
            return self._require(db, incident_id)

    def open_for_alert(self, alert_key: str) -> Incident | None:
        """The open incident an alert (service and alert name) attaches to, if there is one."""
        marks = ", ".join("?" for _ in OPEN)
        with self.backend.read() as db:
            rows = db.rows(f"SELECT * FROM incidents WHERE alert_key = ? AND status IN ({marks}) "
                           "ORDER BY created_at DESC LIMIT 1", [alert_key, *(s.value for s in OPEN)])  # fmt: skip
        return _incident(rows[0]) if rows else None

    # -- the escalation ladder --------------------------------------------------------------------

    def plan_escalation(self, incident_id: str, steps: Sequence[tuple[int, str, str, datetime]]) -> None:
        """Make the incident's ladder these (step, tier, condition, due) rungs: waiting rungs move to their new
        time, missing ones are added, those no longer in the plan are cancelled; a rung that fired stays fired."""
        with self.backend.write() as db:
            self._require(db, incident_id)
            keep = {(tier, condition) for _, tier, condition, _ in steps}
            for row in db.rows("SELECT id, tier, condition FROM escalations WHERE incident_id = ? AND state = ?",
                               [incident_id, "waiting"]):  # fmt: skip
                if (row["tier"], row["condition"]) not in keep:
                    db.execute("UPDATE escalations SET state = ? WHERE id = ?", ["cancelled", row["id"]])
            for step, tier, condition, due in steps:
                db.execute(
                    "INSERT INTO escalations (incident_id, step, tier, condition, due_at, state) "
                    "VALUES (?, ?, ?, ?, ?, 'waiting') ON CONFLICT (incident_id, tier, condition) DO UPDATE "
                    "SET step = excluded.step, due_at = excluded.due_at WHERE escalations.state = 'waiting'",
                    [incident_id, step, tier, condition, _iso(due)],
                )

    def cancel_escalations(self, incident_id: str, condition: str | None = None) -> int:
        """Stop waiting rungs (of one condition, or all); how many were stopped."""
        extra, params = ("AND condition = ?", [condition]) if condition else ("", [])
        with self.backend.write() as db:
            return len(db.execute(f"UPDATE escalations SET state = 'cancelled' WHERE incident_id = ? "
                                  f"AND state = 'waiting' {extra} RETURNING id", [incident_id, *params]).fetchall())  # fmt: skip

    def due_escalations(self) -> list[EscalationStep]:
        with self.backend.read() as db:
            rows = db.rows("SELECT * FROM escalations WHERE state = 'waiting' AND due_at <= ? ORDER BY due_at, id",
                           [_iso(self.clock.now())])  # fmt: skip
        return [_step(row) for row in rows]

    def fire_escalation(self, step_id: int, page: Outgoing | None = None) -> bool:
        """Claim a due rung, keeping its page in the same write (a claimer that dies next cannot lose the page);
        True for exactly one caller (whoever then tells the thread)."""
        now = _iso(self.clock.now())
        with self.backend.write() as db:
            won = db.rows("UPDATE escalations SET state = 'fired', fired_at = ? WHERE id = ? "
                          "AND state = 'waiting' AND due_at <= ? RETURNING incident_id", [now, step_id, now])  # fmt: skip
            if won and page is not None:
                _keep(db, str(won[0]["incident_id"]), page, now)
            return bool(won)

    def escalations_of(self, incident_id: str) -> list[EscalationStep]:
        with self.backend.read() as db:
            rows = db.rows("SELECT * FROM escalations WHERE incident_id = ? ORDER BY step, id", [incident_id])
        return [_step(row) for row in rows]

    # -- the outbox -------------------------------------------------------------------------------

    def enqueue(self, incident_id: str, message: Outgoing) -> bool:
        """Keep a message to deliver; False when one with the same dedup key was kept already (never twice)."""
        with self.backend.write() as db:
            return _keep(db, incident_id, message, _iso(self.clock.now()))

    def claim_outbox(self, lease: timedelta) -> OutboxMessage | None:
        """The oldest due message this caller may send now, claimed for `lease` (a sender that died lets it go
        then); only an incident's oldest undelivered message is due, so its pages keep their order."""
        now = self.clock.now()
        with self.backend.write() as db:
            candidates = db.rows(
                "SELECT id FROM outbox o WHERE o.due_at <= ? AND (o.state = 'pending' OR "
                "(o.state = 'sending' AND o.claimed_until <= ?)) AND NOT EXISTS (SELECT 1 FROM outbox e "
                "WHERE e.incident_id = o.incident_id AND e.id < o.id AND e.state IN ('pending', 'sending')) "
                "ORDER BY o.id LIMIT 20",
                [_iso(now), _iso(now)],
            )
            for row in candidates:  # another sender may win the first few
                # rows(), not execute(): each backend's rows come back by column name only through it
                won = db.rows(
                    "UPDATE outbox SET state = 'sending', claimed_until = ?, attempts = attempts + 1 WHERE id = ? "
                    "AND (state = 'pending' OR (state = 'sending' AND claimed_until <= ?)) RETURNING *",
                    [_iso(now + lease), row["id"], _iso(now)],
                )
                if won:
                    return _message(won[0])
            return None

    def outbox_done(
        self, message_id: int, state: str, error: str | None = None, retry_in: timedelta | None = None
    ) -> None:
        """Delivered or refused for good (`state`), or back to pending to be tried again after `retry_in`."""
        now = self.clock.now()
        with self.backend.write() as db:
            if retry_in is not None:
                db.execute("UPDATE outbox SET state = 'pending', due_at = ?, last_error = ?, claimed_until = NULL "
                           "WHERE id = ? AND state = 'sending'", [_iso(now + retry_in), redact(error or ""), message_id])  # fmt: skip
            else:
                db.execute("UPDATE outbox SET state = ?, sent_at = ?, last_error = ?, claimed_until = NULL "
                           "WHERE id = ? AND state = 'sending'", [state, _iso(now), redact(error or "") or None, message_id])  # fmt: skip

    def outbox_of(self, incident_id: str) -> list[OutboxMessage]:
        with self.backend.read() as db:
            rows = db.rows("SELECT * FROM outbox WHERE incident_id = ? ORDER BY id", [incident_id])
        return [_message(row) for row in rows]

    # -- Alertmanager's deliveries ----------------------------------------------------------------

    def keep_alerts(self, body: str) -> int:
        """Keep a delivery as received (redacted) before answering it: once kept, nothing can lose it."""
        with self.backend.write() as db:
            return int(db.execute("INSERT INTO alert_intake (received_at, body, state) VALUES (?, ?, 'pending') "
                                  "RETURNING id", [_iso(self.clock.now()), redact(body)]).fetchone()[0])  # fmt: skip

    def take_alerts(self, intake_id: int, stale: timedelta = timedelta(minutes=2)) -> str | None:
        """The delivery's body for the one caller that takes it (or retakes one a stopped worker left)."""
        now = self.clock.now()
        with self.backend.write() as db:
            rows = db.rows("UPDATE alert_intake SET state = 'taken', taken_at = ? WHERE id = ? AND (state = 'pending' "
                           "OR (state = 'taken' AND taken_at <= ?)) RETURNING body", [_iso(now), intake_id, _iso(now - stale)])  # fmt: skip
        return str(rows[0]["body"]) if rows else None

    def alerts_done(self, intake_id: int) -> None:
        with self.backend.write() as db:
            db.execute("UPDATE alert_intake SET state = 'done' WHERE id = ?", [intake_id])

    def unhandled_alerts(self, older_than: timedelta) -> list[int]:
        """Deliveries still not done this long after they came (a worker stopped): to be taken again."""
        cutoff = _iso(self.clock.now() - older_than)
        with self.backend.read() as db:
            rows = db.rows(
                "SELECT id FROM alert_intake WHERE state <> 'done' AND received_at <= ? ORDER BY id", [cutoff]
            )
        return [int(r["id"]) for r in rows]
