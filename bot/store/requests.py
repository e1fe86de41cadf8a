"""Requests for fixes, their approvals, and the append-only audit log: portable SQL, mixed into SqlStore.

Every step a request takes is one conditional write on its state (`UPDATE ... WHERE state = ...`), so a double
click, two approvers at once, a redelivery, two worker processes or two replicas move it once: the caller whose
write changed a row is the one that acts. Each step that happens is written to the audit log in the same
transaction, so the log can never miss one.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.clock import Clock
from bot.errors import UnknownNameError
from bot.incidents import ActionRequest, AuditEntry, RequestState, redact_data, to_utc
from bot.redaction import redact
from bot.store.base import Backend, Connection, Row


def _iso(when: datetime) -> str:
    return to_utc(when).isoformat(timespec="microseconds")


def _request(row: Row, approvals: Iterable[str]) -> ActionRequest:
    return ActionRequest(
        id=row["id"],
        incident_id=row["incident_id"],
        seq=int(row["seq"]),
        playbook_id=row["playbook_id"],
        action=row["action"],
        title=row["title"],
        params=json.loads(row["params"]),
        preview=json.loads(row["preview"]),
        requested_by=row["requested_by"],
        requested_at=datetime.fromisoformat(row["requested_at"]),
        expires_at=datetime.fromisoformat(row["expires_at"]),
        needed=int(row["needed"]),
        state=RequestState(row["state"]),
        approvals=tuple(approvals),
        decided_by=row["decided_by"],
        message_ts=row["message_ts"],
        outcome=json.loads(row["outcome"]),
        verification=json.loads(row["verification"]),
    )


class UnknownRequestError(UnknownNameError):
    def __init__(self, request_id: str) -> None:
        super().__init__("fix request", request_id, [])


class ActionRequestsSql:
    """The action-request part of SqlStore (which provides `backend` and `clock`)."""

    backend: Backend
    clock: Clock

    def create_request(
        self,
        incident_id: str,
        playbook_id: str,
        action: str,
        title: str,
        params: dict[str, Any],
        preview: dict[str, Any],
        requested_by: str,
        expires_at: datetime,
        needed: int,
    ) -> ActionRequest:
        """A new pending request, numbered within its incident; audited as `requested`."""
        now, request_id = _iso(self.clock.now()), secrets.token_urlsafe(9)
        with self.backend.write() as db:
            # The same atomic counter that numbers incidents, keyed by the incident: no MAX()+1 race.
            seq = db.execute(
                "INSERT INTO incident_counters (day, seq) VALUES (?, 1) "
                "ON CONFLICT (day) DO UPDATE SET seq = incident_counters.seq + 1 RETURNING seq",
                [f"{incident_id}/requests"],
            ).fetchone()[0]
            db.execute(
                "INSERT INTO action_requests (id, incident_id, seq, playbook_id, action, title, params, preview, "
                "requested_by, requested_at, expires_at, needed, state, outcome, verification, updated_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', '{}', ?)",
                [request_id, incident_id, seq, playbook_id, action, redact(title),
                 json.dumps(redact_data(params), sort_keys=True), json.dumps(redact_data(preview), sort_keys=True),
                 requested_by, now, _iso(expires_at), needed, RequestState.PENDING.value, now],
            )  # fmt: skip
            self._audit(db, incident_id, request_id, "requested", requested_by,
                        {"action": action, "params": params, "preview": preview})  # fmt: skip
            return self._request_in(db, request_id)

    def get_request(self, request_id: str) -> ActionRequest | None:
        with self.backend.read() as db:
            rows = db.rows("SELECT * FROM action_requests WHERE id = ?", [request_id])
            return _request(rows[0], self._approvers(db, request_id)) if rows else None

    def requests_in(self, incident_id: str) -> list[ActionRequest]:
        with self.backend.read() as db:
            rows = db.rows("SELECT * FROM action_requests WHERE incident_id = ? ORDER BY seq", [incident_id])
            return [_request(row, self._approvers(db, row["id"])) for row in rows]

    def requests_by_state(self, state: RequestState) -> list[ActionRequest]:
        with self.backend.read() as db:
            rows = db.rows(
                "SELECT * FROM action_requests WHERE state = ? ORDER BY requested_at", [state.value]
            )
            return [_request(row, self._approvers(db, row["id"])) for row in rows]

    def set_request_message(self, request_id: str, message_ts: str) -> None:
        """Remember the thread message that shows the request, so every step can redraw it."""
        with self.backend.write() as db:
            db.execute("UPDATE action_requests SET message_ts = ? WHERE id = ?", [message_ts, request_id])

    def approve(self, request_id: str, approver: str) -> tuple[int, bool]:
        """Record an approval; (approvals so far, whether this one moved the request to `executing`).

        The move happens once the request has its approvals from people other than the requester, while it is
        pending and not expired, in one conditional write: of any number of concurrent approvers, one wins.
        """
        now = _iso(self.clock.now())
        with self.backend.write() as db:
            request = self._request_in(db, request_id)
            if approver == request.requested_by:  # never counted, whichever path it came by
                return len([a for a in self._approvers(db, request_id) if a != approver]), False
            first = db.execute(
                "INSERT INTO action_approvals (request_id, approver, at) VALUES (?, ?, ?) "
                "ON CONFLICT (request_id, approver) DO NOTHING RETURNING approver",
                [request_id, approver, now],
            ).fetchall()
            count = len([a for a in self._approvers(db, request_id) if a != request.requested_by])
            won = count >= request.needed and self._move(
                db, request, [RequestState.PENDING], RequestState.EXECUTING, approver, {"approvals": count},
                extra="AND expires_at > ?", params=[now],
            )  # fmt: skip
            if first and not won:  # a new approval, short of what is needed
                self._audit(
                    db, request.incident_id, request_id, "approval_recorded", approver, {"approvals": count}
                )
            return count, won

    def move_request(
        self,
        request_id: str,
        from_states: list[RequestState],
        to_state: RequestState,
        actor: str | None = None,
        detail: dict[str, Any] | None = None,
        outcome: dict[str, Any] | None = None,
        verification: dict[str, Any] | None = None,
    ) -> bool:
        """Move a request on if it is in one of `from_states`; True for the one caller whose write did."""
        with self.backend.write() as db:
            request = self._request_in(db, request_id)
            return self._move(db, request, from_states, to_state, actor, detail or {}, outcome, verification)

    def expire_request(self, request_id: str) -> bool:
        """A pending request past its expiry becomes `expired` (once); True if this call did it."""
        now = _iso(self.clock.now())
        with self.backend.write() as db:
            request = self._request_in(db, request_id)
            return self._move(db, request, [RequestState.PENDING], RequestState.EXPIRED, None, {},
                              extra="AND expires_at <= ?", params=[now])  # fmt: skip

    def audit(self, incident_id: str | None = None) -> list[AuditEntry]:
        """The audit log, oldest first (of one incident, if given)."""
        where, params = ("WHERE incident_id = ?", [incident_id]) if incident_id else ("", [])
        with self.backend.read() as db:
            rows = db.rows(f"SELECT * FROM audit_log {where} ORDER BY seq", params)
        return [
            AuditEntry(int(r["seq"]), datetime.fromisoformat(r["at"]), r["incident_id"], r["request_id"],
                       r["event"], r["actor"], json.loads(r["detail"]))
            for r in rows
        ]  # fmt: skip

    # -- helpers ----------------------------------------------------------------------------------

    def _move(
        self,
        db: Connection,
        request: ActionRequest,
        from_states: list[RequestState],
        to_state: RequestState,
        actor: str | None,
        detail: dict[str, Any],
        outcome: dict[str, Any] | None = None,
        verification: dict[str, Any] | None = None,
        extra: str = "",
        params: list[Any] | None = None,
    ) -> bool:
        now = _iso(self.clock.now())
        marks = ", ".join("?" for _ in from_states)
        sets, values = ["state = ?", "updated_at = ?"], [to_state.value, now]
        if actor is not None and to_state in (RequestState.EXECUTING, RequestState.DENIED):
            sets.append("decided_by = ?")
            values.append(actor)
        for column, value in (("outcome", outcome), ("verification", verification)):
            if value is not None:
                sets.append(f"{column} = ?")
                values.append(json.dumps(redact_data(value), sort_keys=True))
        changed = db.execute(
            f"UPDATE action_requests SET {', '.join(sets)} WHERE id = ? AND state IN ({marks}) {extra} RETURNING id",
            [*values, request.id, *(s.value for s in from_states), *(params or [])],
        ).fetchall()
        if changed:
            self._audit(db, request.incident_id, request.id, to_state.value, actor,
                        {**detail, **({"outcome": outcome} if outcome else {}),
                         **({"verification": verification} if verification else {})})  # fmt: skip
        return bool(changed)

    def _request_in(self, db: Connection, request_id: str) -> ActionRequest:
        rows = db.rows("SELECT * FROM action_requests WHERE id = ?", [request_id])
        if not rows:
            raise UnknownRequestError(request_id)
        return _request(rows[0], self._approvers(db, request_id))

    @staticmethod
    def _approvers(db: Connection, request_id: str) -> list[str]:
        rows = db.rows(
            "SELECT approver FROM action_approvals WHERE request_id = ? ORDER BY at, approver", [request_id]
        )
        return [r["approver"] for r in rows]

    def _audit(
        self, db: Connection, incident_id: str, request_id: str | None, event: str, actor: str | None,
        detail: dict[str, Any],
    ) -> None:  # fmt: skip
        db.execute(
            "INSERT INTO audit_log (at, incident_id, request_id, event, actor, detail) VALUES (?, ?, ?, ?, ?, ?)",
            [_iso(self.clock.now()), incident_id, request_id, event, actor,
             json.dumps(redact_data(detail), sort_keys=True)],
        )  # fmt: skip

    def record_audit(
        self, incident_id: str, request_id: str | None, event: str, actor: str | None, detail: dict[str, Any]
    ) -> None:
        """An audit line for something that happened outside a state change (a refused approval, say)."""
        with self.backend.write() as db:
            self._audit(db, incident_id, request_id, event, actor, detail)
