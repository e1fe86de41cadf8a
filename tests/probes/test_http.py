"""http.check against local HTTP and HTTPS servers: status, latency, JSON health fields, the certificate."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Iterator

import pytest
from fakes.http_server import CertAuthority, RecordingServer

from bot.config import Service
from bot.findings import ProbeResult
from bot.probes.base import Clients, ProbeContext, ProbeFailure, Skip
from bot.probes.http import HttpCheckParams, check
from bot.severity import Status

HEALTHY = {"status": "ok", "checks": {"circuit_breaker": "closed", "database": "ok", "replicas": 3}}
TRIPPED = {"status": "degraded", "checks": {"circuit_breaker": "open", "database": "ok", "replicas": 3}}
BREAKER = {"checks.circuit_breaker": "closed"}


def serve(server: RecordingServer) -> RecordingServer:
    server.route("/health", json_body=HEALTHY)
    server.route("/degraded", json_body=TRIPPED)
    server.route("/down", status=503, text="upstream unavailable")
    server.route("/slow", json_body=HEALTHY, delay_s=0.3)
    server.route("/hang", json_body=HEALTHY, delay_s=10)
    server.route("/moved", status=301, headers={"Location": "/health"})
    server.route("/page", text="<html>login</html>")
    return server


@pytest.fixture
def site() -> Iterator[RecordingServer]:
    with serve(RecordingServer()) as server:
        yield server
    assert server.methods() <= {"GET"}


def run(health_url: str, verify: bool | str = True, **params: object) -> ProbeResult:
    service = Service.model_validate({"guide": "ai-platform", "team": "platform", "health_url": health_url})
    ctx = ProbeContext("api-gateway", service, Clients(http_verify=verify), time.monotonic() + 10)
    return check(ctx, HttpCheckParams.model_validate(params))


def test_healthy_endpoint(site: RecordingServer) -> None:
    result = run(f"{site.url}/health", json_fields=BREAKER)
    assert result.status == Status.OK
    assert re.fullmatch(rf"{site.url}/health: HTTP 200 in \d+ ms", result.summary)
    assert "checks.circuit_breaker: closed" in result.evidence.splitlines()
    assert [(r.method, r.path) for r in site.requests] == [("GET", "/health")]


def test_open_circuit_breaker_is_critical(site: RecordingServer) -> None:
    result = run(f"{site.url}/degraded", json_fields=BREAKER)
    assert result.status == Status.CRITICAL
    assert re.fullmatch(rf"{site.url}/degraded: HTTP 200 in \d+ ms; circuit breaker open", result.summary)
    assert "checks.circuit_breaker: open" in result.evidence.splitlines()


def test_fields_compare_as_strings_and_missing_ones_warn(site: RecordingServer) -> None:
    result = run(f"{site.url}/health", json_fields={"checks.replicas": "3", "checks.cache": "ok"})
    assert result.status == Status.WARN
    assert result.summary.endswith("; checks.cache missing from the body")
    page = run(f"{site.url}/page", json_fields=BREAKER)
    assert (page.status, page.summary.split("; ")[1]) == (
        Status.WARN,
        "body is not JSON, cannot check checks.circuit_breaker",
    )


def test_unexpected_status_is_critical_and_shows_the_body(site: RecordingServer) -> None:
    result = run(f"{site.url}/down")
    assert result.status == Status.CRITICAL
    assert re.fullmatch(rf"{site.url}/down: HTTP 503 in \d+ ms; expected 200", result.summary)
    assert "body: upstream unavailable" in result.evidence
    assert run(f"{site.url}/down", expect_status=[200, 503]).status == Status.OK


def test_slow_answer_is_a_warning(site: RecordingServer) -> None:
    result = run(f"{site.url}/slow", latency_warn_ms=100, latency_critical_ms=5000)
    assert result.status == Status.WARN
    assert re.fullmatch(
        rf"{site.url}/slow: HTTP 200 in \d+ ms; slow \(warn 100 ms, critical 5 s\)", result.summary
    )


def test_no_answer_within_the_timeout_is_critical(site: RecordingServer) -> None:
    result = run(f"{site.url}/hang", timeout_s=0.3)
    assert (result.status, result.summary) == (Status.CRITICAL, f"{site.url}/hang: no answer within 0.3 s")


def test_redirect_is_reported_not_followed(site: RecordingServer) -> None:
    result = run(f"{site.url}/moved")
    assert result.status == Status.WARN
    assert result.summary.endswith("; redirects to /health (expected 200)")
    assert "Location: /health" in result.evidence
    followed = run(f"{site.url}/moved", follow_redirects=True)
    assert followed.status == Status.OK
    assert [r.path for r in site.requests] == ["/moved", "/moved", "/health"]


def test_a_refused_connection_could_not_be_checked() -> None:
    # The bot could not reach it: that says as much about where the bot runs as about the service.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/health"
        result = run(url)
    assert (result.status, result.summary) == (
        Status.ERROR,
        f"could not reach {url} from the bot: connection refused",
    )
    assert "faults" not in result.data, "an unknown is no evidence"


def test_a_host_that_does_not_resolve_could_not_be_checked() -> None:
    result = run("http://health.chatops-test.invalid/health")
    assert result.status == Status.ERROR
    assert result.summary.startswith("could not reach http://health.chatops-test.invalid/health from the bot")


def test_what_is_wrong_names_the_fault_only(site: RecordingServer) -> None:
    result = run(f"{site.url}/down")
    (fault,) = result.data["faults"]
    assert (fault["rank"], fault["facts"]) == (1, ["unhealthy-status"]), "a 5xx health URL is not serving"


def test_unusable_url_is_an_error() -> None:
    with pytest.raises(ProbeFailure, match=r"^cannot GET ftp://localhost/health: "):
        run("http://localhost/health", url="ftp://localhost/health")


def test_service_without_health_url_is_skipped() -> None:
    ctx = ProbeContext(
        "api-gateway",
        Service.model_validate({"guide": "ai-platform", "team": "platform"}),
        Clients(),
        time.monotonic() + 5,
    )
    with pytest.raises(Skip, match=r"the service has no health_url in chatops\.yaml"):
        check(ctx, HttpCheckParams())


# --- https ---


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertAuthority:
    pytest.importorskip("cryptography")
    return CertAuthority(tmp_path_factory.mktemp("ca"))


def run_https(ca: CertAuthority, verify: bool | str | None = None, **issue: object) -> ProbeResult:
    """GET /health over https://localhost from a server with a certificate issued with `issue`."""
    with serve(RecordingServer(tls=ca.server_context(**issue))) as server:  # type: ignore[arg-type]
        url = f"https://localhost:{server.port}/health"
        result = run(url, verify=ca.ca_file if verify is None else verify, json_fields=BREAKER)
    assert server.methods() <= {"GET"}
    return result


