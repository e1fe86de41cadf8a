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

EVENT_RETENTION = timedelta(hours=1)  # Slack retries for 5 minutes; keep ids well beyond that


def iso(when: datetime) -> str:
    return to_utc(when).isoformat(timespec="microseconds")


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _incident(row: Row) -> Incident:
    created_at = _time(row["created_at"])
    assert created_at is not None  # NOT NULL in the schema
    return Incident(
        id=row["id"],
        service=row["service"],
        symptom=row["symptom"],
        channel=row["channel"],
        created_by=row["created_by"],
        created_at=created_at,
        status=IncidentStatus(row["status"]),
        thread_ts=row["thread_ts"],
        permalink=row["permalink"],
        playbook_id=row["playbook_id"],
        severity=Sev(row["severity"]) if row["severity"] else None,
        severity_by=row["severity_by"],
        severity_reason=row["severity_reason"],
        resolved_at=_time(row["resolved_at"]),
        resolved_by=row["resolved_by"],
    )


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


class SqlStore:
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

    def open_incident(self, service: str, symptom: str, channel: str, created_by: str) -> Incident:
        """Open an incident numbered after the others opened the same (UTC) day."""
        now = to_utc(self.clock.now())
        day, symptom = now.date(), redact(symptom)
        with self.backend.write() as db:
            # The counter row is the only thing two openers contend on: numbering needs no table lock.
            seq = db.execute(
                "INSERT INTO incident_counters (day, seq) VALUES (?, 1) "
                "ON CONFLICT (day) DO UPDATE SET seq = incident_counters.seq + 1 RETURNING seq",
                [day.isoformat()],
            ).fetchone()[0]
            incident = Incident(incident_id(day, seq), service, symptom, channel, created_by, now)
            db.execute(
                "INSERT INTO incidents (id, day, seq, service, symptom, channel, status, created_at, created_by) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [incident.id, day.isoformat(), seq, service, symptom, channel, incident.status.value,
                 iso(now), created_by],
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
            before = self._require(db, incident_id)
            db.execute(
                "UPDATE incidents SET thread_ts = ?, permalink = ?, channel = ? WHERE id = ?",
                [thread_ts, permalink, channel or before.channel, incident_id],
            )
            return self._require(db, incident_id)

    def set_playbook(
        self, incident_id: str, playbook_id: str, actor: str | None = None, why: str = ""
    ) -> Incident:
        """Record the playbook followed (matched, or picked by a person from the runners-up)."""
        with self.backend.write() as db:
            before = self._require(db, incident_id)
            if before.playbook_id == playbook_id:
                return before
            db.execute("UPDATE incidents SET playbook_id = ? WHERE id = ?", [playbook_id, incident_id])
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
            before = self._require(db, incident_id)
            changed = db.execute(
                "UPDATE incidents SET severity = ?, severity_by = ?, severity_reason = ? "
                "WHERE id = ? AND (severity IS NULL OR severity <> ?)",
                [sev.value, by, why, incident_id, sev.value],
            ).rowcount
            if not changed:
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
                "UPDATE incidents SET status = ?, resolved_at = ?, resolved_by = ? WHERE id = ? AND status <> ?",
                [IncidentStatus.RESOLVED.value, self._now(), by, incident_id, IncidentStatus.RESOLVED.value],
            ).rowcount
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
            # Expired claims go first, so the table stays small without a timer.
            db.execute("DELETE FROM claims WHERE expires_at IS NOT NULL AND expires_at <= ?", [iso(now)])
            won = db.execute(
                "INSERT INTO claims (key, holder, claimed_at, expires_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (key) DO NOTHING",
                [key, holder, iso(now), expires],
            ).rowcount
        return won == 1

    def put_state(self, kind: str, payload: dict[str, Any], incident_id: str | None = None) -> str:
        """Keep what a button stands for; the returned opaque id is all the button carries."""
        state_id = secrets.token_urlsafe(12)
        with self.backend.write() as db:
            db.execute(
                "INSERT INTO button_states (id, kind, payload, incident_id, created_at) VALUES (?, ?, ?, ?, ?)",
                [state_id, kind, json.dumps(redact_data(payload), sort_keys=True), incident_id, self._now()],
            )
        return state_id

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
