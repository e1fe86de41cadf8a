"""The incident store: incidents and their timelines, Slack event dedupe, button state and offers, in SQLite.

One file (config `store.path`) through sqlite-utils, in WAL mode, its schema created and migrated on open.
Each thread gets its own connection (Bolt runs listeners on a thread pool). What must happen once (a
retried Slack event, a double-clicked button, an offer) is a single conditional write whose row count says
who won, so it holds across threads and across processes sharing the file. Multi-step writes run under
`BEGIN IMMEDIATE`. Free text is redacted before it is stored.

The lifecycle methods (`open_incident`, `set_playbook`, `set_severity`, `resolve`) record their own
timeline entries; everything else the caller records with `append`.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

from sqlite_utils import Database

from bot.config import Config
from bot.errors import ChatOpsError, UnknownNameError
from bot.incidents import (
    Clock,
    Incident,
    IncidentStatus,
    TimelineEntry,
    TimelineKind,
    incident_id,
    redact_data,
    to_utc,
    utc_now,
)
from bot.redaction import redact
from bot.severity import Sev

EVENT_RETENTION = timedelta(hours=1)  # Slack retries for 5 minutes; keep ids well beyond that
BUSY_TIMEOUT_S = 10.0  # how long a writer waits for another's transaction before failing


class StoreError(ChatOpsError):
    """The store file cannot be used (e.g. written by a newer version of the bot)."""


class UnknownIncidentError(UnknownNameError):
    """An incident id the store does not hold."""

    def __init__(self, incident_id: str) -> None:
        ChatOpsError.__init__(self, f"unknown incident '{incident_id}'")
        self.kind, self.name, self.known = "incident", incident_id, []


class State(NamedTuple):
    """What a button's opaque id stands for."""

    kind: str
    payload: dict[str, Any]


def _v1(db: Database) -> None:
    incidents = db.table("incidents")
    incidents.create(
        {
            "id": str, "day": str, "seq": int, "service": str, "symptom": str, "channel": str,
            "thread_ts": str, "playbook_id": str, "status": str, "severity": str, "severity_by": str,
            "severity_reason": str, "created_at": str, "created_by": str, "resolved_at": str,
            "resolved_by": str,
        },
        pk="id",
        not_null={"day", "seq", "service", "symptom", "channel", "status", "created_at", "created_by"},
    )  # fmt: skip
    incidents.create_index(["day", "seq"], unique=True)
    incidents.create_index(["channel", "thread_ts"], unique=True)
    incidents.create_index(["status", "created_at"])
    db.table("timeline").create(
        {"seq": int, "incident_id": str, "at": str, "kind": str, "text": str, "actor": str, "data": str},
        pk="seq",
        not_null={"incident_id", "at", "kind", "text", "data"},
        foreign_keys=[("incident_id", "incidents", "id")],
    )
    db.table("timeline").create_index(["incident_id", "seq"])
    db.table("slack_events").create({"event_id": str, "seen_at": str}, pk="event_id", not_null={"seen_at"})
    db.table("slack_events").create_index(["seen_at"])
    db.table("button_states").create(
        {"id": str, "kind": str, "payload": str, "created_at": str, "claimed_at": str, "claimed_by": str},
        pk="id",
        not_null={"kind", "payload", "created_at"},
    )
    db.table("offers").create(
        {"incident_id": str, "playbook_id": str, "offered_at": str},
        pk=("incident_id", "playbook_id"),
        not_null={"offered_at"},
        foreign_keys=[("incident_id", "incidents", "id")],
    )


# Append only: version N is MIGRATIONS[N - 1]; never edit one that has shipped.
MIGRATIONS: list[Callable[[Database], None]] = [_v1]


def _iso(when: datetime) -> str:
    return to_utc(when).isoformat(timespec="microseconds")


def _time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _incident(row: dict[str, Any]) -> Incident:
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
        playbook_id=row["playbook_id"],
        severity=Sev(row["severity"]) if row["severity"] else None,
        severity_by=row["severity_by"],
        severity_reason=row["severity_reason"],
        resolved_at=_time(row["resolved_at"]),
        resolved_by=row["resolved_by"],
    )


def _entry(row: dict[str, Any]) -> TimelineEntry:
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


def _kind(kind: str) -> TimelineKind:
    try:
        return TimelineKind(kind)
    except ValueError:
        known = ", ".join(k.value for k in TimelineKind)
        raise ValueError(f"unknown timeline kind {kind!r}; expected one of {known}") from None


