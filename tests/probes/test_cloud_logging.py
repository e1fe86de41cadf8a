"""cloud_logging.query against a local Cloud Logging REST API: the filter it sends, what a person reads."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from fakes.cloud_logging_api import FakeCloudLogging
from google.auth.credentials import AnonymousCredentials
from pydantic import ValidationError

from bot.config import Service
from bot.probes.base import Clients, ProbeContext, ProbeFailure, Skip
from bot.probes.cloud_logging import CloudLoggingParams, query
from bot.severity import Status

SERVICE_FILTER = 'resource.type="cloud_run_revision" AND resource.labels.service_name="imgstream-production"'
IMGSTREAM = Service.model_validate(
    {
        "guide": "imgstream",
        "team": "imgstream",
        "cloud_logging": {"project": "imgstream-prod", "filter": SERVICE_FILTER},
    }
)


@pytest.fixture
def fake() -> Iterator[FakeCloudLogging]:
    with FakeCloudLogging() as server:
        yield server
    assert server.only_reads(), server.requests


def context(endpoint: str, service: Service = IMGSTREAM, seconds: float = 5) -> ProbeContext:
    clients = Clients(cloud_logging_endpoint=endpoint, google_credentials=AnonymousCredentials())
    return ProbeContext("imgstream", service, clients, time.monotonic() + seconds)


def run(fake: FakeCloudLogging, **params: object) -> tuple[Status, str, str]:
    result = query(context(fake.url), CloudLoggingParams.model_validate(params))
    return result.status, result.summary, result.evidence


def test_sends_the_service_filter_severity_an_explicit_window_and_the_match_clause(
    fake: FakeCloudLogging,
) -> None:
    run(fake, match='"Access denied" OR httpRequest.status=401', min_severity="warning", window_minutes=30)
    (request,) = fake.requests
    assert request.body["resourceNames"] == ["projects/imgstream-prod"]
    assert request.body["orderBy"] == "timestamp desc"
    sent = request.body["filter"]
    assert sent.startswith(f"({SERVICE_FILTER}) AND severity>=WARNING AND timestamp>=")
    assert sent.endswith(' AND ("Access denied" OR httpRequest.status=401)')
    stamp = datetime.fromisoformat(sent.split('timestamp>="')[1].split('"')[0])
    assert abs(stamp - (datetime.now(UTC) - timedelta(minutes=30))) < timedelta(minutes=1)


def test_no_entries_is_ok(fake: FakeCloudLogging) -> None:
    fake.add("old failure", minutes_ago=90)
    fake.add("just chatty", severity="INFO")
    status, summary, _ = run(fake)
    assert (status, summary) == (Status.OK, "No entries at ERROR or above in the last 60 min")


def test_groups_similar_messages_with_counts_and_the_newest_example(fake: FakeCloudLogging) -> None:
    for minute in range(3, 0, -1):
        fake.add(f"upstream connect error or disconnect/reset before headers, request {minute}0417")
    fake.add("FATAL: sorry, too many clients already", kind="json", minutes_ago=5)
    fake.add("FATAL: sorry, too many clients already", severity="CRITICAL", minutes_ago=2)
    fake.add(
        "Traceback (most recent call last):\n  File app.py\nValueError: user 123 has no quota", minutes_ago=7
    )
    fake.add("Permission 'storage.objects.create' denied", kind="audit")
    status, summary, evidence = run(fake, critical_count=10)
    assert status == Status.WARN
    assert summary == (
        "7 entries at ERROR or above in the last 60 min: "
        "'upstream connect error or disconnect/reset before headers, request 10417' x3, "
        "'FATAL: sorry, too many clients already' x2, "
        "'Permission 'storage.objects.create' denied' x1 and 1 other message"
    )
    assert "ERROR     ValueError: user 123 has no quota" in evidence
    assert "critical at 10 entries" in evidence
    assert "CRITICAL  FATAL: sorry, too many clients already" in evidence


def test_numbers_and_ids_do_not_split_groups(fake: FakeCloudLogging) -> None:
    fake.add("user 123 failed login from 10.0.0.7", minutes_ago=2)
    fake.add("user 456 failed login from 10.0.0.9", minutes_ago=1)
    fake.add("request 3f2a9c1e-77b0-4d7e-9a51-0c8e2b4f6a10 failed", minutes_ago=2)
    fake.add("request 9b1c2d3e-0000-4aaa-8bbb-123456789abc failed", minutes_ago=1)
    fake.add(kind="request", http_status=401)
    fake.add(kind="request", http_status=401)
    _, summary, _ = run(fake)
    assert "'user 456 failed login from 10.0.0.9' x2" in summary
    assert "'request 9b1c2d3e-0000-4aaa-8bbb-123456789abc failed' x2" in summary
    assert "'HTTP 401 GET https://imgstream.example.com/api/images/" in summary


@pytest.mark.parametrize(
    ("count", "status"), [(1, Status.OK), (2, Status.WARN), (4, Status.WARN), (5, Status.CRITICAL)]
)
def test_thresholds(fake: FakeCloudLogging, count: int, status: Status) -> None:
    for _ in range(count):
        fake.add("database is locked")
    assert run(fake, warn_count=2, critical_count=5)[0] == status


def test_limit_bounds_what_is_read(fake: FakeCloudLogging) -> None:
    for _ in range(7):
        fake.add("database is locked")
    status, summary, _ = run(fake, limit=3, critical_count=3)
    assert (status, summary) == (
        Status.CRITICAL,
        "3+ entries at ERROR or above in the last 60 min: 'database is locked' x3",
    )
    assert [r.body["pageSize"] for r in fake.requests] == [3]


def test_reads_every_page_up_to_the_limit(fake: FakeCloudLogging) -> None:
    for _ in range(1200):
        fake.add("database is locked", minutes_ago=5)
    _, summary, _ = run(fake, limit=1100)
    assert summary.startswith("1100+ entries")
    assert [r.body.get("pageToken") for r in fake.requests] == [None, "1000"]


def test_default_severity_reads_every_entry(fake: FakeCloudLogging) -> None:
    fake.add("starting worker", severity="INFO")
    _, summary, _ = run(fake, min_severity="DEFAULT")
    assert summary == "1 log entry in the last 60 min: 'starting worker' x1"


def test_access_denied_is_an_error_with_the_reason(fake: FakeCloudLogging) -> None:
    fake.fail(
        403,
        "Permission 'logging.logEntries.list' denied on resource (or it may not exist).",
        "PERMISSION_DENIED",
    )
    with pytest.raises(ProbeFailure) as failure:
        run(fake)
    assert str(failure.value) == (
        "Cloud Logging denied access (403): Permission 'logging.logEntries.list' denied on resource "
        "(or it may not exist)."
    )


def test_a_bad_filter_is_reported_as_such(fake: FakeCloudLogging) -> None:
    fake.fail(400, "Invalid query: unparseable term 'jsonPayload.duration_ms >'", "INVALID_ARGUMENT")
    with pytest.raises(ProbeFailure, match=r"^Cloud Logging rejected the query \(400\): Invalid query"):
        run(fake)


def test_endpoint_down() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(ProbeFailure) as failure:
        query(context(endpoint), CloudLoggingParams())
    assert str(failure.value) == f"Cloud Logging at {endpoint} refused the connection"


def test_endpoint_that_never_answers_is_bounded_by_the_deadline(fake: FakeCloudLogging) -> None:
    fake.hang()
    with pytest.raises(ProbeFailure, match=rf"^Cloud Logging at {fake.url} did not answer within 0\.\d s$"):
        query(context(fake.url, seconds=0.3), CloudLoggingParams())


def test_service_without_cloud_logging_settings_is_skipped(fake: FakeCloudLogging) -> None:
    bare = Service.model_validate({"guide": "imgstream", "team": "imgstream"})
    with pytest.raises(Skip) as skip:
        query(context(fake.url, service=bare), CloudLoggingParams())
    assert str(skip.value) == "the service has no log_filter in chatops.yaml"
    assert fake.requests == []


def test_severity_names_are_checked_when_the_playbook_loads() -> None:
    assert CloudLoggingParams(min_severity="warning").min_severity == "WARNING"
    with pytest.raises(ValidationError, match="unknown severity 'LOUD'"):
        CloudLoggingParams(min_severity="LOUD")
