"""prometheus.query, prometheus.targets and alertmanager.alerts against a real Prometheus and Alertmanager.

The servers (see promstack.py) start once for the module. The probes reach them through recording proxies
so every test can assert that only GET requests were sent.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fakes.http_server import RecordingServer

from bot.config import Service
from bot.probes.base import Clients, ProbeContext, ProbeFailure, Skip
from bot.probes.prometheus import AlertsParams, PromQueryParams, PromTargetsParams, alerts, query, targets
from bot.severity import Status
from probes.promstack import PromStack, missing_binaries

ERROR_RATIO = 'sum(http_requests_total{service="{service}", code=~"5.."}) / sum(http_requests_total{service="{service}"})'


@dataclass
class Stack:
    servers: PromStack
    prometheus: RecordingServer  # proxies the probes talk to
    alertmanager: RecordingServer


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    missing = missing_binaries()
    if missing:
        reason = f"{' and '.join(missing)} not on PATH (Debian: apt-get install prometheus prometheus-alertmanager)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Prometheus tests: {reason}")
        pytest.skip(reason)
    servers = PromStack().start()
    try:
        with (
            RecordingServer(upstream=servers.prometheus_url) as prometheus,
            RecordingServer(upstream=servers.alertmanager_url) as alertmanager,
        ):
            yield Stack(servers, prometheus, alertmanager)
    finally:
        servers.stop()


@pytest.fixture(autouse=True)
def only_reads(request: pytest.FixtureRequest) -> Iterator[None]:
    if "stack" not in request.fixturenames:
        yield
        return
    stack: Stack = request.getfixturevalue("stack")
    stack.prometheus.requests.clear()
    stack.alertmanager.requests.clear()
    yield
    assert stack.prometheus.methods() | stack.alertmanager.methods() <= {"GET"}


def context(
    prometheus: str | None, alertmanager: str | None = None, name: str = "api-gateway", seconds: float = 10
) -> ProbeContext:
    service = Service.model_validate(
        {
            "guide": "microservices-platform",
            "team": "platform",
            "prometheus_url": prometheus,
            "alertmanager_url": alertmanager,
        }
    )
    return ProbeContext(name, service, Clients(), time.monotonic() + seconds)


def ask(stack: Stack, **params: object) -> tuple[Status, str, str]:
    result = query(context(stack.prometheus.url), PromQueryParams.model_validate(params))
    return result.status, result.summary, result.evidence


# --- prometheus.query ---


@pytest.mark.parametrize(
    ("warn", "critical", "status"),
    [(0.1, 0.5, Status.OK), (0.01, 0.1, Status.WARN), (0.01, 0.02, Status.CRITICAL)],
)
def test_error_ratio_against_thresholds(stack: Stack, warn: float, critical: float, status: Status) -> None:
    got, summary, evidence = ask(stack, query=ERROR_RATIO, label="5xx ratio", warn=warn, critical=critical)
    assert (got, summary) == (status, f"5xx ratio 0.05 (warn {warn}, critical {critical})")
    assert 'query: sum(http_requests_total{service="api-gateway", code=~"5.."})' in evidence
    assert stack.prometheus.requests[0].path == "/api/v1/query"


def test_several_series_report_the_worst_and_list_them(stack: Stack) -> None:
    status, summary, evidence = ask(
        stack,
        query='http_request_duration_p95_seconds{service="{service}"}',
        label="p95 latency",
        unit="s",
        warn=2,
        critical=5,
    )
    assert status == Status.WARN
    assert summary == 'p95 latency 2.4 s at route="/v1/chat" (warn 2 s, critical 5 s); worst of 2 series'
    rows = evidence.splitlines()[1:]
    assert "2.4 s" in rows[0] and 'route="/v1/chat"' in rows[0]
    assert "0.01 s" in rows[1] and 'route="/health"' in rows[1]


def test_below_direction_flags_too_few(stack: Stack) -> None:
    status, summary, _ = ask(
        stack, query="sum(up)", label="targets up", direction="below", warn=3, critical=2
    )
    assert (status, summary) == (Status.CRITICAL, "targets up 1 (warn 3, critical 2)")


def test_no_series_is_a_warning_that_names_the_query(stack: Stack) -> None:
    status, summary, evidence = ask(
        stack, query='http_requests_total{service="nope"}', label="5xx ratio", warn=0.01
    )
    assert (status, summary) == (Status.WARN, "no data for 5xx ratio")
    assert evidence.splitlines() == [
        'query: http_requests_total{service="nope"}',
        "the query returned no series",
    ]


def test_nan_is_no_data_and_no_data_can_be_ok(stack: Stack) -> None:
    status, summary, evidence = ask(stack, query="vector(0) / vector(0)", label="5xx ratio", warn=0.01)
    assert (status, summary) == (Status.WARN, "no data for 5xx ratio")
    assert "every series is NaN" in evidence
    firing = 'count(ALERTS{alertstate="firing", service="nope"})'
    assert ask(stack, query=firing, label="firing alerts", warn=20, no_data="ok")[0] == Status.OK


def test_bad_promql_is_an_error_with_prometheus_message(stack: Stack) -> None:
    with pytest.raises(ProbeFailure) as failure:
        ask(stack, query="sum(rate(http_requests_total[5m])", label="5xx ratio")
    message = str(failure.value)
    assert message.startswith("Prometheus rejected the query: ")
    assert "parse error" in message and message.endswith("(bad_data)")


# --- prometheus.targets ---


def test_targets_names_the_down_target_and_why(stack: Stack) -> None:
    result = targets(context(stack.prometheus.url), PromTargetsParams())
    down = f"payments/{stack.servers.closed_target}"
    assert (result.status, result.summary) == (
        Status.WARN,
        f"1 of 2 targets down: {down} (connection refused)",
    )
    first = result.evidence.splitlines()[0]
    assert first.startswith(f"down     {down}") and first.endswith("connect: connection refused")
    assert stack.prometheus.requests[0].query == "state=active"


def test_targets_of_one_job(stack: Stack) -> None:
    down = targets(context(stack.prometheus.url), PromTargetsParams(job="pay.*"))
    assert down.status == Status.CRITICAL
    assert down.summary.startswith("1 of 1 targets down for job 'pay.*': payments/")
    up = targets(context(stack.prometheus.url), PromTargetsParams(job="{service}"))
    assert (up.status, up.summary) == (Status.OK, "1 of 1 targets up for job 'api-gateway'")
    none = targets(context(stack.prometheus.url), PromTargetsParams(job="billing"))
    assert (none.status, none.summary) == (Status.WARN, "no active scrape targets for job 'billing'")


# --- alertmanager.alerts ---


def test_firing_critical_alert_for_the_service(stack: Stack) -> None:
    result = alerts(context(None, stack.alertmanager.url), AlertsParams())
    assert result.status == Status.CRITICAL
    assert result.summary == "1 alert firing for service=api-gateway: APIGatewayHighErrorRate (critical)"
    assert "5xx ratio above 5% for 5 minutes" in result.evidence
    (request,) = stack.alertmanager.requests
    assert request.path == "/api/v2/alerts"
    assert "active=true&silenced=false&inhibited=false&filter=service%3D%22api-gateway%22" in request.query


def test_severity_outside_the_critical_list_is_a_warning(stack: Stack) -> None:
    result = alerts(
        context(None, stack.alertmanager.url), AlertsParams(matchers={}, critical_severities=["page"])
    )
    assert (result.status, result.summary) == (
        Status.WARN,
        "1 alert firing: APIGatewayHighErrorRate (critical)",
    )


def test_other_service_has_no_alerts(stack: Stack) -> None:
    result = alerts(context(None, stack.alertmanager.url, name="payments"), AlertsParams())
    assert (result.status, result.summary) == (Status.OK, "no alerts firing for service=payments")


# --- when the monitoring system cannot be asked ---


def test_unreachable_prometheus_is_an_error() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{closed.getsockname()[1]}"
        with pytest.raises(ProbeFailure) as failure:
            query(context(url), PromQueryParams(query="up", label="up"))
        assert str(failure.value) == f"Prometheus at {url} refused the connection"
        with pytest.raises(ProbeFailure, match=r"^Alertmanager at .* refused the connection$"):
            alerts(context(None, url), AlertsParams())


def test_prometheus_that_never_answers_is_bounded_by_the_deadline() -> None:
    with RecordingServer() as slow:
        slow.route("/api/v1/targets", json_body={}, delay_s=5)
        # The client gives up a margin before the probe's deadline, so its reason beats the runner's.
        with pytest.raises(ProbeFailure, match=rf"^Prometheus at {slow.url} did not answer within 0\.5 s$"):
            targets(context(slow.url, seconds=1.0), PromTargetsParams())
    assert slow.methods() == {"GET"}


def test_service_without_prometheus_is_skipped() -> None:
    with pytest.raises(Skip, match=r"the service has no prometheus_url in chatops\.yaml"):
        query(context(None), PromQueryParams(query="up", label="up"))
