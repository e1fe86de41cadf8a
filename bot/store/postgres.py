"""The PostgreSQL backend, for several replicas: psycopg 3 connections from a pool, the schema migrated on open.

The URL is libpq's (`postgresql://user@host:5432/database?sslmode=require`); keep the password out of it,
in PGPASSWORD or a .pgpass file, which libpq reads itself. `read()` lends an autocommit connection, `write()`
one transaction. Transactions run at PostgreSQL's default READ COMMITTED: bot.store.sql makes every run-once
step a single conditional write (or a compare-and-set on the value it read), which that level keeps exact
across replicas. The store's `?` placeholders become psycopg's `%s` here (`to_pyformat`), so bot.store.sql
is the same text for every backend.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from bot.clock import Clock
from bot.errors import StoreError
from bot.redaction import redact
from bot.store import postgres_schema
from bot.store.base import Row

POOL_SIZE = 10  # connections per process: the Bolt and runner thread pools share them
CONNECT_TIMEOUT_S = 10  # how long opening a connection may take
POOL_TIMEOUT_S = 30.0  # how long a caller waits for a free connection before the store counts as down

# A quoted string or identifier, a comment, a placeholder or a percent sign: only the last two are rewritten.
_TOKENS = re.compile(r"""'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|/\*.*?\*/|\?|%""", re.DOTALL)


@lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """The store's SQL with psycopg's placeholders: `?` outside quotes and comments becomes `%s`, and every
    `%` is doubled (psycopg reads `%` anywhere in the text, quoted or not)."""

    def rewrite(token: re.Match[str]) -> str:
        text = token.group()
        return "%s" if text == "?" else text.replace("%", "%%")

    return _TOKENS.sub(rewrite, sql)


class _Connection:
    """A psycopg connection speaking the store's Connection protocol (rows as dicts)."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        # Always a list, even empty: psycopg leaves `%%` undoubled when given no parameters at all.
        return self.conn.execute(to_pyformat(sql), list(params))

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        with self.conn.cursor(row_factory=dict_row) as cursor:
            return cursor.execute(to_pyformat(sql), list(params)).fetchall()


class PostgresBackend:
    """Pooled connections to one PostgreSQL database, safe to share between threads, processes and replicas."""

    def __init__(self, url: str, clock: Clock) -> None:
        self.url = url
        self.shown = redact(url)  # for messages: the URL without a password
        self.clock = clock
        try:
            with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
                postgres_schema.migrate(conn, clock, self.shown)
        except psycopg.OperationalError as err:
            raise StoreError(f"the store {self.shown} cannot be used: {_reason(err)}") from None
        self._pool = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_SIZE,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
            timeout=POOL_TIMEOUT_S,
            check=ConnectionPool.check_connection,  # a restarted server's dead connections are replaced
            name="chatops-store",
            open=True,
        )

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            with self._pool.connection() as conn:
                yield conn
        except psycopg.OperationalError as err:  # unreachable, restarted, pool exhausted or closed
            raise StoreError(f"the store {self.shown} cannot be used: {_reason(err)}") from None

    @contextmanager
    def read(self) -> Iterator[_Connection]:
        with self._connection() as conn:
            yield _Connection(conn)

    @contextmanager
    def write(self) -> Iterator[_Connection]:
        with self._connection() as conn, conn.transaction():
            yield _Connection(conn)

    @property
    def schema_version(self) -> int:
        with self._connection() as conn:
            return postgres_schema.version(conn)

    def close(self) -> None:
        """Close the pool's connections; call once the threads using the store have stopped."""
        self._pool.close()


def schema_version(url: str) -> int:
    """The database's schema version, read without migrating (0: none yet)."""
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            return postgres_schema.version(conn)
    except psycopg.OperationalError as err:
        raise StoreError(f"the store {redact(url)} cannot be used: {_reason(err)}") from None


def _reason(err: psycopg.Error) -> str:
    """The server's or libpq's own words, on one line."""
    return " ".join(str(err).split()) or type(err).__name__
