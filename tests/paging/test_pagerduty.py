"""The PagerDuty client against the Events API stand-in, with a real httpx client: what on-call gets paged
with, and what the outbox is told to do when PagerDuty or the network fails."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from bot.paging.pagerduty import (
    BACKOFF_S,
    RATE_LIMITED_BACKOFF_S,
    Delivery,
    InvalidEventError,
    Outcome,
    PagerDutyEvent,
    acknowledge_for,
    resolve_for,
    retry_after,
    send,
    trigger_for,
)
from bot.severity import Sev
from sandbox.pagerduty import ROUTING_KEY, FakePagerDuty

INCIDENT = "INC-20260101-0001"
THREAD = "https://sandbox.slack.com/archives/C0INCIDENTS/p1767258000000100"


@pytest.fixture
def pd() -> Iterator[FakePagerDuty]:
    with FakePagerDuty() as fake:
        yield fake


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client() as client:
        yield client


def page(sev: Sev = Sev.SEV1, title: str = "504s since the deploy", **kwargs: Any) -> PagerDutyEvent:
    return trigger_for(ROUTING_KEY, INCIDENT, title, "api-gateway", sev, THREAD, **kwargs)


def test_a_page_reaches_pagerduty_as_one_alert_linked_to_the_thread(
    pd: FakePagerDuty, http: httpx.Client
) -> None:
    delivery = send(page(details={"playbook": "5xx-errors"}), pd.events_url, http)
    assert delivery == Delivery(Outcome.DELIVERED, 202, INCIDENT, "Event processed")
    alert = pd.alert(INCIDENT)
    assert alert is not None
    assert (alert.summary, alert.severity, alert.source) == (
        "[SEV-1] api-gateway: 504s since the deploy",
        "critical",
        "api-gateway",
    )
    [event] = alert.events
    assert event["links"] == [{"href": THREAD, "text": f"Slack thread of {INCIDENT}"}]
    assert event["payload"]["custom_details"] == {
        "incident": INCIDENT,
        "service": "api-gateway",
        "severity": "SEV-1",
        "playbook": "5xx-errors",
        "slack_thread": THREAD,
    }
    assert (event["client"], event["client_url"]) == ("incident-chatops", THREAD)


@pytest.mark.parametrize(
    ("sev", "severity"),
    [(Sev.SEV1, "critical"), (Sev.SEV2, "error"), (Sev.SEV3, "warning"), (Sev.SEV4, "info")],
)
def test_the_sev_sets_pagerdutys_severity(
    pd: FakePagerDuty, http: httpx.Client, sev: Sev, severity: str
) -> None:
    assert send(page(sev), pd.events_url, http).outcome is Outcome.DELIVERED
    assert pd.alert(INCIDENT).severity == severity  # type: ignore[union-attr]


def test_a_retried_page_does_not_open_a_second_alert(pd: FakePagerDuty, http: httpx.Client) -> None:
    for _ in range(2):
        send(page(), pd.events_url, http)
    assert len(pd.alerts()) == 1


def test_acknowledge_and_resolve_reach_the_incidents_alert(pd: FakePagerDuty, http: httpx.Client) -> None:
    send(page(), pd.events_url, http)
    assert send(acknowledge_for(ROUTING_KEY, INCIDENT), pd.events_url, http).dedup_key == INCIDENT
    assert pd.alert(INCIDENT).status == "acknowledged"  # type: ignore[union-attr]
    assert send(resolve_for(ROUTING_KEY, INCIDENT), pd.events_url, http).outcome is Outcome.DELIVERED
    assert pd.alert(INCIDENT).status == "resolved"  # type: ignore[union-attr]
    assert pd.received()[-1].body == {
        "routing_key": ROUTING_KEY,
        "event_action": "resolve",
        "dedup_key": INCIDENT,
    }


def test_secrets_never_reach_pagerduty(pd: FakePagerDuty, http: httpx.Client) -> None:
    title = "deploy failed: password=hunter2 and token xoxb-1234567890-abcdefghij"
    send(
        page(title=title, details={"log": "DATABASE_URL=postgres://app:s3cr3tpw@db:5432/app"}),
        pd.events_url,
        http,
    )
    [received] = pd.received()
    assert received.summary == (
        "[SEV-1] api-gateway: deploy failed: password=[REDACTED] and token [REDACTED SLACK TOKEN]"
    )
    sent = str(received.body)
    assert "hunter2" not in sent and "xoxb-" not in sent and "s3cr3tpw" not in sent


def test_a_long_title_is_cut_to_what_pagerduty_accepts(pd: FakePagerDuty, http: httpx.Client) -> None:
    delivery = send(page(title="connection reset " * 200), pd.events_url, http)
    assert delivery.outcome is Outcome.DELIVERED
    summary = pd.alert(INCIDENT).summary  # type: ignore[union-attr]
    assert (
        len(summary) == 1024
        and summary.startswith("[SEV-1] api-gateway: connection reset")
        and summary[-1] == "…"
    )


def test_the_routing_key_stays_out_of_reprs_and_errors() -> None:
    assert ROUTING_KEY not in repr(page())
    with pytest.raises(InvalidEventError) as refused:
        trigger_for("wrong-key-" + "x" * 20, INCIDENT, "t", "api-gateway", Sev.SEV1)
    assert str(refused.value) == (
        f"PagerDuty would refuse the trigger for {INCIDENT}: routing_key: must be an Events API v2 integration key"
        " (32 letters and digits); got 30 characters"
    )


def test_a_blank_source_is_refused_before_sending() -> None:
    with pytest.raises(InvalidEventError, match=r"payload\.source: String should match pattern"):
        trigger_for(ROUTING_KEY, INCIDENT, "t", " ", Sev.SEV1)


def valid_trigger() -> dict[str, Any]:
    return {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": INCIDENT,
        "payload": {"summary": "504s", "source": "api-gateway", "severity": "critical"},
    }


def changed(change: dict[str, Any] | None = None, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    event = {**valid_trigger(), **(change or {})}
    if payload is not None:
        event["payload"] = {**event["payload"], **payload}
    return {k: v for k, v in event.items() if v is not None}


SAME_RULES = {
    "valid": changed(),
    "with every optional field": changed(
        {"client": "c", "links": [{"href": "https://x"}], "images": [{"src": "https://x/a.png", "alt": "a"}]},
        {
            "timestamp": "2026-01-01T09:00:00Z",
            "component": "db",
            "group": "g",
            "class": "disk",
            "custom_details": {"free": "1%"},
        },
    ),
    "acknowledge": {"routing_key": ROUTING_KEY, "event_action": "acknowledge", "dedup_key": INCIDENT},
    "short routing key": changed({"routing_key": "abc"}),
    "routing key with dashes": changed({"routing_key": "-" * 32}),
    "unknown action": changed({"event_action": "page"}),
    "no action": changed({"event_action": None}),
    "dedup_key of 256": changed({"dedup_key": "k" * 256}),
    "dedup_key of 255": changed({"dedup_key": "k" * 255}),
    "resolve without dedup_key": {"routing_key": ROUTING_KEY, "event_action": "resolve"},
    "trigger without payload": changed({"payload": None}),
    "summary of 1025": changed(payload={"summary": "s" * 1025}),
    "summary of 1024": changed(payload={"summary": "s" * 1024}),
    "blank summary": changed(payload={"summary": "  "}),
    "no source": changed(payload={"source": None}),
    "severity high": changed(payload={"severity": "high"}),
    "timestamp yesterday": changed(payload={"timestamp": "yesterday"}),
    "details a string": changed(payload={"custom_details": "1%"}),
    "link without href": changed({"links": [{"text": "t"}]}),
    "image over http": changed({"images": [{"src": "http://x/a.png"}]}),
    "over 512 KB": changed(payload={"custom_details": {"log": "x" * 512 * 1024}}),
}


@pytest.mark.parametrize("name", SAME_RULES)
def test_the_model_refuses_exactly_what_pagerduty_refuses(
    pd: FakePagerDuty, http: httpx.Client, name: str
) -> None:
    event = SAME_RULES[name]
    try:
        PagerDutyEvent.model_validate(event)
        model_accepts = True
    except ValidationError:
        model_accepts = False
    answer = http.post(pd.events_url, json=event)
    assert model_accepts == (answer.status_code == 202), answer.text


def test_429_is_retried_after_30_s_unless_pagerduty_says_when(http: httpx.Client) -> None:
    with FakePagerDuty(per_minute=1) as pd:
        send(page(), pd.events_url, http)
        limited = send(page(), pd.events_url, http)
        assert (limited.outcome, limited.status, limited.retry_after_s) == (
            Outcome.RETRY,
            429,
            RATE_LIMITED_BACKOFF_S,
        )
        assert limited.message == "Requests for this service are arriving too quickly.  Please retry later."
        pd.fail_next(status=429, retry_after=7)
        assert send(page(), pd.events_url, http).retry_after_s == 7


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried(pd: FakePagerDuty, http: httpx.Client, status: int) -> None:
    pd.fail_next(status=status)
    delivery = send(page(), pd.events_url, http)
    assert (delivery.outcome, delivery.status, delivery.retry_after_s) == (Outcome.RETRY, status, BACKOFF_S)
    assert send(page(), pd.events_url, http).outcome is Outcome.DELIVERED  # what the outbox's retry gets


def test_no_answer_within_the_timeout_is_retried(pd: FakePagerDuty, http: httpx.Client) -> None:
    pd.hang_next()
    delivery = send(page(), pd.events_url, http, timeout_s=0.2)
    assert delivery == Delivery(Outcome.RETRY, None, None, "no answer within 0.2 s", retry_after_s=BACKOFF_S)


def test_a_refused_connection_is_retried(http: httpx.Client) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        url = f"http://127.0.0.1:{closed.getsockname()[1]}/v2/enqueue"
        delivery = send(page(), url, http, timeout_s=2)
    assert (delivery.outcome, delivery.status) == (Outcome.RETRY, None)
    assert delivery.message.startswith("could not reach PagerDuty:")


def test_an_unknown_routing_key_is_rejected_with_pagerdutys_words(http: httpx.Client) -> None:
    with FakePagerDuty(routing_keys=["0" * 32]) as pd:
        delivery = send(page(), pd.events_url, http)
    assert delivery == Delivery(Outcome.REJECTED, 400, None, "Invalid routing key", ("Invalid routing key",))


def test_an_invalid_event_is_rejected_with_pagerdutys_errors(pd: FakePagerDuty, http: httpx.Client) -> None:
    # Only a PagerDuty that changed its rules would refuse a validated event: build one that skips validation.
    unchecked = page().model_copy(update={"payload": None})  # model_copy does not validate
    delivery = send(unchecked, pd.events_url, http)
    assert (delivery.outcome, delivery.status, delivery.message) == (
        Outcome.REJECTED,
        400,
        "Event object is invalid",
    )
    assert delivery.errors == (
        "'payload.summary' is missing or blank",
        "'payload.source' is missing or blank",
        "'payload.severity' is missing or blank",
    )


def test_a_wrong_events_url_is_rejected_not_retried(pd: FakePagerDuty, http: httpx.Client) -> None:
    assert send(page(), f"{pd.url}/v1/enqueue", http).outcome is Outcome.REJECTED
    assert send(page(), "events.pagerduty.com/v2/enqueue", http).outcome is Outcome.REJECTED


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"Retry-After": "120"}, 120.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT", "Date": "Wed, 21 Oct 2015 07:28:00 GMT"}, 30.0),
        ({"Retry-After": "Wed, 21 Oct 2015 07:28:30 GMT"}, None),  # no Date to count from
        ({"Retry-After": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after(httpx.Response(429, headers=headers)) == seconds
