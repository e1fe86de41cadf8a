"""SQL from a guide (a SQL block, or `psql -c "..."` in a shell command) read for what it asks PostgreSQL.

No probe connects to the database, but postgres_exporter publishes what the usual diagnosis queries read:
connection counts by state (`pg_stat_activity`), the longest open transaction, replication lag and locks. A
query on those views becomes a `prometheus.query` probe on the exporter's metric, approximate (the SQL
stays beside it as a manual step); any other query stays manual.
"""

from __future__ import annotations

import re

from bot.importer.outcome import Mapped
from bot.importer.shellwords import writes

_COUNT = re.compile(r"count\(\s*\*\s*\)", re.I)
_STATE = re.compile(r"state\s*=\s*'([\w ]+)'", re.I)
# How long a query or transaction has run: `now() - query_start`, `xact_start < now() - interval ...`.
_DURATION = re.compile(r"now\(\)\s*-\s*(?:\w+\.)*(query_start|xact_start)|(query_start|xact_start)\s*<", re.I)
_REPLICATION = re.compile(
    r"\bpg_stat_replication\b|\bpg_last_xact_replay_timestamp\b|\bpg_stat_wal_receiver\b", re.I
)


def classify_sql(sql: str, in_solutions: bool) -> list[Mapped]:
    """The probe that reads what this SQL reads, or a manual step and why."""
    written = writes(sql)
    if written:
        warning = None if in_solutions else f"SQL that writes in a diagnosis block: {sql[:60]}"
        return [Mapped("manual", why=f"{written}; no action runs SQL", warning=warning)]
    if re.search(r"\bpg_stat_activity\b", sql, re.I):
        if _DURATION.search(sql):
            return [_exporter("max(pg_stat_activity_max_tx_duration{state=\"active\"})", "longest active transaction",
                              "how long the oldest active transaction has run (pg_stat_activity_max_tx_duration)", "s")]  # fmt: skip
        if _COUNT.search(sql):
            state = _STATE.search(sql)
            labels = f'{{state="{state.group(1)}"}}' if state else ""
            return [_exporter(f"sum(pg_stat_activity_count{labels})", "PostgreSQL connections",
                              "connection count from postgres_exporter (pg_stat_activity_count)")]  # fmt: skip
    if _REPLICATION.search(sql):
        return [_exporter("max(pg_replication_lag)", "replication lag", "lag from postgres_exporter", "s")]
    if re.search(r"\bFROM\s+pg_locks\b", sql, re.I):
        return [
            _exporter("sum(pg_locks_count)", "locks held", "locks from postgres_exporter (pg_locks_count)")
        ]
    return [Mapped("manual", why="SQL to run in psql; no probe queries the database")]


def embedded_sql(words: list[str]) -> str | None:
    """The SQL of `psql ... -c "SQL"` (or `--command=SQL`), wherever psql is in the words."""
    if "psql" not in words:
        return None
    after = words[words.index("psql") + 1 :]
    for index, word in enumerate(after):
        if word in ("-c", "--command") and index + 1 < len(after):
            return after[index + 1]
        if word.startswith("--command="):
            return word.partition("=")[2]
    return None


def _exporter(query: str, label: str, why: str, unit: str = "") -> Mapped:
    params = {"query": query, "label": label, **({"unit": unit} if unit else {})}
    return Mapped("probe", "prometheus.query", params, why, approximate=True)
