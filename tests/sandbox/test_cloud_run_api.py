"""The sandbox's Cloud Run states: each scenario picks one, dated from the scenario's now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sandbox import scenarios
from sandbox.cloud_run_api import BAD, GOOD, PREVIOUS, Fixture, dated, healthy, scenario_fixture

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def created(fixture: Fixture) -> dict[str, datetime]:
    return {r["name"].rsplit("/", 1)[-1]: datetime.fromisoformat(r["createTime"]) for r in fixture[1]}


def test_dating_moves_every_timestamp_alike_so_the_newest_revision_is_that_old() -> None:
    before, after = created(healthy()), created(dated(healthy(), NOW - timedelta(days=6)))
    assert after[GOOD] == NOW - timedelta(days=6)
    assert after[GOOD] - after[PREVIOUS] == before[GOOD] - before[PREVIOUS]
    moved = NOW - before[GOOD]
    was, now = (f[0]["terminalCondition"]["lastTransitionTime"] for f in (healthy(), dated(healthy(), NOW)))
    assert now.endswith("Z") and datetime.fromisoformat(now) - datetime.fromisoformat(was) == moved


@pytest.mark.parametrize(
    ("scenario", "newest", "age"),
    [
        ("healthy", GOOD, timedelta(days=6)),
        ("crashloop-oom", BAD, timedelta(minutes=14)),
        ("bad-deploy", BAD, timedelta(minutes=20)),
        ("no-endpoints", GOOD, timedelta(days=6)),
    ],
)
def test_a_scenario_picks_a_cloud_run_state_and_its_age(scenario: str, newest: str, age: timedelta) -> None:
    fixture = scenario_fixture(scenario, NOW)
    assert fixture[0]["latestCreatedRevision"].endswith(newest)
    assert max(created(fixture).values()) == NOW - age


def test_every_scenario_names_a_cloud_run_state() -> None:
    for scenario in scenarios():
        assert scenario_fixture(scenario, NOW)[1], scenario
