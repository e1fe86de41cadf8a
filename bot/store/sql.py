"""The store's behaviour, once, in SQL that SQLite (3.35+) and PostgreSQL both run; a backend supplies connections.

Free text is redacted here, before any backend sees it, so no database ever holds a secret. Times are kept as
ISO 8601 UTC text with microseconds, which sorts as time does. The lifecycle methods (`open_incident`,
`set_playbook`, `set_severity`, `resolve`) record their own timeline entries; anything else the caller records
with `append`.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.clock import SYSTEM_CLOCK, Clock
from bot.errors import UnknownIncidentError
from bot.incidents import (
    Incident,
    IncidentStatus,
    TimelineEntry,
    TimelineKind,
    incident_id,
    redact_data,
    to_utc,
)
from bot.redaction import redact
from bot.severity import Sev
from bot.store.base import Backend, Connection, Row, State
from bot.store.lifecycle import LifecycleSql
from bot.store.requests import ActionRequestsSql
from bot.store.rows import _incident, _time

EVENT_RETENTION = timedelta(hours=1)  # Slack retries for 5 minutes; keep ids well beyond that


def iso(when: datetime) -> str:
    return to_utc(when).isoformat(timespec="microseconds")


def _entry(row: Row) -> TimelineEntry:
    at = _time(row["at"])
    assert at is not None  # NOT NULL in the schema
    return TimelineEntry(
        seq=row["seq"],
        incident_id=row["incident_id"],
        at=at,
        kind=TimelineKind(row["kind"]),
        text=row["text"],
        actor=row["actor"],
        data=json.loads(row["data"]),
    )


def _kind(kind: TimelineKind | str) -> TimelineKind:
    try:
        return TimelineKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in TimelineKind)
        raise ValueError(f"unknown timeline kind {kind!r}; expected one of {known}") from None


class SqlStore(ActionRequestsSql, LifecycleSql):
    """The bot's memory: survives restarts, safe to share between threads, processes (and replicas)."""

    def __init__(self, backend: Backend, clock: Clock = SYSTEM_CLOCK) -> None:
        to_utc(clock.now())  # a clock without a timezone is refused now, not at the first incident
        self.backend, self.clock = backend, clock
        self.url = backend.url

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> SqlStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def ping(self) -> None:
        with self.backend.read() as db:
            db.execute("SELECT 1").fetchone()

    def _now(self) -> str:
        return iso(self.clock.now())

    # -- incidents --------------------------------------------------------------------------------

    def open_incident(
        self,
        service: str,
        symptom: str,
        channel: str,
        created_by: str,
        title: str | None = None,
        alert_key: str | None = None,
        detected_at: datetime | None = None,
        source_link: str | None = None,
    ) -> Incident:
        """Open an incident numbered after the others opened the same (UTC) day."""
        now = to_utc(self.clock.now())
        day, symptom, title = now.date(), redact(symptom), redact(title) if title else None
        with self.backend.write() as db:
            # The counter row is the only thing two openers contend on: numbering needs no table lock.
            seq = db.execute(
                "INSERT INTO incident_counters (day, seq) VALUES (?, 1) "
                "ON CONFLICT (day) DO UPDATE SET seq = incident_counters.seq + 1 RETURNING seq",
                [day.isoformat()],
            ).fetchone()[0]
            incident = Incident(incident_id(day, seq), service, symptom, channel, created_by, now, title=title,
                                alert_key=alert_key, detected_at=to_utc(detected_at) if detected_at else None,
                                source_link=source_link)  # fmt: skip
            db.execute(
                "INSERT INTO incidents (id, day, seq, service, symptom, channel, status, created_at, created_by, "
                "title, alert_key, detected_at, source_link) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [incident.id, day.isoformat(), seq, service, symptom, channel, incident.status.value,
                 iso(now), created_by, title, alert_key, iso(detected_at) if detected_at else None, source_link],
            )  # fmt: skip
            data = {"service": service, "channel": channel}
            self._append(db, incident.id, TimelineKind.OPENED, f"{service}: {symptom}", created_by, data)
        return incident

    def get(self, incident_id: str) -> Incident | None:
        with self.backend.read() as db:
            rows = db.rows("SELECT * FROM incidents WHERE id = ?", [incident_id])
        return _incident(rows[0]) if rows else None

    def require(self, incident_id: str) -> Incident:
        incident = self.get(incident_id)
        if incident is None:
            raise UnknownIncidentError(incident_id)
        return incident

    def by_thread(self, channel: str, thread_ts: str) -> Incident | None:
        """The incident whose root message is this one (how thread replies and mentions find theirs)."""
        with self.backend.read() as db:
            rows = db.rows(
                "SELECT * FROM incidents WHERE channel = ? AND thread_ts = ?", [channel, thread_ts]
            )
        return _incident(rows[0]) if rows else None

    def list_open(self, limit: int = 100) -> list[Incident]:
        """Open incidents, oldest first."""
        with self.backend.read() as db:
            rows = db.rows(
                "SELECT * FROM incidents WHERE status <> ? ORDER BY created_at, id LIMIT ?",
                [IncidentStatus.RESOLVED.value, limit],
            )
        return [_incident(row) for row in rows]

    def list_all(self, limit: int = 100) -> list[Incident]:
        """Incidents, newest first, resolved ones too."""
        with self.backend.read() as db:
            rows = db.rows("SELECT * FROM incidents ORDER BY created_at DESC, id DESC LIMIT ?", [limit])
        return [_incident(row) for row in rows]

    def count_open(self) -> dict[str, int]:
        """Open incidents by severity ("none" when not set), from the status index."""
        with self.backend.read() as db:
            rows = db.rows(
                "SELECT severity, COUNT(*) AS n FROM incidents WHERE status <> ? GROUP BY severity",
                [IncidentStatus.RESOLVED.value],
            )
        return {row["severity"] or "none": int(row["n"]) for row in rows}

    @staticmethod
    def _require(db: Connection, incident_id: str) -> Incident:
        rows = db.rows("SELECT * FROM incidents WHERE id = ?", [incident_id])
        if not rows:
            raise UnknownIncidentError(incident_id)
        return _incident(rows[0])

    def set_thread(
        self, incident_id: str, thread_ts: str, permalink: str | None = None, channel: str | None = None
    ) -> Incident:
        """Remember the root message once it is posted (and its channel's id): the incident's thread."""
        with self.backend.write() as db:
            rows = db.rows(
                "UPDATE incidents SET thread_ts = ?, permalink = ?, channel = COALESCE(?, channel) WHERE id = ? "
                "RETURNING *",
                [thread_ts, permalink, channel, incident_id],
            )
        if not rows:
            raise UnknownIncidentError(incident_id)
        return _incident(rows[0])

    @staticmethod
    def _compare_and_set(
        db: Connection, incident_id: str, column: str, value: str, also: dict[str, Any] | None = None
    ) -> Incident | None:
        """Set `column` (and the `also` columns) unless it holds `value` already; the incident as it was just
        before the change, or None when it held the value.

        The UPDATE also checks that the value read is still there. Under PostgreSQL's READ COMMITTED a replica
        can commit a change between our read and our write; then the UPDATE matches no row and we read again,
        so what the timeline says was replaced is what was replaced. (SQLite's write lock makes it one pass.)"""
        values = {column: value, **(also or {})}
        assignments = ", ".join(f"{name} = ?" for name in values)
        while True:
            rows = db.rows("SELECT * FROM incidents WHERE id = ?", [incident_id])
            if not rows:
                raise UnknownIncidentError(incident_id)
            was = rows[0][column]
            if was == value:
                return None
            changed = db.execute(
                f"UPDATE incidents SET {assignments} WHERE id = ? AND COALESCE({column}, '') = ? RETURNING id",
                [*values.values(), incident_id, was or ""],
            ).fetchall()
            if changed:
                return _incident(rows[0])

    def set_playbook(
        self, incident_id: str, playbook_id: str, actor: str | None = None, why: str = ""
    ) -> Incident:
        """Record the playbook followed (matched, or picked by a person from the runners-up)."""
        with self.backend.write() as db:
            before = self._compare_and_set(db, incident_id, "playbook_id", playbook_id)
            if before is None:
                return self._require(db, incident_id)
            text = f"playbook {playbook_id}" + (f": {why}" if why else "")
            data = {"playbook": playbook_id, "previous": before.playbook_id}
            self._append(db, incident_id, TimelineKind.MATCHED, text, actor, data)
            return self._require(db, incident_id)

    def set_severity(
        self, incident_id: str, severity: Sev | str, by: str | None, why: str
    ) -> Incident | None:
        """Set the SEV, recording who set it (None: the bot) and why; None, and nothing recorded, when it
        already was that SEV (a double click)."""
        sev, why = Sev(severity), redact(why)
        with self.backend.write() as db:
            also = {"severity_by": by, "severity_reason": why}
            before = self._compare_and_set(db, incident_id, "severity", sev.value, also)
            if before is None:
                return None
            was = f" (was {before.severity})" if before.severity else ""
            data = {"severity": sev.value, "previous": before.severity.value if before.severity else None}
            self._append(db, incident_id, TimelineKind.SEVERITY, f"{sev}{was}: {why}", by, data)
            return self._require(db, incident_id)

    def resolve(self, incident_id: str, by: str, note: str = "") -> bool:
        """Resolve an open incident; False (and nothing recorded) when it was already resolved."""
        with self.backend.write() as db:
            self._require(db, incident_id)
            changed = db.execute(
                "UPDATE incidents SET status = ?, resolved_at = ?, resolved_by = ? WHERE id = ? AND status <> ? "
                "RETURNING id",
                [IncidentStatus.RESOLVED.value, self._now(), by, incident_id, IncidentStatus.RESOLVED.value],
            ).fetchall()
            if changed:
                self._append(db, incident_id, TimelineKind.RESOLVED, note or "resolved", by, {})
        return bool(changed)

    # -- timeline ---------------------------------------------------------------------------------

    def append(
        self,
        incident_id: str,
        kind: TimelineKind | str,
        text: str,
        actor: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> TimelineEntry:
        """Record something that happened; text and every string in data are redacted first."""
        checked = _kind(kind)
        with self.backend.write() as db:
            self._require(db, incident_id)
            return self._append(db, incident_id, checked, text, actor, data or {})

    def _append(
        self,
        db: Connection,
        incident_id: str,
        kind: TimelineKind,
        text: str,
        actor: str | None,
        data: dict[str, Any],
    ) -> TimelineEntry:
        at, text, clean = self._now(), redact(text), redact_data(data)
        seq = db.execute(
            "INSERT INTO timeline (incident_id, at, kind, text, actor, data) VALUES (?, ?, ?, ?, ?, ?) RETURNING seq",
            [incident_id, at, kind.value, text, actor, json.dumps(clean, sort_keys=True)],
        ).fetchone()[0]
        return TimelineEntry(int(seq), incident_id, datetime.fromisoformat(at), kind, text, actor, clean)

    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        """Everything recorded for the incident, in the order it happened."""
        with self.backend.read() as db:
            rows = db.rows("SELECT * FROM timeline WHERE incident_id = ? ORDER BY seq", [incident_id])
        return [_entry(row) for row in rows]

    def latest(self, incident_id: str, kind: TimelineKind) -> TimelineEntry | None:
        """The newest entry of one kind (e.g. the last verdict), without reading the whole timeline."""
        with self.backend.read() as db:
            rows = db.rows(
                "SELECT * FROM timeline WHERE incident_id = ? AND kind = ? ORDER BY seq DESC LIMIT 1",
                [incident_id, kind.value],
            )
        return _entry(rows[0]) if rows else None

    # -- things that must happen once -------------------------------------------------------------

    def claim(self, key: str, holder: str | None = None, ttl: timedelta | None = None) -> bool:
        """True for exactly one caller per key (until `ttl` passes, when given; forever otherwise)."""
        if not key:
            raise ValueError("a claim needs a key")
        now = to_utc(self.clock.now())
        expires = iso(now + ttl) if ttl is not None else None
        with self.backend.write() as db:
            # Expired claims go, so the table stays small without a timer; in a transaction of its own, so a
            # sweep never holds row locks while its replica's claim waits on another's (no deadlock).
            db.execute("DELETE FROM claims WHERE expires_at IS NOT NULL AND expires_at <= ?", [iso(now)])
        with self.backend.write() as db:
            # One conditional write decides: a new key is inserted, an expired one taken over, a live one kept.
            won = db.execute(
                "INSERT INTO claims (key, holder, claimed_at, expires_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET holder = excluded.holder, claimed_at = excluded.claimed_at, "
                "expires_at = excluded.expires_at "
                "WHERE claims.expires_at IS NOT NULL AND claims.expires_at <= excluded.claimed_at RETURNING key",
                [key, holder, iso(now), expires],
            ).fetchall()
        return bool(won)

    def put_state(self, kind: str, payload: dict[str, Any], incident_id: str | None = None) -> str:
        """Keep what a button stands for; the returned opaque id is all the button carries."""
        state_id = secrets.token_urlsafe(12)
        with self.backend.write() as db:
            db.execute(
                "INSERT INTO button_states (id, kind, payload, incident_id, created_at) VALUES (?, ?, ?, ?, ?)",
                [state_id, kind, json.dumps(redact_data(payload), sort_keys=True), incident_id, self._now()],
            )
        return state_id

    def states_of(self, incident_id: str) -> dict[str, list[tuple[str, dict[str, Any]]]]:
        """The button states kept for an incident, by kind: (id, payload) each."""
        found: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        with self.backend.read() as db:
            for row in db.rows("SELECT id, kind, payload FROM button_states WHERE incident_id = ? ORDER BY created_at",
                               [incident_id]):  # fmt: skip
                found.setdefault(row["kind"], []).append((row["id"], json.loads(row["payload"])))
        return found

    def get_state(self, state_id: str) -> State | None:
        """What a button's id stands for; None for an id we never issued."""
        with self.backend.read() as db:
            rows = db.rows("SELECT kind, payload FROM button_states WHERE id = ?", [state_id])
        return State(rows[0]["kind"], json.loads(rows[0]["payload"])) if rows else None

    # -- retention --------------------------------------------------------------------------------

    def prune(self, resolved_before: datetime, dry_run: bool = False) -> Pruned:
        """Forget incidents resolved before `resolved_before` (their timeline, buttons and claims), the buttons
        of every resolved incident (pressing one would change nothing now), and buttons that belong to no
        incident (service guesses) issued before that time. With `dry_run`, only count them."""
        cutoff, resolved = iso(resolved_before), IncidentStatus.RESOLVED.value
        old = "SELECT id FROM incidents WHERE status = ? AND resolved_at < ?"
        buttons = (
            "FROM button_states WHERE incident_id IN (SELECT id FROM incidents WHERE status = ?) "
            "OR (incident_id IS NULL AND created_at < ?)"
        )
        with self.backend.write() as db:
            ids = [row["id"] for row in db.rows(old, [resolved, cutoff])]
            states = [row["id"] for row in db.rows(f"SELECT id {buttons}", [resolved, cutoff])]
            entries = db.execute(
                f"SELECT COUNT(*) FROM timeline WHERE incident_id IN ({old})", [resolved, cutoff]
            ).fetchone()[0]
            if not dry_run:
                # The claims that stand for them: a pressed button (`button:<state>`), an offer made in an
                # incident (`offer:<incident>:<playbook>`). Keys are matched in chunks, not one by one.
                for chunk in _chunks([f"button:{s}" for s in states]):
                    db.execute(f"DELETE FROM claims WHERE key IN ({_marks(chunk)})", chunk)
                for incident in ids:  # every key starting `offer:<id>:` (";" sorts right after ":")
                    db.execute(
                        "DELETE FROM claims WHERE key >= ? AND key < ?",
                        [f"offer:{incident}:", f"offer:{incident};"],
                    )
                db.execute(f"DELETE {buttons}", [resolved, cutoff])
                db.execute(f"DELETE FROM timeline WHERE incident_id IN ({old})", [resolved, cutoff])
                db.execute(f"DELETE FROM incidents WHERE id IN ({old})", [resolved, cutoff])
        return Pruned(incidents=len(ids), timeline=int(entries), buttons=len(states))


@dataclass(frozen=True)
class Pruned:
    """What `prune` deleted (or, in a dry run, would delete)."""

    incidents: int
    timeline: int
    buttons: int


def _chunks(items: list[str], size: int = 500) -> list[list[str]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


def _marks(items: list[str]) -> str:
    return ", ".join("?" * len(items))
