"""The SQLite backend: one file through sqlite-utils, in WAL mode, its schema created and migrated on open.

Each thread gets its own connection (Bolt and the runner use thread pools); worker processes open the same
file. Writes run under `BEGIN IMMEDIATE`, so a read-then-write step holds the write lock from its start.
Migrations are append-only: version N is MIGRATIONS[N - 1], never edited once shipped, and a file written by a
newer bot is refused rather than guessed at.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from bot.clock import Clock
from bot.errors import StoreError
from bot.store.base import Row

BUSY_TIMEOUT_S = 10.0  # how long a writer waits for another process's transaction before failing
WRITER_WAIT_S = 60.0  # how long a writer waits for this process's others (they queue, they do not poll)


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


def _v2(db: Database) -> None:
    """One `claims` table for everything that happens once; numbering by a per-day counter row; permalinks."""
    # Plain SQL for the data: sqlite-utils' insert/transform commit on their own, mid-migration.
    db.table("claims").create(
        {"key": str, "holder": str, "claimed_at": str, "expires_at": str}, pk="key", not_null={"claimed_at"}
    )
    db.table("claims").create_index(["expires_at"])
    claim = "INSERT INTO claims (key, holder, claimed_at, expires_at) VALUES (?, ?, ?, ?)"
    for row in db.query("SELECT event_id, seen_at FROM slack_events"):
        expires = datetime.fromisoformat(row["seen_at"]) + timedelta(hours=1)
        db.execute(claim, [f"slack-event:{row['event_id']}", None, row["seen_at"],
                           expires.isoformat(timespec="microseconds")])  # fmt: skip
    for row in db.query("SELECT incident_id, playbook_id, offered_at FROM offers"):
        db.execute(claim, [f"offer:{row['incident_id']}:{row['playbook_id']}", None, row["offered_at"], None])
    for row in db.query("SELECT id, claimed_at, claimed_by FROM button_states WHERE claimed_at IS NOT NULL"):
        db.execute(claim, [f"button:{row['id']}", row["claimed_by"], row["claimed_at"], None])
    db.execute("DROP TABLE slack_events")
    db.execute("DROP TABLE offers")
    db.table("button_states").add_column("incident_id", str)
    for row in db.query("SELECT id, payload FROM button_states"):
        incident = json.loads(row["payload"]).get("incident")
        db.execute("UPDATE button_states SET incident_id = ? WHERE id = ?", [incident, row["id"]])
    db.execute("ALTER TABLE button_states DROP COLUMN claimed_at")
    db.execute("ALTER TABLE button_states DROP COLUMN claimed_by")
    db.table("button_states").create_index(["incident_id"])
    db.table("incident_counters").create({"day": str, "seq": int}, pk="day", not_null={"seq"})
    db.execute("INSERT INTO incident_counters (day, seq) SELECT day, MAX(seq) FROM incidents GROUP BY day")
    db.table("incidents").add_column("permalink", str)


def _v3(db: Database) -> None:
    """Requests for fixes with their approvals, and the append-only audit log."""
    db.table("action_requests").create(
        {
            "id": str, "incident_id": str, "seq": int, "playbook_id": str, "action": str, "title": str,
            "params": str, "preview": str, "requested_by": str, "requested_at": str, "expires_at": str,
            "needed": int, "state": str, "decided_by": str, "message_ts": str, "outcome": str,
            "verification": str, "updated_at": str,
        },
        pk="id",
        not_null={"incident_id", "seq", "playbook_id", "action", "title", "params", "preview", "requested_by",
                  "requested_at", "expires_at", "needed", "state", "outcome", "verification", "updated_at"},
        foreign_keys=[("incident_id", "incidents", "id")],
    )  # fmt: skip
    db.table("action_requests").create_index(["incident_id", "seq"], unique=True)
    db.table("action_requests").create_index(["state"])
    db.table("action_approvals").create(
        {"request_id": str, "approver": str, "at": str}, pk=("request_id", "approver"), not_null={"at"},
        foreign_keys=[("request_id", "action_requests", "id")],
    )  # fmt: skip
    db.table("audit_log").create(
        {
            "seq": int,
            "at": str,
            "incident_id": str,
            "request_id": str,
            "event": str,
            "actor": str,
            "detail": str,
        },
        pk="seq",
        not_null={"at", "incident_id", "event", "detail"},
    )
    db.table("audit_log").create_index(["incident_id", "seq"])
    for verb in ("UPDATE", "DELETE"):  # append-only, whatever the code above it does
        db.execute(
            f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
        )


def _v4(db: Database) -> None:
    """The incident lifecycle (acknowledged, mitigated, commander...), the escalation ladder, the outbox, and
    Alertmanager's deliveries as received (kept before they are answered)."""
    db.execute("UPDATE incidents SET status = 'investigating' WHERE status = 'open'")
    incidents = db.table("incidents")
    for column in ("title", "commander", "acknowledged_at", "acknowledged_by", "mitigated_at", "detected_at",
                   "alert_key", "source_link"):  # fmt: skip
        incidents.add_column(column, str)
    incidents.create_index(["alert_key", "status"])
    db.table("escalations").create(
        {"id": int, "incident_id": str, "step": int, "tier": str, "condition": str, "due_at": str, "state": str,
         "fired_at": str},
        pk="id",
        not_null={"incident_id", "step", "tier", "condition", "due_at", "state"},
        foreign_keys=[("incident_id", "incidents", "id")],
    )  # fmt: skip
    db.table("escalations").create_index(["state", "due_at"])
    db.table("escalations").create_index(["incident_id", "tier", "condition"], unique=True)  # each fires once
    db.table("outbox").create(
        {"id": int, "incident_id": str, "dedup": str, "kind": str, "payload": str, "state": str, "attempts": int,
         "due_at": str, "claimed_until": str, "last_error": str, "created_at": str, "sent_at": str},
        pk="id",
        not_null={"incident_id", "dedup", "kind", "payload", "state", "attempts", "due_at", "created_at"},
    )  # fmt: skip
    db.table("outbox").create_index(["dedup"], unique=True)
    db.table("outbox").create_index(["state", "due_at"])
    db.table("alert_intake").create(
        {"id": int, "received_at": str, "body": str, "state": str, "taken_at": str},
        pk="id",
        not_null={"received_at", "body", "state"},
    )
    db.table("alert_intake").create_index(["state", "received_at"])


