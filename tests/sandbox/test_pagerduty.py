"""The PagerDuty Events API v2 stand-in, driven over HTTP with httpx: what it accepts, refuses and keeps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bot.clock import ManualClock
from sandbox.pagerduty import MAX_EVENT_BYTES, ROUTING_KEY, AlertStatus, FakePagerDuty

OTHER_KEY = "0123456789abcdef0123456789abcdef"

# PagerDuty's own example (api-schema reference/events-v2/openapiv3.json, "Example Event Body").
DOCUMENTED_EVENT: dict[str, Any] = {
    "payload": {
        "summary": "DISK at 99% on machine prod-datapipe03.example.com",
        "timestamp": "2015-07-17T08:42:58.315+0000",
        "severity": "critical",
        "source": "prod-datapipe03.example.com",
        "component": "mysql",
        "group": "prod-datapipe",
        "class": "disk",
        "custom_details": {"free space": "1%", "ping time": "1500ms", "load avg": 0.75},
    },
    "routing_key": "e93facc04764012d7bfb002500d5d1a6",
    "dedup_key": "srv01/mysql",
    "event_action": "trigger",
    "client": "Sample Monitoring Service",
    "client_url": "https://monitoring.service.com",
    "links": [{"href": "http://pagerduty.example.com", "text": "An example link."}],
    "images": [
        {
            "src": "https://chart.googleapis.com/chart?chs=600x400&chd=t:6,2,9,5,2,5,7,4,8,2,1&cht=lc&chds=a&chxt=y&chm=D,0033FF,0,0,5,1",
            "href": "https://google.com",
            "alt": "An example link with an image",
        }
    ],
}


def trigger(
    dedup_key: str | None = "INC-1", routing_key: str = ROUTING_KEY, **payload: Any
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "payload": {
            "summary": "api-gateway 504s",
            "source": "api-gateway",
            "severity": "critical",
            **payload,
        },
    }
    if dedup_key is not None:
        event["dedup_key"] = dedup_key
    return event


def follow_up(action: str, dedup_key: str = "INC-1", routing_key: str = ROUTING_KEY) -> dict[str, Any]:
    return {"routing_key": routing_key, "event_action": action, "dedup_key": dedup_key}


@pytest.fixture
def pd() -> Iterator[FakePagerDuty]:
    with FakePagerDuty(routing_keys=[ROUTING_KEY, OTHER_KEY, DOCUMENTED_EVENT["routing_key"]]) as fake:
        yield fake


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


def send(pd: FakePagerDuty, http: httpx.Client, event: Any) -> httpx.Response:
    return http.post(pd.events_url, json=event)


def errors_for(pd: FakePagerDuty, http: httpx.Client, event: Any) -> list[str]:
    answer = send(pd, http, event)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert (body["status"], body["message"]) == ("invalid event", "Event object is invalid")
    return list(body["errors"])


def test_the_documented_example_is_accepted_as_pagerduty_answers(
    pd: FakePagerDuty, http: httpx.Client
) -> None:
    answer = send(pd, http, DOCUMENTED_EVENT)
    assert answer.status_code == 202
    assert answer.json() == {"status": "success", "message": "Event processed", "dedup_key": "srv01/mysql"}
    alert = pd.alert("srv01/mysql", DOCUMENTED_EVENT["routing_key"])
    assert alert is not None
    assert (alert.status, alert.severity, alert.summary) == (
        AlertStatus.TRIGGERED,
        "critical",
        "DISK at 99% on machine prod-datapipe03.example.com",
    )
    [received] = pd.received()
    assert (received.status, received.applied, received.body) == (202, True, DOCUMENTED_EVENT)
    assert (
        received.describe() == "trigger srv01/mysql DISK at 99% on machine prod-datapipe03.example.com -> 202"
    )


def test_a_trigger_without_dedup_key_gets_a_new_key_and_a_new_alert_each_time(
    pd: FakePagerDuty, http: httpx.Client
) -> None:
    keys = [send(pd, http, trigger(dedup_key=None)).json()["dedup_key"] for _ in range(2)]
    assert keys[0] != keys[1]
    assert all(len(key) == 32 for key in keys)
    assert [a.dedup_key for a in pd.alerts()] == keys


def test_an_alert_goes_triggered_acknowledged_resolved_and_a_new_trigger_opens_a_new_one(
    pd: FakePagerDuty, http: httpx.Client
) -> None:
    statuses = []
    for event in (trigger(), follow_up("acknowledge"), trigger(), follow_up("resolve")):
        assert send(pd, http, event).status_code == 202
        alert = pd.alert("INC-1")
        assert alert is not None
        statuses.append(alert.status)
    # A repeated trigger while acknowledged adds to the alert's log and does not re-notify (stays acknowledged).
    assert statuses == ["triggered", "acknowledged", "acknowledged", "resolved"]
    assert len(pd.alerts()) == 1 and len(pd.alerts()[0].events) == 4

    assert send(pd, http, trigger()).status_code == 202
    assert [a.status for a in pd.alerts()] == ["resolved", "triggered"]


def test_acknowledge_or_resolve_with_no_open_alert_is_accepted_and_dropped(
    pd: FakePagerDuty, http: httpx.Client
) -> None:
    assert send(pd, http, follow_up("acknowledge", "never-triggered")).status_code == 202
    send(pd, http, trigger())
    send(pd, http, follow_up("resolve"))
    assert send(pd, http, follow_up("acknowledge")).json()["status"] == "success"
    assert [r.applied for r in pd.received()] == [False, True, True, False]
    assert pd.alert("INC-1").status == "resolved"  # type: ignore[union-attr]


def test_follow_ups_through_another_routing_key_are_dropped(pd: FakePagerDuty, http: httpx.Client) -> None:
    send(pd, http, trigger())
    assert send(pd, http, follow_up("resolve", routing_key=OTHER_KEY)).status_code == 202
    assert pd.alert("INC-1").status == "triggered"  # type: ignore[union-attr]
    assert pd.alert("INC-1", OTHER_KEY) is None


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"routing_key": "abc"}, ["Length of 'routing_key' is incorrect (should be 32 characters)"]),
        (
            {"routing_key": "e+23rschqsESqk9Q6_-g"},
            [
                "Length of 'routing_key' is incorrect (should be 32 characters)",
                "'routing_key' cannot contain non-alphanumeric characters.",
            ],
        ),
        ({"routing_key": ""}, ["'routing_key' cannot be blank"]),
        ({"event_action": None}, ["'event_action' is missing or blank"]),
        (
            {"event_action": "page"},
            [
                "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')"
            ],
        ),
        ({"dedup_key": "x" * 256}, ["'dedup_key' is too long (maximum is 255 characters)"]),
        ({"dedup_key": 42}, ["'dedup_key' must be a string"]),
        (
            {"payload": None},
            [
                "'payload.summary' is missing or blank",
                "'payload.source' is missing or blank",
                "'payload.severity' is missing or blank",
            ],
        ),
        ({"payload": "disk full"}, ["'payload' must be an object"]),
        ({"links": {"href": "https://x"}}, ["'links' must be an array"]),
        ({"links": [{"text": "no href"}]}, ["'links[0].href' is missing or blank"]),
        ({"links": ["https://x"]}, ["'links[0]' must be an object"]),
        ({"images": [{"src": "http://plain.example.com/a.png"}]}, ["'images[0].src' must be an https URL"]),
        ({"images": [{"src": "https://x/a.png", "alt": 3}]}, ["'images[0].alt' must be a string"]),
    ],
)
def test_malformed_events_are_refused_with_pagerdutys_errors(
    pd: FakePagerDuty, http: httpx.Client, change: dict[str, Any], errors: list[str]
) -> None:
    event = {**trigger(), **change}
    assert errors_for(pd, http, {k: v for k, v in event.items() if v is not None}) == errors
    assert pd.alerts() == []


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"summary": "  "}, ["'payload.summary' is missing or blank"]),
        ({"source": None}, ["'payload.source' is missing or blank"]),
        (
            {"severity": "high"},
            [
                "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')"
            ],
        ),
        ({"timestamp": "yesterday"}, ["'payload.timestamp' is invalid (must be an ISO 8601 timestamp)"]),
        ({"custom_details": "free space 1%"}, ["'payload.custom_details' must be an object"]),
        ({"class": ["disk"]}, ["'payload.class' must be a string"]),
    ],
)
def test_malformed_payloads_are_refused(
    pd: FakePagerDuty, http: httpx.Client, payload: dict[str, Any], errors: list[str]
) -> None:
    event = trigger()
    event["payload"] = {k: v for k, v in {**event["payload"], **payload}.items() if v is not None}
    assert errors_for(pd, http, event) == errors


def test_a_summary_over_1024_characters_is_rejected_not_truncated(
    pd: FakePagerDuty, http: httpx.Client
) -> None:
    assert errors_for(pd, http, trigger(summary="x" * 1025)) == [
        "'summary' is too long (maiximum is 1024 characters)"
    ]
    assert send(pd, http, trigger(summary="x" * 1024)).status_code == 202
    assert pd.alert("INC-1").summary == "x" * 1024  # type: ignore[union-attr]


def test_follow_ups_need_a_dedup_key_and_no_payload(pd: FakePagerDuty, http: httpx.Client) -> None:
    assert errors_for(pd, http, {"routing_key": ROUTING_KEY, "event_action": "resolve"}) == [
        "'dedup_key' is missing or blank"
    ]
    assert send(pd, http, follow_up("acknowledge")).status_code == 202


def test_timestamps_in_iso_8601_are_accepted(pd: FakePagerDuty, http: httpx.Client) -> None:
    for i, stamp in enumerate(
        ["2015-07-17T08:42:58.315+0000", "2026-01-01T09:00:00Z", "2026-01-01T09:00:00+02:00"]
    ):
        assert send(pd, http, trigger(dedup_key=f"k{i}", timestamp=stamp)).status_code == 202


def test_a_body_that_is_not_a_json_object_is_unrecognized(pd: FakePagerDuty, http: httpx.Client) -> None:
    for content in (b"{not json", b"[1, 2]"):
        answer = http.post(pd.events_url, content=content, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400
        assert answer.json() == {
            "status": "Unrecognized object",
            "message": "Event object format is unrecognized",
            "errors": ["JSON parse error"],
        }


def test_only_json_bodies_are_read(pd: FakePagerDuty, http: httpx.Client) -> None:
    answer = http.post(pd.events_url, data={"routing_key": ROUTING_KEY, "event_action": "trigger"})
    assert answer.status_code == 400
    assert answer.json()["errors"] == ["Content-Type must be application/json"]
    assert pd.received()[0].content_type == "application/x-www-form-urlencoded"


def test_events_over_512_kb_are_refused(pd: FakePagerDuty, http: httpx.Client) -> None:
    event = trigger(custom_details={"log": "x" * MAX_EVENT_BYTES})
    assert errors_for(pd, http, event) == ["Event is larger than 512 KB"]


def test_an_unknown_routing_key_is_refused_in_plain_text(pd: FakePagerDuty, http: httpx.Client) -> None:
    answer = send(pd, http, trigger(routing_key="f" * 32))
    assert (answer.status_code, answer.text) == (400, "Invalid routing key")
    assert pd.alerts() == []


def test_with_no_keys_configured_any_well_formed_key_is_accepted(http: httpx.Client) -> None:
    with FakePagerDuty(routing_keys=None) as pd:
        assert send(pd, http, trigger(routing_key="f" * 32)).status_code == 202


def test_over_the_rate_per_routing_key_events_get_429_until_the_minute_has_passed(http: httpx.Client) -> None:
    clock = ManualClock()
    with FakePagerDuty(routing_keys=[ROUTING_KEY, OTHER_KEY], per_minute=3, clock=clock) as pd:
        assert [send(pd, http, trigger(f"k{i}")).status_code for i in range(4)] == [202, 202, 202, 429]
        refused = pd.received()[-1]
        assert refused.answer == {
            "status": "throttle exceeded",
            "message": "Requests for this service are arriving too quickly.  Please retry later.",
            "errors": ["Enhance Your Calm."],
        }
        assert pd.alert("k3") is None
        assert (
            send(pd, http, trigger("k3", routing_key=OTHER_KEY)).status_code == 202
        )  # another key: its own limit
        clock.advance(59)
        assert send(pd, http, trigger("k3")).status_code == 429
        clock.advance(1)
        assert send(pd, http, trigger("k3")).status_code == 202


def test_fail_next_answers_errors_and_ingests_nothing(pd: FakePagerDuty, http: httpx.Client) -> None:
    pd.fail_next(status=503, times=2)
    pd.fail_next(status=429, retry_after=7)
    answers = [send(pd, http, trigger()) for _ in range(4)]
    assert [a.status_code for a in answers] == [503, 503, 429, 202]
    assert answers[2].headers["Retry-After"] == "7"
    assert "Retry-After" not in answers[0].headers
    assert [r.applied for r in pd.received()] == [False, False, False, True]
    assert len(pd.alert("INC-1").events) == 1  # type: ignore[union-attr]


def test_hang_next_leaves_the_client_to_time_out(pd: FakePagerDuty) -> None:
    pd.hang_next()
    with httpx.Client(timeout=0.2) as impatient:
        with pytest.raises(httpx.ReadTimeout):
            send(pd, impatient, trigger())
        assert send(pd, impatient, trigger()).status_code == 202
    assert [r.status for r in pd.received()] == [None, 202]
    assert pd.received()[0].describe() == "trigger INC-1 api-gateway 504s -> no answer"


def test_other_paths_and_methods(pd: FakePagerDuty, http: httpx.Client) -> None:
    assert http.post(f"{pd.url}/v2/change/enqueue", json=trigger()).status_code == 404
    answer = http.get(pd.events_url)
    assert (answer.status_code, answer.headers["Allow"]) == (405, "POST")
    assert pd.received() == []