class Store:
    """The bot's memory: survives restarts, safe to share between threads (and processes) on one file."""

    def __init__(
        self, path: str | Path, clock: Clock = utc_now, *, event_retention: timedelta = EVENT_RETENTION
    ) -> None:
        if event_retention < EVENT_RETENTION:
            raise ValueError(f"Slack event ids must be kept at least {EVENT_RETENTION}")
        self.path = Path(path)
        self.clock = clock
        self.event_retention = event_retention
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[Database] = []
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._migrate()
        except BaseException:
            self.close()
            raise

    @classmethod
    def from_config(cls, config: Config, clock: Clock = utc_now) -> Store:
        """The store at the config's `store.path` (relative paths are relative to the working directory)."""
        return cls(config.store.path, clock)

    # -- connections and schema -------------------------------------------------------------------

    def _db(self) -> Database:
        db: Database | None = getattr(self._local, "db", None)
        if db is None:
            with self._lock:
                if self._closed:
                    raise StoreError(f"the store {self.path} is closed")
                # Used by this thread only; check_same_thread=False lets close() close every thread's.
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, check_same_thread=False)
                db = Database(conn)
                db.execute("PRAGMA foreign_keys = ON")
                self._connections.append(db)
            self._local.db = db
        return db

    @contextmanager
    def _write(self) -> Iterator[Database]:
        """A transaction that holds the write lock from its start, so read-then-write steps cannot race."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.rollback()
            raise
        db.commit()

    def _migrate(self) -> None:
        self._db().enable_wal()
        with self._write() as db:
            db.table("schema_version").create(
                {"version": int, "applied_at": str}, pk="version", not_null={"applied_at"}, if_not_exists=True
            )
            current = self._version(db)
            if current > len(MIGRATIONS):
                raise StoreError(
                    f"{self.path} has schema version {current}, newer than this bot knows "
                    f"({len(MIGRATIONS)}): upgrade the bot or point store.path at another file"
                )
            for version in range(current + 1, len(MIGRATIONS) + 1):
                MIGRATIONS[version - 1](db)
                db.table("schema_version").insert({"version": version, "applied_at": self._now()})

    @staticmethod
    def _version(db: Database) -> int:
        return int(db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])

    @property
    def schema_version(self) -> int:
        return self._version(self._db())

    def close(self) -> None:
        """Close every thread's connection; call once the threads using the store have stopped."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for db in connections:
            db.close()
        self._local = threading.local()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _now(self) -> str:
        return _iso(self.clock())

    # -- incidents --------------------------------------------------------------------------------

    def open_incident(self, service: str, symptom: str, channel: str, created_by: str) -> Incident:
        """Open an incident numbered after the others opened the same (UTC) day."""
        now = to_utc(self.clock())
        day = now.date()
        symptom = redact(symptom)
        with self._write() as db:
            seq = db.execute(
                "SELECT COALESCE(MAX(seq), 0) + 1 FROM incidents WHERE day = ?", [day.isoformat()]
            ).fetchone()[0]
            incident = Incident(incident_id(day, seq), service, symptom, channel, created_by, now)
            db.table("incidents").insert(
                {
                    "id": incident.id, "day": day.isoformat(), "seq": seq, "service": service,
                    "symptom": symptom, "channel": channel, "status": incident.status.value,
                    "created_at": _iso(now), "created_by": created_by,
                }
            )  # fmt: skip
            data = {"service": service, "channel": channel}
            self._append(db, incident.id, TimelineKind.OPENED, f"{service}: {symptom}", created_by, data)
        return incident

    def get(self, incident_id: str) -> Incident | None:
        rows = list(self._db().query("SELECT * FROM incidents WHERE id = ?", [incident_id]))
        return _incident(rows[0]) if rows else None

    def by_thread(self, channel: str, thread_ts: str) -> Incident | None:
        """The incident whose root message is this one (how thread replies and mentions find theirs)."""
        rows = self._db().query(
            "SELECT * FROM incidents WHERE channel = ? AND thread_ts = ?", [channel, thread_ts]
        )
        return next((_incident(row) for row in rows), None)

    def list_open(self) -> list[Incident]:
        """Open incidents, oldest first."""
        rows = self._db().query("SELECT * FROM incidents WHERE status = ? ORDER BY created_at, id", ["open"])
        return [_incident(row) for row in rows]

    def _require(self, db: Database, incident_id: str) -> Incident:
        rows = list(db.query("SELECT * FROM incidents WHERE id = ?", [incident_id]))
        if not rows:
            raise UnknownIncidentError(incident_id)
        return _incident(rows[0])

    def set_thread(self, incident_id: str, thread_ts: str) -> Incident:
        """Remember the root message's ts once it is posted: the incident's thread from then on."""
        with self._write() as db:
            self._require(db, incident_id)
            db.table("incidents").update(incident_id, {"thread_ts": thread_ts})
            return self._require(db, incident_id)

    def set_playbook(
        self, incident_id: str, playbook_id: str, actor: str | None = None, why: str = ""
    ) -> Incident:
        """Record the playbook followed (matched, or picked by a person from the runners-up)."""
        with self._write() as db:
            before = self._require(db, incident_id)
            if before.playbook_id == playbook_id:
                return before
            db.table("incidents").update(incident_id, {"playbook_id": playbook_id})
            text = f"playbook {playbook_id}" + (f": {why}" if why else "")
            data = {"playbook": playbook_id, "previous": before.playbook_id}
            self._append(db, incident_id, TimelineKind.MATCHED, text, actor, data)
            return self._require(db, incident_id)

    def set_severity(
        self, incident_id: str, severity: Sev | str, by: str | None, why: str
    ) -> Incident | None:
        """Set the SEV, recording who set it (None: the bot's suggestion) and why; None (and nothing recorded)
        when it already was that SEV, as after a double click."""
        sev, why = Sev(severity), redact(why)
        with self._write() as db:
            before = self._require(db, incident_id)
            if before.severity == sev:
                return None
            db.table("incidents").update(
                incident_id, {"severity": sev.value, "severity_by": by, "severity_reason": why}
            )
            was = f" (was {before.severity})" if before.severity and before.severity != sev else ""
            data = {"severity": sev.value, "previous": before.severity.value if before.severity else None}
            self._append(db, incident_id, TimelineKind.SEVERITY, f"{sev}{was}: {why}", by, data)
            return self._require(db, incident_id)

    def resolve(self, incident_id: str, by: str, note: str = "") -> bool:
        """Resolve an open incident; False (and nothing recorded) when it was already resolved."""
        now = self._now()
        with self._write() as db:
            self._require(db, incident_id)
            changed = db.execute(
                "UPDATE incidents SET status = ?, resolved_at = ?, resolved_by = ? WHERE id = ? AND status = ?",
                ["resolved", now, by, incident_id, "open"],
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
        with self._write() as db:
            self._require(db, incident_id)
            return self._append(db, incident_id, checked, text, actor, data or {})

    def _append(
        self,
        db: Database,
        incident_id: str,
        kind: TimelineKind,
        text: str,
        actor: str | None,
        data: dict[str, Any],
    ) -> TimelineEntry:
        at, text, clean = self._now(), redact(text), redact_data(data)
        cursor = db.execute(
            "INSERT INTO timeline (incident_id, at, kind, text, actor, data) VALUES (?, ?, ?, ?, ?, ?)",
            [incident_id, at, kind.value, text, actor, json.dumps(clean, sort_keys=True)],
        )
        assert cursor.lastrowid is not None
        return TimelineEntry(
            cursor.lastrowid, incident_id, datetime.fromisoformat(at), kind, text, actor, clean
        )

    def timeline(self, incident_id: str) -> list[TimelineEntry]:
        """Everything recorded for the incident, in the order it happened."""
        rows = self._db().query("SELECT * FROM timeline WHERE incident_id = ? ORDER BY seq", [incident_id])
        return [_entry(row) for row in rows]

    # -- things that must happen once -------------------------------------------------------------

    def seen_event(self, event_id: str) -> bool:
        """Record a Slack event id; True if it was already recorded (a retry: do nothing)."""
        if not event_id:
            raise ValueError("a Slack event id is required")
        now = to_utc(self.clock())
        with self._write() as db:
            # Expired ids go first, so the table stays small without a timer.
            db.execute("DELETE FROM slack_events WHERE seen_at < ?", [_iso(now - self.event_retention)])
            inserted = db.execute(
                "INSERT OR IGNORE INTO slack_events (event_id, seen_at) VALUES (?, ?)", [event_id, _iso(now)]
            ).rowcount
        return inserted == 0

    def prune(self, older_than: timedelta = EVENT_RETENTION) -> int:
        """Forget Slack event ids recorded longer ago than `older_than` (at least an hour); how many."""
        if older_than < EVENT_RETENTION:
            raise ValueError(f"Slack event ids must be kept at least {EVENT_RETENTION}")
        cutoff = _iso(to_utc(self.clock()) - older_than)
        return int(self._db().execute("DELETE FROM slack_events WHERE seen_at < ?", [cutoff]).rowcount)

    def put_state(self, kind: str, payload: dict[str, Any]) -> str:
        """Keep what a button stands for; the returned opaque id is all the button carries."""
        state_id = secrets.token_urlsafe(12)
        self._db().table("button_states").insert(
            {
                "id": state_id,
                "kind": kind,
                "payload": json.dumps(payload, sort_keys=True),
                "created_at": self._now(),
            }
        )
        return state_id

    def get_state(self, state_id: str) -> State | None:
        """What a button's id stands for; None for an id we never issued."""
        rows = list(self._db().query("SELECT kind, payload FROM button_states WHERE id = ?", [state_id]))
        return State(rows[0]["kind"], json.loads(rows[0]["payload"])) if rows else None

    def claim_state(self, state_id: str, by: str | None = None) -> bool:
        """Use a button's state; True for exactly one caller, False on a double click or an unknown id."""
        cursor = self._db().execute(
            "UPDATE button_states SET claimed_at = ?, claimed_by = ? WHERE id = ? AND claimed_at IS NULL",
            [self._now(), by, state_id],
        )
        return cursor.rowcount == 1

    def offer_once(self, incident_id: str, playbook_id: str) -> bool:
        """True the first time a playbook's fixes are offered in an incident, False after."""
        with self._write() as db:
            self._require(db, incident_id)
            inserted = db.execute(
                "INSERT OR IGNORE INTO offers (incident_id, playbook_id, offered_at) VALUES (?, ?, ?)",
                [incident_id, playbook_id, self._now()],
            ).rowcount
        return inserted == 1
