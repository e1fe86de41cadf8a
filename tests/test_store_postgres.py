"""The PostgreSQL backend's own promises: replicas (each its own connection pool) racing on the same incident, claim
or number get exactly-once results; the schema has SQLite's shape at every version, is upgraded in place from what
an earlier version wrote, migrated once when replicas start together, and refused (with advice) when a newer bot
wrote it. `chatops store migrate` and `version` are run here on both backends. The behaviour every backend shares
runs in tests/test_store.py."""

from __future__ import annotations

import itertools
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from conftest import ROOT
from postgres_server import PostgresServer
from sqlite_utils import Database
from test_store import all_at_once

from bot import cli
from bot.clock import ManualClock
from bot.errors import StoreError
from bot.incidents import TimelineKind
from bot.severity import Sev
from bot.store import SqlStore, open_store, postgres_schema
from bot.store import sqlite as sqlite_schema
from bot.store.postgres import PostgresBackend, to_pyformat

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def replicas(postgres_url: str, clock: ManualClock) -> Iterator[tuple[SqlStore, SqlStore]]:
    """Two bots on one database, each with its own connection pool (as two pods have)."""
    with open_store(postgres_url, clock) as one, open_store(postgres_url, clock) as two:
        yield one, two


def on_replicas(replicas: tuple[SqlStore, SqlStore], n: int, work: Callable[[SqlStore], Any]) -> list[Any]:
    """`work` on n threads released together, alternating between the replicas."""
    turns = iter(range(n))
    lock = threading.Lock()

    def next_replica() -> SqlStore:
        with lock:
            return replicas[next(turns) % 2]

    return all_at_once(n, lambda: work(next_replica()))


