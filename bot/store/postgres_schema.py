"""The PostgreSQL store's schema: migrations in lockstep with SQLite's, applied on start under an advisory lock.

Version N means the same shape on both backends: PostgreSQL's MIGRATIONS[N - 1] creates or changes what
bot.store.sqlite's MIGRATIONS[N - 1] does, in PostgreSQL's types (text stays TEXT, times stay the ISO 8601
text bot.store.sql writes and compares, JSON stays TEXT, an identity column stands for SQLite's
`INTEGER PRIMARY KEY`), with the same table, column and index names. tests/test_store_postgres.py compares
the two shapes at every version.

Adding version 3 later is one function appended here and one appended to SQLite's list, each doing the same
change; nothing else moves. The list is append-only: a migration that has shipped is never edited.

`migrate()` runs each pending migration in its own transaction, holding a session-level advisory lock, so
replicas starting together queue behind the first one and find nothing left to do; a database whose version is
newer than this bot knows is refused, and nothing is dropped that a migration does not move first.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import psycopg

from bot.clock import Clock
from bot.errors import StoreError

Migration = Callable[[psycopg.Connection[Any]], None]
MIGRATION_LOCK = 0x63686174_6F707331  # pg_advisory_lock key ("chatops1"): one migrator per database


def _v1(db: psycopg.Connection[Any]) -> None:
    """What SQLite's _v1 creates: incidents, their timeline, Slack event ids, button states, offers."""
    db.execute("""
        CREATE TABLE incidents (
            id TEXT PRIMARY KEY, day TEXT NOT NULL, seq INTEGER NOT NULL, service TEXT NOT NULL,
            symptom TEXT NOT NULL, channel TEXT NOT NULL, thread_ts TEXT, playbook_id TEXT, status TEXT NOT NULL,
            severity TEXT, severity_by TEXT, severity_reason TEXT, created_at TEXT NOT NULL,
            created_by TEXT NOT NULL, resolved_at TEXT, resolved_by TEXT
        )""")
    db.execute("CREATE UNIQUE INDEX idx_incidents_day_seq ON incidents (day, seq)")
    db.execute("CREATE UNIQUE INDEX idx_incidents_channel_thread_ts ON incidents (channel, thread_ts)")
    db.execute("CREATE INDEX idx_incidents_status_created_at ON incidents (status, created_at)")
    db.execute("""
        CREATE TABLE timeline (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            incident_id TEXT NOT NULL REFERENCES incidents (id), at TEXT NOT NULL, kind TEXT NOT NULL,
            text TEXT NOT NULL, actor TEXT, data TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX idx_timeline_incident_id_seq ON timeline (incident_id, seq)")
    db.execute("CREATE TABLE slack_events (event_id TEXT PRIMARY KEY, seen_at TEXT NOT NULL)")
    db.execute("CREATE INDEX idx_slack_events_seen_at ON slack_events (seen_at)")
    db.execute("""
        CREATE TABLE button_states (
            id TEXT PRIMARY KEY, kind TEXT NOT NULL, payload TEXT NOT NULL, created_at TEXT NOT NULL,
            claimed_at TEXT, claimed_by TEXT
        )""")
    db.execute("""
        CREATE TABLE offers (
            incident_id TEXT REFERENCES incidents (id), playbook_id TEXT, offered_at TEXT NOT NULL,
            PRIMARY KEY (incident_id, playbook_id)
        )""")


def _v2(db: psycopg.Connection[Any]) -> None:
    """What SQLite's _v2 does: one `claims` table (from slack_events, offers and button claims), a per-day
    counter row for incident numbers, button states by incident, permalinks."""
    db.execute(
        "CREATE TABLE claims (key TEXT PRIMARY KEY, holder TEXT, claimed_at TEXT NOT NULL, expires_at TEXT)"
    )
    db.execute("CREATE INDEX idx_claims_expires_at ON claims (expires_at)")
    claim = "INSERT INTO claims (key, holder, claimed_at, expires_at) VALUES (%s, %s, %s, %s)"
    # The expiry is computed as SQLite's migration computes it, so both write the same text.
    for event_id, seen_at in db.execute("SELECT event_id, seen_at FROM slack_events").fetchall():
        expires = datetime.fromisoformat(seen_at) + timedelta(hours=1)
        db.execute(
            claim, [f"slack-event:{event_id}", None, seen_at, expires.isoformat(timespec="microseconds")]
        )
    db.execute(
        "INSERT INTO claims (key, holder, claimed_at, expires_at) "
        "SELECT 'offer:' || incident_id || ':' || playbook_id, NULL, offered_at, NULL FROM offers"
    )
    db.execute(
        "INSERT INTO claims (key, holder, claimed_at, expires_at) "
        "SELECT 'button:' || id, claimed_by, claimed_at, NULL FROM button_states WHERE claimed_at IS NOT NULL"
    )
    db.execute("DROP TABLE slack_events")
    db.execute("DROP TABLE offers")
    db.execute("ALTER TABLE button_states ADD COLUMN incident_id TEXT")
    for state_id, payload in db.execute("SELECT id, payload FROM button_states").fetchall():
        incident = json.loads(payload).get("incident")
        db.execute("UPDATE button_states SET incident_id = %s WHERE id = %s", [incident, state_id])
    db.execute("ALTER TABLE button_states DROP COLUMN claimed_at")
    db.execute("ALTER TABLE button_states DROP COLUMN claimed_by")
    db.execute("CREATE INDEX idx_button_states_incident_id ON button_states (incident_id)")
    db.execute("CREATE TABLE incident_counters (day TEXT PRIMARY KEY, seq INTEGER NOT NULL)")
    db.execute("INSERT INTO incident_counters (day, seq) SELECT day, MAX(seq) FROM incidents GROUP BY day")
    db.execute("ALTER TABLE incidents ADD COLUMN permalink TEXT")


def _v3(db: psycopg.Connection[Any]) -> None:
    """What SQLite's _v3 creates: requests for fixes, their approvals, and the append-only audit log."""
    db.execute("""
        CREATE TABLE action_requests (
            id TEXT PRIMARY KEY, incident_id TEXT NOT NULL REFERENCES incidents (id), seq INTEGER NOT NULL,
            playbook_id TEXT NOT NULL, action TEXT NOT NULL, title TEXT NOT NULL, params TEXT NOT NULL,
            preview TEXT NOT NULL, requested_by TEXT NOT NULL, requested_at TEXT NOT NULL, expires_at TEXT NOT NULL,
            needed INTEGER NOT NULL, state TEXT NOT NULL, decided_by TEXT, message_ts TEXT, outcome TEXT NOT NULL,
            verification TEXT NOT NULL, updated_at TEXT NOT NULL
        )""")
    db.execute(
        "CREATE UNIQUE INDEX idx_action_requests_incident_id_seq ON action_requests (incident_id, seq)"
    )
    db.execute("CREATE INDEX idx_action_requests_state ON action_requests (state)")
    db.execute("""
        CREATE TABLE action_approvals (
            request_id TEXT REFERENCES action_requests (id), approver TEXT, at TEXT NOT NULL,
            PRIMARY KEY (request_id, approver)
        )""")
    db.execute("""
        CREATE TABLE audit_log (
            seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at TEXT NOT NULL, incident_id TEXT NOT NULL,
            request_id TEXT, event TEXT NOT NULL, actor TEXT, detail TEXT NOT NULL
        )""")
    db.execute("CREATE INDEX idx_audit_log_incident_id_seq ON audit_log (incident_id, seq)")
    db.execute("""
        CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'the audit log is append-only'; END $$""")
    for verb in ("UPDATE", "DELETE"):
        db.execute(f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                   "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()")  # fmt: skip


def _v4(db: psycopg.Connection[Any]) -> None:
    """What SQLite's _v4 does: the lifecycle columns, the escalation ladder, the outbox, the alert intake."""
    db.execute("UPDATE incidents SET status = 'investigating' WHERE status = 'open'")
    for column in ("title", "commander", "acknowledged_at", "acknowledged_by", "mitigated_at", "detected_at",
                   "alert_key", "source_link"):  # fmt: skip
        db.execute(f"ALTER TABLE incidents ADD COLUMN {column} TEXT")
    db.execute("CREATE INDEX idx_incidents_alert_key_status ON incidents (alert_key, status)")
    db.execute("""
        CREATE TABLE escalations (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, incident_id TEXT NOT NULL REFERENCES incidents (id),
            step INTEGER NOT NULL, tier TEXT NOT NULL, condition TEXT NOT NULL, due_at TEXT NOT NULL,
            state TEXT NOT NULL, fired_at TEXT
        )""")
    db.execute("CREATE INDEX idx_escalations_state_due_at ON escalations (state, due_at)")
    db.execute("CREATE UNIQUE INDEX idx_escalations_incident_id_tier_condition ON escalations "
               "(incident_id, tier, condition)")  # fmt: skip
    db.execute("""
        CREATE TABLE outbox (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, incident_id TEXT NOT NULL, dedup TEXT NOT NULL,
            kind TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL, attempts INTEGER NOT NULL,
            due_at TEXT NOT NULL, claimed_until TEXT, last_error TEXT, created_at TEXT NOT NULL, sent_at TEXT
        )""")
    db.execute("CREATE UNIQUE INDEX idx_outbox_dedup ON outbox (dedup)")
    db.execute("CREATE INDEX idx_outbox_state_due_at ON outbox (state, due_at)")
    db.execute("""
        CREATE TABLE alert_intake (
            id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, received_at TEXT NOT NULL, body TEXT NOT NULL,
            state TEXT NOT NULL, taken_at TEXT
        )""")
    db.execute("CREATE INDEX idx_alert_intake_state_received_at ON alert_intake (state, received_at)")


# Append only: version N is MIGRATIONS[N - 1], doing what bot.store.sqlite.MIGRATIONS[N - 1] does.
MIGRATIONS: list[Migration] = [_v1, _v2, _v3, _v4]


def version(db: psycopg.Connection[Any]) -> int:
    """The database's schema version: 0 for an empty database."""
    exists = db.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = db.execute("SELECT COALESCE(MAX(version), 0) FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(db: psycopg.Connection[Any], clock: Clock, shown: str) -> int:
    """Bring the database to the newest version this bot knows and return it.

    `db` is an autocommit connection of its own (the lock is its session's); `shown` names the database in
    errors, without its password.
    """
    db.execute("SELECT pg_advisory_lock(%s)", [MIGRATION_LOCK])
    try:
        with db.transaction():
            db.execute(
                "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
            )
        current = version(db)
        if current > len(MIGRATIONS):
            raise StoreError(
                f"{shown} has schema version {current}, newer than this bot knows ({len(MIGRATIONS)}): "
                "upgrade the bot or point the store at another database"
            )
        for number in range(current + 1, len(MIGRATIONS) + 1):
            try:
                with db.transaction():
                    MIGRATIONS[number - 1](db)
                    applied = clock.now().isoformat(timespec="microseconds")
                    db.execute(
                        "INSERT INTO schema_version (version, applied_at) VALUES (%s, %s)", [number, applied]
                    )
            except psycopg.errors.DuplicateTable as err:
                # A database the bot did not create (another program's tables): refused, and left as it was.
                raise StoreError(
                    f"{shown} cannot be migrated to schema version {number}: {err.diag.message_primary}; "
                    "point the store at a database of its own"
                ) from None
        return len(MIGRATIONS)
    finally:
        db.execute("SELECT pg_advisory_unlock(%s)", [MIGRATION_LOCK])
