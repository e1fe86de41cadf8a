"""Alertmanager webhook intake: the payload read into typed alerts, every malformed body refused with the
reason, what the bot reads from an alert (service, SEV, playbook text), and what a real Alertmanager sends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alertmanager_harness import Alertmanager, WebhookReceiver, require_alertmanager

from bot.alerts import (
    Alert,
    AlertBatch,
    AlertPayloadError,
    AlertStatus,
    match_text,
    parse_webhook,
    service_of,
    sev_of,
)
from bot.config import Config, Service
from bot.errors import ChatOpsError
from bot.matcher import Matcher
from bot.severity import Sev

# /work/shared/slack-payloads/alertmanager_webhook_v4.json: "CONSTRUCTED example that follows the schema
# documented in prometheus/alertmanager docs/configuration.md <webhook_config> (HEAD 68fb2d57, v0.34.0)".
SAMPLE: dict[str, Any] = {
    "version": "4",
    "groupKey": '{}/{severity=~"critical|warning"}:{alertname="HighErrorRate", service="checkout"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "chatops-bot",
    "groupLabels": {"alertname": "HighErrorRate", "service": "checkout"},
    "commonLabels": {
        "alertname": "HighErrorRate",
        "service": "checkout",
        "severity": "critical",
        "env": "prod",
    },
    "commonAnnotations": {
        "summary": "checkout 5xx rate above 5%",
        "runbook_url": "https://runbooks.example.com/checkout-5xx",
    },
    "externalURL": "http://alertmanager.example.com:9093",
    "notification_reason": "",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "HighErrorRate",
                "service": "checkout",
                "severity": "critical",
                "env": "prod",
                "instance": "checkout-7d9f:8080",
            },
            "annotations": {
                "summary": "checkout 5xx rate above 5%",
                "description": "5xx ratio 0.073 for 10m",
            },
            "startsAt": "2026-08-20T10:15:30.123Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.example.com:9090/graph?g0.expr=...",
            "fingerprint": "c3f4a1b2d5e6f708",
        }
    ],
}
TOKEN = "am-webhook-token-0123456789"


def body(**change: Any) -> str:
    return json.dumps({**SAMPLE, **change})


def with_alert(**change: Any) -> str:
    return body(alerts=[{**SAMPLE["alerts"][0], **change}])


def alert(**labels: str) -> Alert:
    return Alert.model_validate({**SAMPLE["alerts"][0], "labels": labels})


def test_the_sample_parses() -> None:
    batch = parse_webhook(body())
    assert (batch.version, batch.status, batch.receiver, batch.truncated_alerts) == (
        "4",
        "firing",
        "chatops-bot",
        0,
    )
    assert batch.group_key == SAMPLE["groupKey"]
    assert batch.group_labels == {"alertname": "HighErrorRate", "service": "checkout"}
    assert batch.common_annotations["runbook_url"] == "https://runbooks.example.com/checkout-5xx"
    assert batch.external_url == "http://alertmanager.example.com:9093"
    [first] = batch.alerts
    assert first.is_firing and first.status is AlertStatus.FIRING
    assert first.starts_at == datetime(2026, 8, 20, 10, 15, 30, 123000, tzinfo=UTC)
    assert first.ends_at is None  # Alertmanager's zero time: not ended
    assert (first.name, first.title, first.fingerprint) == (
        "HighErrorRate",
        "checkout 5xx rate above 5%",
        "c3f4a1b2d5e6f708",
    )
    assert first.generator_url == "http://prometheus.example.com:9090/graph?g0.expr=..."


def test_a_resolved_alert_has_its_end() -> None:
    batch = parse_webhook(with_alert(status="resolved", endsAt="2026-08-20T10:45:00.000000001Z"))
    [first] = batch.alerts
    assert not first.is_firing
    assert first.ends_at == datetime(2026, 8, 20, 10, 45, tzinfo=UTC)


def test_keys_from_newer_alertmanagers_are_ignored() -> None:
    newer = {
        **SAMPLE,
        "routeLabels": {"team": "checkout"},
        "alerts": [{**SAMPLE["alerts"][0], "silencedBy": []}],
    }
    assert parse_webhook(json.dumps(newer)) == parse_webhook(body())


def test_what_older_alertmanagers_leave_out_gets_its_default() -> None:
    older = {k: v for k, v in SAMPLE.items() if k not in ("truncatedAlerts", "groupLabels", "externalURL")}
    batch = parse_webhook(json.dumps(older))
    assert (batch.truncated_alerts, batch.group_labels, batch.external_url) == (0, {}, "")


def test_parse_accepts_bytes() -> None:
    assert parse_webhook(body().encode()) == parse_webhook(body())


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (
            "{not json",
            "the body is not JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
        ),
        ("[]", "expected a JSON object, got list"),
        (body(version="5"), "expected payload version '4', got version '5'"),
        (body(version=4), "expected payload version '4', got version 4"),
        (
            json.dumps({k: v for k, v in SAMPLE.items() if k != "version"}),
            "expected payload version '4', got no version",
        ),
        (json.dumps({k: v for k, v in SAMPLE.items() if k != "alerts"}), "alerts: Field required"),
        (body(alerts=[]), "alerts: List should have at least 1 item after validation, not 0 (got [])"),
        (
            body(alerts={"status": "firing"}),
            "alerts: Input should be a valid list (got {'status': 'firing'})",
        ),
        (body(status="pending"), "status: Input should be 'firing' or 'resolved' (got 'pending')"),
        (json.dumps({k: v for k, v in SAMPLE.items() if k != "receiver"}), "receiver: Field required"),
        (body(truncatedAlerts=-1), "truncatedAlerts: Input should be greater than or equal to 0 (got -1)"),
        (
            body(commonLabels=["env=prod"]),
            "commonLabels: Input should be a valid dictionary (got ['env=prod'])",
        ),
        (with_alert(labels=None), "alerts[0].labels: Input should be a valid dictionary (got None)"),
        (
            with_alert(labels={"severity": 1}),
            "alerts[0].labels.severity: Input should be a valid string (got 1)",
        ),
        (
            with_alert(startsAt="yesterday"),
            "alerts[0].startsAt: Input should be a valid datetime or date, input is too short (got 'yesterday')",
        ),
        (
            with_alert(startsAt="2026-08-20T10:15:30"),
            "alerts[0].startsAt: Input should have timezone info (got '2026-08-20T10:15:30')",
        ),
    ],
)
def test_a_malformed_body_is_refused_with_what_is_wrong(raw: str, problem: str) -> None:
    with pytest.raises(AlertPayloadError) as refused:
        parse_webhook(raw)
    assert refused.value.problems == [problem]
    assert str(refused.value) == f"not an Alertmanager webhook notification: {problem}"
    assert isinstance(refused.value, ChatOpsError)  # the one error handler turns it into text


def test_several_problems_are_all_named() -> None:
    with pytest.raises(AlertPayloadError) as refused:
        parse_webhook(with_alert(status="pending", fingerprint=7, startsAt=None))
    assert refused.value.problems == [
        "alerts[0].status: Input should be 'firing' or 'resolved' (got 'pending')",
        "alerts[0].startsAt: Input should be a valid datetime (got None)",
        "alerts[0].fingerprint: Input should be a valid string (got 7)",
    ]


@pytest.mark.parametrize(
    ("labels", "service"),
    [
        ({"service": "api-gateway"}, "api-gateway"),
        ({"service": "AI-Gateway"}, "api-gateway"),  # an alias, any case
        ({"app": "tldr", "job": "node-exporter"}, "tldr-api"),
        (
            {"service": "checkout", "app": "imgstream-production"},
            "imgstream",
        ),  # the first label that names one
        ({"job": "convergence-data-pipeline"}, "convergence-api"),
        ({"deployment": "auth-service", "namespace": "microservices"}, "auth-service"),
        ({"deployment": "api-gateway", "namespace": "microservices"}, "ms-api-gateway"),  # namespace decides
        ({"service": "api-gateway", "namespace": "microservices"}, "ms-api-gateway"),
        ({"deployment": "api-gateway", "namespace": "arch-separation"}, "api-gateway"),
        ({"namespace": "arch-separation", "pod": "api-gateway-7d9f-x2k4"}, "api-gateway"),  # its only service
        ({"namespace": "microservices"}, None),  # four services live there
        ({"job": "node-exporter", "namespace": "monitoring"}, None),
        ({}, None),
    ],
)
def test_the_alerts_service_comes_from_its_labels(
    example_config: Config, labels: dict[str, str], service: str | None
) -> None:
    assert service_of(alert(**labels), example_config.services) == service


def test_a_deployment_name_two_services_share_needs_the_namespace() -> None:
    def runs(namespace: str) -> Service:
        return Service.model_validate(
            {"guide": "g", "team": "t", "kubernetes": {"namespace": namespace, "deployment": "worker"}}
        )

    services = {"billing-worker": runs("billing"), "search-worker": runs("search")}
    assert service_of(alert(deployment="worker"), services) is None
    assert service_of(alert(deployment="worker", namespace="search"), services) == "search-worker"


def test_the_service_labels_are_configurable(example_config: Config) -> None:
    tagged = alert(component="dp", service="api-gateway")
    assert service_of(tagged, example_config.services, labels=("component",)) == "data-processor"


@pytest.mark.parametrize(
    ("severity", "sev"),
    [
        ("critical", Sev.SEV1),
        ("CRITICAL", Sev.SEV1),
        ("error", Sev.SEV2),
        ("high", Sev.SEV2),
        ("warning", Sev.SEV3),
        ("info", Sev.SEV4),
        ("low", Sev.SEV4),
        ("page", None),
    ],
)
def test_the_sev_comes_from_the_severity_label(severity: str, sev: Sev | None) -> None:
    assert sev_of(alert(severity=severity)) == sev


def test_an_alert_without_a_severity_has_no_sev() -> None:
    assert sev_of(alert(alertname="X")) is None


def test_the_sev_label_and_levels_are_configurable() -> None:
    assert sev_of(alert(priority="p1"), label="priority", levels={"P1": Sev.SEV1}) == Sev.SEV1


def test_the_playbook_text_is_the_name_summary_and_description(matcher: Matcher) -> None:
    [first] = parse_webhook(body()).alerts
    assert match_text(first) == "HighErrorRate\ncheckout 5xx rate above 5%\n5xx ratio 0.073 for 10m"
    bare = alert(alertname="TargetDown").model_copy(update={"annotations": {}})
    assert (match_text(bare), bare.title) == ("TargetDown", "TargetDown")
    best = matcher.match(match_text(first), guide="ai-platform").best
    assert best is not None and best.playbook.id == "ai-platform/5xx-errors"


# --- a real Alertmanager ---


@pytest.fixture(scope="module")
def notified() -> Iterator[tuple[Alertmanager, WebhookReceiver]]:
    require_alertmanager()
    with WebhookReceiver() as receiver, Alertmanager(f"{receiver.url}/alertmanager", TOKEN) as alertmanager:
        yield alertmanager, receiver


def rfc3339(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def test_what_a_real_alertmanager_sends_parses_firing_and_resolved(
    notified: tuple[Alertmanager, WebhookReceiver], example_config: Config
) -> None:
    alertmanager, receiver = notified
    started = datetime.now(UTC).replace(microsecond=250000) - timedelta(minutes=2)
    sent = {
        "labels": {"alertname": "APIGatewayHighErrorRate", "service": "api-gateway", "severity": "critical"},
        "annotations": {"summary": "5xx ratio above 5% for 5 minutes", "description": "ratio 0.07"},
        "startsAt": rfc3339(started),
        "generatorURL": "http://prometheus.test:9090/graph?g0.expr=vector%281%29",
    }
    alertmanager.post_alerts([sent])
    [firing] = receiver.wait_for(1)

    assert firing.path == "/alertmanager"
    assert firing.headers["authorization"] == f"Bearer {TOKEN}"
    assert firing.headers["content-type"] == "application/json"
    raw = firing.json()
    assert _fields_we_read(AlertBatch) <= set(raw)  # nothing we read is left to a default
    assert _fields_we_read(Alert) <= set(raw["alerts"][0])
    batch = parse_webhook(firing.body)
    assert (batch.version, batch.status, batch.receiver) == ("4", AlertStatus.FIRING, "chatops-bot")
    assert batch.group_labels == {"alertname": "APIGatewayHighErrorRate", "service": "api-gateway"}
    assert (batch.external_url, batch.truncated_alerts) == (alertmanager.url, 0)
    [fired] = batch.alerts
    assert (fired.labels, fired.annotations) == (sent["labels"], sent["annotations"])
    assert (fired.starts_at, fired.generator_url) == (started, sent["generatorURL"])
    assert raw["alerts"][0]["endsAt"] == "0001-01-01T00:00:00Z" and fired.ends_at is None
    assert fired.is_firing and fired.fingerprint
    assert service_of(fired, example_config.services) == "api-gateway"
    assert sev_of(fired) == Sev.SEV1

    # Prometheus resolves an alert by sending it again with an end that has passed.
    ended = datetime.now(UTC).replace(microsecond=500000) - timedelta(seconds=1)
    alertmanager.post_alerts([{**sent, "endsAt": rfc3339(ended)}])
    resolved = parse_webhook(receiver.wait_for(2)[1].body)
    assert (resolved.status, resolved.group_key) == (AlertStatus.RESOLVED, batch.group_key)
    [gone] = resolved.alerts
    assert (gone.status, gone.ends_at, gone.fingerprint) == (AlertStatus.RESOLVED, ended, fired.fingerprint)


def _fields_we_read(model: type[Alert] | type[AlertBatch]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}
