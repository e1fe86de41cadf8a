"""The SQLite backend's own promises: a file on disk that holds no secret, readable while the bot writes, upgraded
in place from what an earlier version wrote, and refused (with advice) when a newer bot wrote it."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database
from test_store import SECRETS

from bot.clock import ManualClock
from bot.errors import StoreError
from bot.settings import Settings
from bot.store import open_store
from bot.store.sqlite import MIGRATIONS, SqliteBackend

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_nothing_secret_reaches_the_disk(tmp_path: Path) -> None:
    path = tmp_path / "chatops.db"
    with open_store(url(path), ManualClock(START)) as store:
        incident = store.open_incident("api-gateway", "401s since password=hunter2hunter2", "C1", "U1")
        store.append(incident.id, "finding", "SLACK_TOKEN=xoxb-123456789012-abcdefghijkl",
                     data={"dsn": "postgres://app:s3cr3tP4ss@db:5432/app", "key": "AKIAIOSFODNN7EXAMPLE"})  # fmt: skip
        store.resolve(incident.id, "U2", "Authorization: Bearer 4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c")
    on_disk = b"".join(p.read_bytes() for p in tmp_path.iterdir())  # the database and its write-ahead log
    assert b"INC-20261123-0001" in on_disk
    for secret in SECRETS:
        assert secret.encode() not in on_disk


def test_the_file_comes_from_the_config_and_reopens_with_its_data(tmp_path: Path) -> None:
    config = tmp_path / "chatops.yaml"
    store_file = tmp_path / "var" / "chatops.db"
    example = (Path(__file__).parents[1] / "config.example.yaml").read_text()
    config.write_text(example.replace("path: chatops.db", f"path: {store_file}"))
    settings = Settings.load(str(config), env={})
    assert settings.store_url == url(store_file)
    with open_store(settings.store_url) as store:
        incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    for _ in range(2):
        with open_store(settings.store_url) as again:
            assert again.get(incident.id) is not None
    backend = SqliteBackend(store_file, ManualClock(START))
    assert backend.schema_version == len(MIGRATIONS)
    backend.close()
    with sqlite3.connect(store_file) as conn:  # WAL: readers (the CLI, a backup) never block the bot
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_the_environment_names_another_store(tmp_path: Path) -> None:
    elsewhere = url(tmp_path / "elsewhere.db")
    settings = Settings.load(None, env={"CHATOPS_STORE_URL": elsewhere})
    assert settings.store_url == elsewhere


def test_a_file_from_a_newer_bot_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "chatops.db"
    open_store(url(path)).close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (99, '2030-01-01')")
    conn.close()
    with pytest.raises(StoreError, match=r"schema version 99.*upgrade the bot"):
        open_store(url(path))


def test_a_store_url_nobody_serves_is_refused() -> None:
    with pytest.raises(StoreError, match="unknown store URL 'mysql://db/chatops'"):
        open_store("mysql://db/chatops")


def test_a_file_written_by_the_first_version_is_upgraded_with_nothing_lost(tmp_path: Path) -> None:
    """The previous release's schema (version 1) with data in every table, as that release wrote it."""
    path = tmp_path / "chatops.db"
    db = Database(path)
    MIGRATIONS[0](db)
    db.table("schema_version").create({"version": int, "applied_at": str}, pk="version")
    db.table("schema_version").insert({"version": 1, "applied_at": "2026-11-01T00:00:00+00:00"})
    db.table("incidents").insert({
        "id": "INC-20261123-0002", "day": "2026-11-23", "seq": 2, "service": "api-gateway", "symptom": "504s",
        "channel": "C1", "thread_ts": "100.1", "status": "open", "created_at": START.isoformat(),
        "created_by": "U1",
    })  # fmt: skip
    db.table("timeline").insert({"incident_id": "INC-20261123-0002", "at": START.isoformat(), "kind": "opened",
                                 "text": "api-gateway: 504s", "data": "{}"})  # fmt: skip
    db.table("slack_events").insert({"event_id": "Ev1", "seen_at": START.isoformat()})
    db.table("offers").insert({"incident_id": "INC-20261123-0002", "playbook_id": "ai-platform/5xx-errors",
                               "offered_at": START.isoformat()})  # fmt: skip
    payload = json.dumps({"incident": "INC-20261123-0002", "sev": "SEV-1"})
    db.table("button_states").insert({"id": "b1", "kind": "set_severity", "payload": payload,
                                      "created_at": START.isoformat(), "claimed_at": START.isoformat()})  # fmt: skip
    db.close()

    with open_store(url(path), ManualClock(START)) as store:
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