def test_https_with_a_valid_certificate(ca: CertAuthority) -> None:
    result = run_https(ca, days=90)
    assert result.status == Status.OK
    assert re.fullmatch(
        r"https://localhost:\d+/health: HTTP 200 in \d+ ms; certificate valid for 90 more days",
        result.summary,
    )
    assert "issuer:   Chatops Tests Test CA" in result.evidence
    assert result.data["certificate"]["names"] == ["localhost", "127.0.0.1"]


def test_certificate_expiring_soon_is_a_warning(ca: CertAuthority) -> None:
    result = run_https(ca, days=5)
    assert result.status == Status.WARN
    assert re.fullmatch(
        r"https://localhost:\d+/health: HTTP 200 in \d+ ms; certificate expires in 5 days \(.+ UTC\); warn under 14 days",
        result.summary,
    )


def test_expired_certificate_is_critical(ca: CertAuthority) -> None:
    result = run_https(ca, days=-3)
    assert result.status == Status.CRITICAL
    assert re.fullmatch(
        r"https://localhost:\d+/health: TLS certificate rejected \(certificate has expired\)", result.summary
    )
    assert "(expired 3 days ago)" in result.evidence  # what the certificate is, read without verifying it


def test_certificate_for_another_host_is_critical(ca: CertAuthority) -> None:
    result = run_https(ca, names=("other.example",))
    assert result.status == Status.CRITICAL
    assert result.summary.endswith(
        ": TLS certificate rejected (Hostname mismatch, certificate is not valid for 'localhost'.)"
    )
    assert "names:    other.example" in result.evidence


def test_without_verification_the_certificate_is_still_checked(ca: CertAuthority) -> None:
    expired = run_https(ca, verify=False, days=-3)
    assert expired.status == Status.CRITICAL
    assert re.search(r"HTTP 200 in \d+ ms; certificate expired 3 days ago \(.+ UTC\)$", expired.summary)
    wrong = run_https(ca, verify=False, names=("other.example",))
    assert wrong.status == Status.CRITICAL
    assert wrong.summary.endswith("; certificate does not match the host name (it is for other.example)")