# Append only: version N is MIGRATIONS[N - 1]; never edit one that has shipped.
MIGRATIONS: list[Callable[[Database], None]] = [_v1, _v2, _v3, _v4]


class _Connection:
    """A sqlite3 connection speaking the store's Connection protocol (rows as dicts)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, list(params))

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [dict(row) for row in self.conn.execute(sql, list(params))]


class SqliteBackend:
    """Connections to one SQLite file, safe to share between threads (and processes on the same file)."""

    def __init__(self, path: str | Path, clock: Clock) -> None:
        self.path = Path(path)
        self.url = f"sqlite:///{self.path}"
        self.clock = clock
        self._local = threading.local()
        self._lock = threading.Lock()
        # This process's writers take turns here before asking SQLite for its write lock. SQLite's waiters poll,
        # and a thread holding the write lock still needs the interpreter lock to commit: with dozens of threads
        # polling, a holder was starved and others waited past the busy timeout ("database is locked").
        self._writer = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._migrate()
        except sqlite3.DatabaseError as err:
            self.close()
            raise StoreError(f"the store {self.path} cannot be used: {err}") from None
        except BaseException:
            self.close()
            raise

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            with self._lock:
                if self._closed:
                    raise StoreError(f"the store {self.path} is closed")
                # Autocommit: transactions are explicit. check_same_thread=False lets close() close them all.
                conn = sqlite3.connect(
                    self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
                )
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA foreign_keys = ON")
                self._connections.append(conn)
            self._local.conn = conn
        return conn

    @contextmanager
    def read(self) -> Iterator[_Connection]:
        yield _Connection(self._conn())

    @contextmanager
    def write(self) -> Iterator[_Connection]:
        conn = self._conn()
        if not self._writer.acquire(timeout=WRITER_WAIT_S):
            raise StoreError(f"the store {self.path} is busy: no write for {WRITER_WAIT_S:g} s")
        try:
            conn.execute("BEGIN IMMEDIATE")  # the other processes' writers: SQLite's busy timeout
            try:
                yield _Connection(conn)
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        finally:
            self._writer.release()

    def _migrate(self) -> None:
        conn = self._conn()
        db = Database(conn)
        db.enable_wal()
        with self.write():
            db.table("schema_version").create(
                {"version": int, "applied_at": str}, pk="version", not_null={"applied_at"}, if_not_exists=True
            )
            current = self.version(conn)
            if current > len(MIGRATIONS):
                raise StoreError(
                    f"{self.path} has schema version {current}, newer than this bot knows "
                    f"({len(MIGRATIONS)}): upgrade the bot or point the store at another file"
                )
            for version in range(current + 1, len(MIGRATIONS) + 1):
                MIGRATIONS[version - 1](db)
                applied = self.clock.now().isoformat(timespec="microseconds")
                conn.execute(
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)", [version, applied]
                )

    @staticmethod
    def version(conn: sqlite3.Connection) -> int:
        return int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()[0])

    @property
    def schema_version(self) -> int:
        return self.version(self._conn())

    def close(self) -> None:
        """Close every thread's connection; call once the threads using the store have stopped."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()
