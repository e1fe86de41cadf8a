"""Incident ids people type and read, and the masking of what an incident records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from enum import Enum

import pytest

from bot.incidents import Incident, IncidentStatus, incident_id, parse_incident_id, redact_data, to_utc


def test_an_id_names_the_day_and_the_number_that_day() -> None:
    assert incident_id(date(2026, 11, 23), 7) == "INC-20261123-0007"
    assert incident_id(date(2026, 1, 2), 12345) == "INC-20260102-12345"  # a very bad day still gets ids
    with pytest.raises(ValueError):
        incident_id(date(2026, 11, 23), 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("INC-20261123-0007", (date(2026, 11, 23), 7)),
        (" inc-20261123-0007 ", (date(2026, 11, 23), 7)),  # as typed in Slack
        ("INC-20261123-12345", (date(2026, 11, 23), 12345)),
        ("INC-20261332-0001", None),  # no such day
        ("INC-20261123-0000", None),
        ("INC-20261123-7", None),
        ("20261123-0007", None),
        ("api-gateway", None),
    ],
)
def test_ids_typed_by_people_are_recognised(text: str, expected: tuple[date, int] | None) -> None:
    assert parse_incident_id(text) == expected


def test_secrets_in_structured_data_are_masked_and_the_rest_kept() -> None:
    class Phase(Enum):
        ROLLOUT = "rollout"

    data = {
        "env": {"DATABASE_URL": "postgres://app:s3cr3tP4ss@db:5432/app", "replicas": 3, "ready": True},
        "args": ("--token", "token=abcdef123456", None, 1.5),
        "when": datetime(2026, 11, 23, tzinfo=UTC),
        "phase": Phase.ROLLOUT,
    }
    clean = redact_data(data)
    assert "s3cr3tP4ss" not in repr(clean) and "abcdef123456" not in repr(clean)
    assert clean["env"]["replicas"] == 3 and clean["env"]["ready"] is True
    assert clean["args"][0] == "--token" and clean["args"][2:] == [None, 1.5]
    assert clean["when"] == "2026-11-23T00:00:00+00:00"
    assert clean["phase"] == "rollout"


def test_times_are_kept_in_utc_and_naive_ones_refused() -> None:
    paris = datetime(2026, 11, 23, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert to_utc(paris) == datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert to_utc(paris).tzinfo is UTC
    with pytest.raises(ValueError, match="aware"):
        to_utc(datetime(2026, 11, 23, 10, 0))


def test_an_incident_is_as_old_as_it_has_been_open() -> None:
    opened = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    incident = Incident("INC-20261123-0001", "api-gateway", "504s", "C1", "U1", opened)
    assert incident.is_open
    assert incident.age(opened + timedelta(hours=2)) == timedelta(hours=2)
    resolved = Incident(
        "INC-20261123-0001", "api-gateway", "504s", "C1", "U1", opened,
        status=IncidentStatus.RESOLVED, resolved_at=opened + timedelta(minutes=30),
    )  # fmt: skip
    assert not resolved.is_open
    assert resolved.age(opened + timedelta(days=1)) == timedelta(minutes=30)
