"""Rows as records: how the store reads an incident back (shared by the store's SQL modules)."""

from __future__ import annotations

from datetime import datetime

from bot.incidents import Incident, IncidentStatus
from bot.severity import Sev
from bot.store.base import Row


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
        title=row["title"],
        commander=row["commander"],
        acknowledged_at=_time(row["acknowledged_at"]),
        acknowledged_by=row["acknowledged_by"],
        mitigated_at=_time(row["mitigated_at"]),
        detected_at=_time(row["detected_at"]),
        alert_key=row["alert_key"],
        source_link=row["source_link"],
    )
