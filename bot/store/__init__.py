"""The incident store: `open_store(url)` picks the backend by URL; bot.store.base says what the store does.

sqlite:///relative/path.db   sqlite:////absolute/path.db    the embedded default (one replica)
postgresql://user@host:5432/database   (or postgres://)   for several replicas (bot.store.postgres)
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from bot.clock import SYSTEM_CLOCK, Clock
from bot.errors import StoreError
from bot.store.base import Backend, ButtonStates, Claims, IncidentLog, State, Store
from bot.store.sql import EVENT_RETENTION, SqlStore

__all__ = [
    "EVENT_RETENTION",
    "ButtonStates",
    "Claims",
    "IncidentLog",
    "SqlStore",
    "State",
    "Store",
    "open_store",
    "schema_versions",
]


def open_store(url: str, clock: Clock = SYSTEM_CLOCK) -> SqlStore:
    """The store at `url`, its schema migrated; a URL no backend serves is a StoreError naming what is."""
    backend: Backend
    if _is_postgres(url):
        from bot.store.postgres import PostgresBackend  # psycopg is imported only by those who use it

        backend = PostgresBackend(url, clock)
    else:
        from bot.store.sqlite import SqliteBackend  # sqlite-utils too: the CLI's other commands start without

        backend = SqliteBackend(_sqlite_path(url), clock)
    try:
        return SqlStore(backend, clock)
    except BaseException:  # e.g. a clock without a timezone: no pool or connection is left open
        backend.close()
        raise


def schema_versions(url: str) -> tuple[int, int]:
    """The store's schema version (0: none yet) and the newest this bot knows, read without migrating."""
    if _is_postgres(url):
        from bot.store import postgres, postgres_schema

        return postgres.schema_version(url), len(postgres_schema.MIGRATIONS)
    from bot.store.sqlite import MIGRATIONS, SqliteBackend

    path = _sqlite_path(url)
    if not path.exists():
        return 0, len(MIGRATIONS)
    conn = sqlite3.connect(
        f"{path.resolve().as_uri()}?mode=ro", uri=True
    )  # read only: asking creates nothing
    try:
        known = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'").fetchone()
        return (SqliteBackend.version(conn) if known else 0), len(MIGRATIONS)
    except sqlite3.DatabaseError as err:
        raise StoreError(f"the store {path} cannot be used: {err}") from None
    finally:
        conn.close()


def _is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def _sqlite_path(url: str) -> Path:
    scheme, sep, rest = url.partition("://")
    if sep and scheme == "sqlite" and rest.startswith("/") and len(rest) > 1:
        return Path(rest[1:])
    raise StoreError(
        f"unknown store URL {url!r}: expected sqlite:///relative/path.db, sqlite:////absolute/path.db "
        "or postgresql://user@host:5432/database"
    )
