"""cloud_run.service against a local Cloud Run Admin API v2: what a person reads for each service state."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from google.auth.credentials import AnonymousCredentials, Credentials

from bot.config import Service
from bot.probes.base import Clients, ProbeContext, ProbeFailure, Skip
from bot.probes.cloud_run import CloudRunServiceParams, service
from bot.redaction import redact
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


def check(endpoint: str, credentials: Any = None, svc: Service = IMGSTREAM) -> tuple[Status, str, str]:
    clients = Clients(cloud_run_endpoint=endpoint, google_credentials=credentials or AnonymousCredentials())
    result = service(ProbeContext("imgstream", svc, clients, time.monotonic() + 30), CloudRunServiceParams())
    return result.status, result.summary, result.evidence


def test_healthy_service(fake: FakeCloudRun) -> None:
    status, summary, evidence = check(fake.serve(healthy()).url)
    assert (status, summary) == (Status.OK, f"ready; latest revision {GOOD}; traffic: 100% latest ({GOOD})")
    assert "URL: https://imgstream-production-3k2j4h5g6a-uc.a.run.app" in evidence
    assert [r.path for r in fake.requests] == [f"/v2/{SERVICE_NAME}"]
    assert fake.requests[0].authorization is None  # anonymous credentials send no token


def test_the_environment_and_identity_that_fixes_change_are_shown_with_secrets_masked(
    fake: FakeCloudRun,
) -> None:
    service_json, revisions = healthy()
    service_json["template"]["containers"][0]["env"] = [
        {"name": "GCS_BUCKET_PRODUCTION", "value": "imgstream-uploads"},
        {"name": "DB_PASSWORD", "value": "hunter2-prod"},
        {"name": "JWT_KEY", "valueSource": {"secretKeyRef": {"secret": "jwt-signing-key", "version": "3"}}},
    ]
    _, _, evidence = check(fake.serve((service_json, revisions)).url)
    assert f"Runs as: imgstream-cloud-run-production@{PROJECT}.iam.gserviceaccount.com" in evidence
    shown = redact(evidence)  # as every posted text is
    assert (
        "GCS_BUCKET_PRODUCTION=imgstream-uploads" in shown
        and "JWT_KEY from secret jwt-signing-key:3" in shown
    )
    assert "hunter2" not in shown and "DB_PASSWORD=[REDACTED]" in shown


def test_latest_revision_that_failed_to_start_is_critical_with_its_reason(fake: FakeCloudRun) -> None:
    status, summary, evidence = check(fake.serve(failed_latest_revision()).url)
    assert status == Status.CRITICAL
    assert summary == (
        f"revision {BAD} failed: The user-provided container failed to start and listen on the port defined "
        f"provided by the PORT=8080 environment variable; the last ready revision is {GOOD}; traffic: 100% {GOOD}"
    )
    assert f"Revision logs: https://console.cloud.google.com/logs/viewer?project={PROJECT}" in evidence
    assert "  ContainerHealthy     CONDITION_FAILED       The user-provided container failed" in evidence
    assert [r.path for r in fake.requests] == [f"/v2/{SERVICE_NAME}", f"/v2/{SERVICE_NAME}/revisions/{BAD}"]


def test_failed_revision_is_explained_by_the_service_when_the_revision_cannot_be_read(
    fake: FakeCloudRun,
) -> None:
    svc, _ = failed_latest_revision()
    fake.serve((svc, []))
    status, summary, _ = check(fake.url)
    assert status == Status.CRITICAL
    assert summary.startswith(
        f"revision {BAD} failed: Revision '{BAD}' is not ready and cannot serve traffic. The user-provided container"
    )


def test_revision_still_deploying_is_a_warning(fake: FakeCloudRun) -> None:
    svc, revisions = healthy()
    svc.update(
        reconciling=True,
        latestCreatedRevision=f"{SERVICE_NAME}/revisions/{BAD}",
        terminalCondition={"type": "Ready", "state": "CONDITION_RECONCILING"},
    )
    status, summary, _ = check(fake.serve((svc, revisions)).url)
    assert (status, summary) == (
        Status.WARN,
        f"revision {BAD} is still deploying (not ready yet); traffic: 100% latest ({GOOD})",
    )


def test_traffic_split_names_each_revision_and_tag(fake: FakeCloudRun) -> None:
    svc, revisions = healthy()
    svc["trafficStatuses"] = [
        {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": GOOD, "percent": 90},
        {
            "type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION",
            "revision": f"{SERVICE}-00041-q7r",
            "percent": 10,
            "tag": "canary",
        },
    ]
    _, summary, _ = check(fake.serve((svc, revisions)).url)
    assert summary.endswith(f"traffic: 90% {GOOD}, 10% {SERVICE}-00041-q7r (tag canary)")


def test_unknown_service_is_an_error_naming_it(fake: FakeCloudRun) -> None:
    with pytest.raises(ProbeFailure) as failure:
        check(fake.url)
    assert str(failure.value) == (
        f"Cloud Run has no service '{SERVICE}' in project {PROJECT}, region {REGION} (404 Not Found)"
    )


def test_access_denied(fake: FakeCloudRun) -> None:
    fake.status = (
        403,
        f"Permission 'run.services.get' denied on resource '{SERVICE_NAME}'.",
        "PERMISSION_DENIED",
    )
    with pytest.raises(ProbeFailure) as failure:
        check(fake.url)
    assert str(failure.value) == (
        f"Cloud Run API denied access (403): Permission 'run.services.get' denied on resource '{SERVICE_NAME}'."
    )


def test_endpoint_down() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(ProbeFailure) as failure:
        check(endpoint)
    assert str(failure.value) == f"Cloud Run API at {endpoint} refused the connection"


class StaticToken(Credentials):  # type: ignore[misc]
    """Credentials whose refresh hands out a fixed access token (no network)."""

    def __init__(self) -> None:
        super().__init__()
        self.refreshes = 0

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        self.token = "ya29.a0AfB_test-token"


def test_sends_the_credentials_bearer_token(fake: FakeCloudRun) -> None:
    credentials = StaticToken()
    check(fake.serve(failed_latest_revision()).url, credentials)
    assert [r.authorization for r in fake.requests] == ["Bearer ya29.a0AfB_test-token"] * 2
    assert credentials.refreshes == 1


def test_service_without_cloud_run_settings_is_skipped(fake: FakeCloudRun) -> None:
    bare = Service.model_validate({"guide": "imgstream", "team": "imgstream"})
    with pytest.raises(Skip) as skip:
        check(fake.url, svc=bare)
    assert str(skip.value) == "the service has no project, region, cloud_run_service in chatops.yaml"
    assert fake.requests == []


def test_the_client_library_loads_only_when_cloud_run_is_first_asked() -> None:
    """Start-up imports the registry; google-cloud-run takes over half a second to load, so it waits."""
    loaded = "import sys, bot.registry; print('google.cloud.run_v2' in sys.modules)"
    answer = subprocess.run([sys.executable, "-c", loaded], capture_output=True, text=True, check=True)
    assert answer.stdout.strip() == "False"
