"""cloud_run.revisions against a local Cloud Run Admin API v2: the newest revisions with their age, and a recent
one named as the change a report "since the deploy" points at."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials

from bot.config import Service
from bot.probes.base import Clients, ProbeContext
from bot.probes.cloud_run_revisions import CloudRunRevisionsParams, revisions
from bot.severity import Status
from sandbox.cloud_run_api import (
    BAD,
    GOOD,
    PROJECT,
    REGION,
    SERVICE,
    SERVICE_NAME,
    FakeCloudRun,
    failed_latest_revision,
    healthy,
)

IMGSTREAM = Service.model_validate(
    {
        "guide": "imgstream",
        "team": "imgstream",
        "cloud_run": {"project": PROJECT, "region": REGION, "service": SERVICE},
    }
)


@pytest.fixture
def fake() -> Iterator[FakeCloudRun]:
    with FakeCloudRun() as server:
        yield server
    assert server.only_reads(), server.requests


def minutes_ago(minutes: int) -> str:
    return (datetime.now(UTC) - timedelta(minutes=minutes)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def check(fake: FakeCloudRun, fixture: Any) -> Any:
    clients = Clients(cloud_run_endpoint=fake.serve(fixture).url, google_credentials=AnonymousCredentials())
    return revisions(
        ProbeContext("imgstream", IMGSTREAM, clients, time.monotonic() + 30), CloudRunRevisionsParams()
    )


def test_an_old_revision_is_no_recent_change(fake: FakeCloudRun) -> None:
    result = check(fake, healthy())
    assert result.status == Status.OK
    assert result.summary.startswith(f"revision {GOOD} created ")
    assert result.summary.endswith(": us-central1-docker.pkg.dev/imgstream-prod/imgstream/api 1.8.1 -> 1.8.2")
    assert result.data["faults"] == [] and result.data["recent_change"] is False
    assert [r.path for r in fake.requests] == [f"/v2/{SERVICE_NAME}/revisions"]


def test_a_revision_created_minutes_ago_is_the_recent_change_with_its_age(fake: FakeCloudRun) -> None:
    service, listed = healthy()
    listed[-1]["createTime"] = minutes_ago(20)
    result = check(fake, (service, listed))
    assert result.status == Status.WARN
    assert result.summary == (
        f"revision {GOOD} created 20 min ago: us-central1-docker.pkg.dev/imgstream-prod/imgstream/api 1.8.1 -> 1.8.2"
    )
    (change,) = result.data["faults"]
    assert (change["key"], change["rank"], change["facts"]) == (
        f"CloudRunService/{SERVICE}:{GOOD}",
        4,
        ["recent-revision"],
    )
    assert "REVISION" in result.evidence and "20 min ago" in result.evidence


def test_a_recent_revision_that_failed_is_critical(fake: FakeCloudRun) -> None:
    service, listed = failed_latest_revision()
    listed[-1]["createTime"] = minutes_ago(7)
    result = check(fake, (service, listed))
    assert result.status == Status.CRITICAL
    assert f"revision {BAD} failed: The user-provided container failed to start" in result.summary
    facts = [f["facts"] for f in result.data["faults"]]
    assert facts == [["recent-revision", "revision-failed"], ["revision-failed"]]
