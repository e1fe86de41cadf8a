"""The incident store: `open_store(url)` picks the backend by URL; bot.store.base says what the store does.

sqlite:///relative/path.db   sqlite:////absolute/path.db    the embedded default (one replica)
"""

from __future__ import annotations

from pathlib import Path

from bot.clock import SYSTEM_CLOCK, Clock
from bot.errors import StoreError
from bot.store.base import ButtonStates, Claims, IncidentLog, State, Store
from bot.store.sql import EVENT_RETENTION, SqlStore
from bot.store.sqlite import SqliteBackend

__all__ = [
    "EVENT_RETENTION",
    "ButtonStates",
    "Claims",
    "IncidentLog",
    "SqlStore",
    "State",
    "Store",
    "open_store",
]


def open_store(url: str, clock: Clock = SYSTEM_CLOCK) -> SqlStore:
    """The store at `url`, its schema migrated; a URL no backend serves is a StoreError naming what is."""
    scheme, sep, rest = url.partition("://")
    if sep and scheme == "sqlite" and rest.startswith("/") and len(rest) > 1:
        return SqlStore(SqliteBackend(Path(rest[1:]), clock), clock)
    raise StoreError(
        f"unknown store URL {url!r}: expected sqlite:///relative/path.db or sqlite:////absolute/path.db"
    )