def sql(url: str, statement: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    """One statement straight to the database, as an operator's psql session would send it."""
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else []


# -- placeholders ---------------------------------------------------------------------------------


def test_placeholders_become_psycopgs_and_quoted_text_is_left_alone() -> None:
    assert to_pyformat("SELECT * FROM t WHERE a = ? AND b <> ?") == "SELECT * FROM t WHERE a = %s AND b <> %s"
    assert to_pyformat("SELECT '?', 'it''s ?', \"odd?\" FROM t WHERE c = ?") == (
        "SELECT '?', 'it''s ?', \"odd?\" FROM t WHERE c = %s"
    )
    assert to_pyformat("SELECT 7 % 2, '100%' -- why?\n, ? /* what? */") == (
        "SELECT 7 %% 2, '100%%' -- why?\n, %s /* what? */"
    )


def test_quoted_question_marks_and_percent_signs_reach_the_database_as_written(
    postgres_url: str, clock: ManualClock
) -> None:
    backend = PostgresBackend(postgres_url, clock)
    try:
        with backend.read() as db:
            rows = db.rows("SELECT '?' AS q, '100%' AS p, 7 % 2 AS m, ? AS v", ["x"])
            assert db.execute("SELECT 'no parameters: 5%'").fetchone() == ("no parameters: 5%",)
    finally:
        backend.close()
    assert rows == [{"q": "?", "p": "100%", "m": 1, "v": "x"}]


# -- URLs and reachability ------------------------------------------------------------------------


def test_both_url_schemes_open_the_same_database(postgres_url: str, clock: ManualClock) -> None:
    with open_store(postgres_url, clock) as store:
        incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    other_spelling = postgres_url.replace("postgresql://", "postgres://", 1)
    with open_store(other_spelling, clock) as store:
        assert store.get(incident.id) == incident


def test_an_unreachable_server_is_a_store_error_that_shows_no_password(postgres: PostgresServer) -> None:
    with psycopg.connect(postgres.url(), autocommit=True) as conn:
        conn.execute("CREATE ROLE bot LOGIN PASSWORD 's3cr3tP4ss'")
    url = f"postgresql://bot:s3cr3tP4ss@127.0.0.1:{postgres.port}/no_such_database"
    with pytest.raises(StoreError, match=r"cannot be used.*no_such_database") as caught:
        open_store(url)
    assert "s3cr3tP4ss" not in str(caught.value)


def test_a_stopped_store_says_so(postgres_url: str, clock: ManualClock) -> None:
    store = open_store(postgres_url, clock)
    store.close()
    with pytest.raises(StoreError, match="cannot be used"):
        store.ping()


# -- replicas racing ------------------------------------------------------------------------------


def test_replicas_opening_incidents_together_get_distinct_numbers(
    replicas: tuple[SqlStore, SqlStore],
) -> None:
    ids = on_replicas(replicas, 20, lambda store: store.open_incident("api-gateway", "504s", "C1", "U1").id)
    assert sorted(ids) == [f"INC-20261123-{n:04d}" for n in range(1, 21)]


def test_a_slack_retry_reaching_both_replicas_is_handled_once(replicas: tuple[SqlStore, SqlStore]) -> None:
    won = on_replicas(replicas, 20, lambda store: store.claim("slack-event:Ev0RACE", ttl=timedelta(hours=1)))
    assert won.count(True) == 1


def test_an_expired_claim_is_taken_again_by_exactly_one_replica(
    replicas: tuple[SqlStore, SqlStore], clock: ManualClock
) -> None:
    one, two = replicas
    assert one.claim("escalation:INC-1:team-lead", "pod-a", ttl=timedelta(minutes=5)) is True
    clock.advance(timedelta(minutes=6))
    won = on_replicas(
        replicas,
        20,
        lambda store: store.claim("escalation:INC-1:team-lead", "pod-b", ttl=timedelta(minutes=5)),
    )
    assert won.count(True) == 1
    assert two.claim("escalation:INC-1:team-lead", "pod-c") is False


def test_severity_changes_racing_on_two_replicas_each_name_the_one_they_replaced(
    replicas: tuple[SqlStore, SqlStore],
) -> None:
    """Each SEV entry says what it was before: the chain of entries never skips or repeats a change."""
    one, _ = replicas
    incident = one.open_incident("api-gateway", "504s", "C1", "U1")
    levels = iter([Sev.SEV1, Sev.SEV2, Sev.SEV3, Sev.SEV4] * 5)
    lock = threading.Lock()

    def pick() -> Sev:
        with lock:
            return next(levels)

    on_replicas(replicas, 20, lambda store: store.set_severity(incident.id, pick(), "U2", "triage"))
    changes = [e.data for e in one.timeline(incident.id) if e.kind is TimelineKind.SEVERITY]
    assert changes, "at least one change is recorded"
    assert changes[0]["previous"] is None
    for before, after in itertools.pairwise(changes):
        assert after["previous"] == before["severity"] != after["severity"]
    final = one.get(incident.id)
    assert final is not None and final.severity == Sev(changes[-1]["severity"])


def test_a_playbook_picked_on_two_replicas_at_once_is_recorded_once(
    replicas: tuple[SqlStore, SqlStore],
) -> None:
    one, _ = replicas
    incident = one.open_incident("api-gateway", "504s", "C1", "U1")
    on_replicas(replicas, 20, lambda store: store.set_playbook(incident.id, "ai-platform/5xx-errors", "U2"))
    matched = [e for e in one.timeline(incident.id) if e.kind is TimelineKind.MATCHED]
    assert [(e.text, e.data["previous"]) for e in matched] == [("playbook ai-platform/5xx-errors", None)]


# -- the schema -----------------------------------------------------------------------------------


def sqlite_shape(version: int, tmp_path: Path) -> dict[str, Any]:
    """Tables -> columns (type, required) and indexes (columns, unique) after SQLite's first `version` migrations."""
    db = Database(tmp_path / f"v{version}.db")
    for migration in sqlite_schema.MIGRATIONS[:version]:
        migration(db)
    shape: dict[str, Any] = {}
    for table in db.tables:
        columns = {c.name: (c.type.lower(), bool(c.notnull or c.is_pk)) for c in table.columns}
        indexes = {(tuple(ix.columns), bool(ix.unique)) for ix in table.indexes if ix.origin != "pk"}
        shape[table.name] = (columns, indexes)
    db.close()
    return shape


def postgres_shape(version: int, url: str) -> dict[str, Any]:
    types = {"text": "text", "integer": "integer", "bigint": "integer"}
    with psycopg.connect(url) as conn:
        for migration in postgres_schema.MIGRATIONS[:version]:
            migration(conn)
        tables = [t for (t,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
        shape: dict[str, Any] = {}
        for table in tables:
            rows = conn.execute(
                "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = %s",
                [table],
            ).fetchall()
            columns = {name: (types[kind], nullable == "NO") for name, kind, nullable in rows}
            indexes = conn.execute(
                "SELECT array_agg(a.attname ORDER BY k.n), i.indisunique FROM pg_index i "
                "JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, n) ON true "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum "
                "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary GROUP BY i.indexrelid, i.indisunique",
                [table],
            ).fetchall()
            shape[table] = (columns, {(tuple(cols), unique) for cols, unique in indexes})
        conn.rollback()
    return shape


@pytest.mark.parametrize("version", range(1, len(sqlite_schema.MIGRATIONS) + 1))
def test_each_schema_version_has_the_same_shape_on_both_backends(
    version: int, postgres_url: str, tmp_path: Path
) -> None:
    assert len(postgres_schema.MIGRATIONS) == len(sqlite_schema.MIGRATIONS), (
        "a migration is missing on one side"
    )
    assert postgres_shape(version, postgres_url) == sqlite_shape(version, tmp_path)


def test_a_database_written_by_the_first_version_is_upgraded_with_nothing_lost(
    postgres_url: str, clock: ManualClock
) -> None:
    """The previous release's schema (version 1) with data in every table, as that release wrote it."""
    payload = json.dumps({"incident": "INC-20261123-0002", "sev": "SEV-1"})
    at = START.isoformat()
    with psycopg.connect(postgres_url) as conn:
        postgres_schema.MIGRATIONS[0](conn)
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)")
        conn.execute("INSERT INTO schema_version VALUES (1, '2026-11-01T00:00:00+00:00')")
        conn.execute(
            "INSERT INTO incidents (id, day, seq, service, symptom, channel, thread_ts, status, created_at, "
            "created_by) VALUES ('INC-20261123-0002', '2026-11-23', 2, 'api-gateway', '504s', 'C1', '100.1', "
            "'open', %s, 'U1')",
            [at],
        )
        conn.execute(
            "INSERT INTO timeline (incident_id, at, kind, text, data) "
            "VALUES ('INC-20261123-0002', %s, 'opened', 'api-gateway: 504s', '{}')",
            [at],
        )
        conn.execute("INSERT INTO slack_events VALUES ('Ev1', %s)", [at])
        conn.execute("INSERT INTO offers VALUES ('INC-20261123-0002', 'ai-platform/5xx-errors', %s)", [at])
        conn.execute(
            "INSERT INTO button_states (id, kind, payload, created_at, claimed_at, claimed_by) "
            "VALUES ('b1', 'set_severity', %s, %s, %s, 'U2')",
            [payload, at, at],
        )

    with open_store(postgres_url, clock) as store:
        incident = store.get("INC-20261123-0002")
        assert incident is not None and incident.thread_ts == "100.1" and incident.permalink is None
        assert [e.text for e in store.timeline(incident.id)] == ["api-gateway: 504s"]
        assert store.claim("slack-event:Ev1") is False, (
            "a retry of an event seen before the upgrade is dropped"
        )
        assert store.claim("offer:INC-20261123-0002:ai-platform/5xx-errors") is False
        assert store.claim("button:b1") is False, "a button pressed before the upgrade stays pressed"
        assert store.get_state("b1") == ("set_severity", json.loads(payload))
        assert store.open_incident("api-gateway", "again", "C1", "U1").id == "INC-20261123-0003"
        assert len(store.timeline(incident.id)) == 1
    assert sql(postgres_url, "SELECT incident_id FROM button_states") == [("INC-20261123-0002",)]
    assert sql(postgres_url, "SELECT holder, expires_at FROM claims WHERE key = 'button:b1'") == [
        ("U2", None)
    ]
    clock.advance(timedelta(minutes=61))  # the event id was seen at START: its hour is over
    with open_store(postgres_url, clock) as store:
        assert store.claim("slack-event:Ev1") is True


def test_replicas_starting_together_migrate_once(
    postgres_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first replica migrates; the second waits on the advisory lock, then finds nothing left to do."""
    applied: list[int] = []
    inside, release = threading.Event(), threading.Event()

    def counted(number: int, migration: postgres_schema.Migration) -> postgres_schema.Migration:
        def run(conn: psycopg.Connection[Any]) -> None:
            applied.append(number)
            if number == 1:
                inside.set()
                assert release.wait(30), "the test never let the first migration finish"
            migration(conn)

        return run

    monkeypatch.setattr(
        postgres_schema, "MIGRATIONS", [counted(n, m) for n, m in enumerate(postgres_schema.MIGRATIONS, 1)]
    )
    backends: list[PostgresBackend] = []
    threads = [
        threading.Thread(target=lambda: backends.append(PostgresBackend(postgres_url, clock)))
        for _ in range(2)
    ]
    threads[0].start()
    assert inside.wait(30)
    threads[1].start()
    waiting = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    deadline = time.monotonic() + 30  # polling the server's own view, bounded; each query is the pause
    while sql(postgres_url, waiting) != [(1,)]:
        assert time.monotonic() < deadline, "the second replica never waited on the migration lock"
    release.set()
    for thread in threads:
        thread.join(30)
    try:
        assert len(backends) == 2
        assert applied == list(range(1, len(postgres_schema.MIGRATIONS) + 1))
        assert [b.schema_version for b in backends] == [len(postgres_schema.MIGRATIONS)] * 2
        assert sql(postgres_url, "SELECT version FROM schema_version ORDER BY version") == [
            (n,) for n in range(1, len(postgres_schema.MIGRATIONS) + 1)
        ]
    finally:
        for backend in backends:
            backend.close()


def test_a_database_from_a_newer_bot_is_refused_with_advice(postgres_url: str) -> None:
    open_store(postgres_url).close()
    sql(postgres_url, "INSERT INTO schema_version (version, applied_at) VALUES (99, '2030-01-01')")
    with pytest.raises(
        StoreError,
        match=rf"schema version 99, newer than this bot knows \({len(postgres_schema.MIGRATIONS)}\): upgrade the bot",
    ):
        open_store(postgres_url)


def test_another_programs_database_is_refused_and_left_as_it_was(postgres_url: str) -> None:
    sql(postgres_url, "CREATE TABLE incidents (ticket INTEGER PRIMARY KEY, title TEXT)")
    sql(postgres_url, "INSERT INTO incidents VALUES (7, 'printer on fire')")
    with pytest.raises(StoreError, match=r"cannot be migrated to schema version 1.*a database of its own"):
        open_store(postgres_url)
    assert sql(postgres_url, "SELECT * FROM incidents") == [(7, "printer on fire")]
    assert sql(postgres_url, "SELECT count(*) FROM schema_version") == [(0,)]


# -- chatops store --------------------------------------------------------------------------------


def test_chatops_store_version_then_migrate(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHATOPS_STORE_URL", postgres_url)
    config = str(ROOT / "config.example.yaml")
    known = len(postgres_schema.MIGRATIONS)
    assert cli.main(["--config", config, "store", "version"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{postgres_url}: schema version 0, this bot's is {known}: run `chatops store migrate` (or start the bot)"
    ]
    assert cli.main(["--config", config, "store", "migrate"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{postgres_url}: schema version {known} (up to date)"]
    assert cli.main(["--config", config, "store", "version"]) == 0
    assert capsys.readouterr().out.splitlines() == [f"{postgres_url}: schema version {known} (up to date)"]
    sql(postgres_url, "INSERT INTO schema_version (version, applied_at) VALUES (99, '2030-01-01')")
    assert cli.main(["--config", config, "store", "version"]) == 1
    assert capsys.readouterr().out.splitlines() == [
        f"{postgres_url}: schema version 99, newer than this bot knows ({known}): upgrade the bot"
    ]


def test_chatops_store_never_shows_the_password(
    postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHATOPS_STORE_URL", f"postgresql://bot:s3cr3tP4ss@127.0.0.1:{postgres.port}/nowhere")
    assert cli.main(["--config", str(ROOT / "config.example.yaml"), "store", "migrate"]) == 2
    shown = capsys.readouterr()
    assert "cannot be used" in shown.err and "nowhere" in shown.err
    assert "s3cr3tP4ss" not in shown.out + shown.err


def test_chatops_store_on_sqlite_reads_the_file_without_creating_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "chatops.db"
    monkeypatch.setenv("CHATOPS_STORE_URL", f"sqlite:///{path}")
    config = str(ROOT / "config.example.yaml")
    assert cli.main(["--config", config, "store", "version"]) == 1
    assert "schema version 0" in capsys.readouterr().out and not path.exists()
    assert cli.main(["--config", config, "store", "migrate"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"sqlite:///{path}: schema version {len(sqlite_schema.MIGRATIONS)} (up to date)"
    ]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone() == (
            len(sqlite_schema.MIGRATIONS),
        )
    conn.close()
