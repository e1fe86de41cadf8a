"""Alertmanager's webhook on the running bot (POST /alertmanager, served as `chatops serve` serves it): only with
the token; a malformed body is refused and changes nothing; a firing alert opens an incident with the SEV from its
labels and runs the matching checks; a repeat changes nothing; a resolved alert is noted; an alert for a service
the catalogue does not know is said in the channel. Last, a real Alertmanager delivering to the bot."""

from __future__ import annotations

import base64
import copy
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alertmanager_harness import Alertmanager, require_alertmanager
from slack_workspace import shown

from bot.incidents import Incident, TimelineKind
from bot.playbooks_loader import Catalog
from bot.settings import Settings
from bot.severity import Sev
from handlers.shell.workspace import ALERTMANAGER_TOKEN, LocalWorkspace
from sandbox.slack_api import CHANNEL_ID

STARTED = "2026-12-01T03:00:00.000Z"
FIRING: dict[str, Any] = {
    "version": "4",
    "groupKey": '{}:{alertname="KubePodCrashLooping", service="api-gateway"}',
    "truncatedAlerts": 0,
    "status": "firing",
    "receiver": "chatops-bot",
    "groupLabels": {"alertname": "KubePodCrashLooping", "service": "api-gateway"},
    "commonLabels": {"alertname": "KubePodCrashLooping", "service": "api-gateway", "severity": "critical"},
    "commonAnnotations": {},
    "externalURL": "http://alertmanager.monitoring.svc:9093",
    "alerts": [
        {
            "status": "firing",
            "labels": {
                "alertname": "KubePodCrashLooping",
                "service": "api-gateway",
                "severity": "critical",
                "namespace": "arch-separation",
            },
            "annotations": {
                "summary": "api-gateway pods are crash looping",
                "description": "Pod arch-separation/api-gateway-7d9f is restarting; OOMKilled",
            },
            "startsAt": STARTED,
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus.monitoring.svc:9090/graph?g0.expr=...",
            "fingerprint": "a1b2c3d4e5f60718",
        }
    ],
}


@pytest.fixture
def workspace(tmp_path: Path, catalog: Catalog, example_settings: Settings) -> Iterator[LocalWorkspace]:
    with LocalWorkspace(example_settings, catalog, "crashloop-oom", tmp_path / "chatops.db") as ws:
        yield ws


def resolved(payload: dict[str, Any]) -> dict[str, Any]:
    gone = copy.deepcopy(payload)
    gone["status"] = gone["alerts"][0]["status"] = "resolved"
    gone["alerts"][0]["endsAt"] = "2026-12-01T03:20:00.000Z"
    return gone


def deliver(ws: LocalWorkspace, payload: dict[str, Any]) -> None:
    status, body = ws.alert(payload)
    assert status == 200, body
    ws.wait_idle()


def thread(ws: LocalWorkspace, incident: Incident) -> list[str]:
    assert incident.thread_ts is not None
    return [shown(m) for m in ws.slack.thread(CHANNEL_ID, incident.thread_ts)]


def post(ws: LocalWorkspace, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", ws.port, timeout=30)
    try:
        connection.request(
            "POST", "/alertmanager", body=body, headers={"Content-Type": "application/json", **headers}
        )
        answer = connection.getresponse()
        return answer.status, answer.read().decode()
    finally:
        connection.close()


def nothing_happened(ws: LocalWorkspace) -> bool:
    ws.wait_idle()
    return ws.store.list_all() == [] and ws.slack.messages(CHANNEL_ID) == [] and ws.pagerduty.received() == []


@pytest.mark.parametrize("token", [None, "not-the-token"])
def test_without_the_token_the_answer_is_401_and_nothing_happens(
    workspace: LocalWorkspace, token: str | None
) -> None:
    status, body = workspace.alert(FIRING, token=token)
    assert status == 401 and "token" in json.loads(body)["error"]
    assert nothing_happened(workspace)


def test_basic_auth_with_the_token_as_password_is_accepted(workspace: LocalWorkspace) -> None:
    basic = base64.b64encode(f"alertmanager:{ALERTMANAGER_TOKEN}".encode()).decode()
    status, _ = post(workspace, json.dumps(FIRING).encode(), {"Authorization": f"Basic {basic}"})
    assert status == 200


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{not json", "not JSON"),
        (json.dumps({**FIRING, "version": "3"}).encode(), "version"),
        (json.dumps({**FIRING, "alerts": [{"status": "firing"}]}).encode(), "labels"),
    ],
)
def test_a_malformed_body_is_400_with_what_is_wrong_and_changes_nothing(
    workspace: LocalWorkspace, body: bytes, problem: str
) -> None:
    status, answer = post(workspace, body, {"Authorization": f"Bearer {ALERTMANAGER_TOKEN}"})
    assert status == 400 and problem in json.loads(answer)["error"]
    assert nothing_happened(workspace)


def test_a_firing_alert_opens_an_incident_with_its_sev_and_runs_the_checks(workspace: LocalWorkspace) -> None:
    deliver(workspace, FIRING)
    (incident,) = workspace.store.list_open()
    assert (incident.service, incident.severity, incident.name) == (
        "api-gateway", Sev.SEV1, "api-gateway pods are crash looping"
    )  # fmt: skip
    assert incident.detected_at == datetime(2026, 12, 1, 3, 0, tzinfo=UTC), "detected when the alert started"
    said = thread(workspace, incident)
    assert any("from the alert's severity label" in m for m in said)
    assert any("*Verdict:*" in m for m in said), "the matching playbook's checks ran"
    assert [a.dedup_key for a in workspace.pagerduty.alerts()] == [incident.id], "SEV-1 pages on-call"
    assert workspace.cluster is not None
    assert all(r.method == "GET" for r in workspace.cluster.requests), "an alert never changes anything"


def test_the_same_delivery_again_changes_nothing(workspace: LocalWorkspace) -> None:
    deliver(workspace, FIRING)
    (incident,) = workspace.store.list_open()
    before = thread(workspace, incident)
    deliver(workspace, FIRING)  # Alertmanager's repeat_interval, or its retry
    assert workspace.store.list_all() == [incident] and thread(workspace, incident) == before


def test_a_resolved_alert_is_noted_and_triggers_nothing_else(workspace: LocalWorkspace) -> None:
    deliver(workspace, FIRING)
    (incident,) = workspace.store.list_open()
    pages = len(workspace.pagerduty.received())
    deliver(workspace, resolved(FIRING))
    noted = [m for m in thread(workspace, incident) if "KubePodCrashLooping* resolved" in m]
    assert len(noted) == 1
    assert workspace.store.require(incident.id).is_open, "people resolve the incident, not the alert"
    assert len(workspace.pagerduty.received()) == pages
    assert [e.text for e in workspace.store.timeline(incident.id) if e.kind is TimelineKind.ALERT] == [
        "KubePodCrashLooping resolved: api-gateway pods are crash looping"
    ]


def test_the_alert_firing_again_attaches_to_its_open_incident(workspace: LocalWorkspace) -> None:
    deliver(workspace, FIRING)
    again = copy.deepcopy(FIRING)
    again["alerts"][0]["startsAt"] = "2026-12-01T03:30:00.000Z"
    deliver(workspace, again)
    (incident,) = workspace.store.list_all()
    assert any("KubePodCrashLooping* firing" in m for m in thread(workspace, incident))


def test_an_alert_for_no_known_service_is_said_in_the_channel(workspace: LocalWorkspace) -> None:
    stray = copy.deepcopy(FIRING)
    stray["alerts"][0]["labels"] = {"alertname": "NodeDiskFull", "instance": "node-7"}
    deliver(workspace, stray)
    assert workspace.store.list_all() == []
    (said,) = workspace.slack.messages(CHANNEL_ID)
    assert (
        "NodeDiskFull" in said.text
        and "name no service I know" in said.text
        and "instance=node-7" in said.text
    )


@pytest.mark.parametrize(
    ("alertname", "playbook"),
    [("DatabaseDown", "tldr-highlight-api/database-connection-failed"),
     ("QueueBacklog", "tldr-highlight-api/tasks-not-being-processed")],
)  # fmt: skip
def test_the_tldr_guides_alert_rules_open_their_playbooks(
    workspace: LocalWorkspace, alertname: str, playbook: str
) -> None:
    alert = copy.deepcopy(FIRING)
    alert["alerts"][0].update(labels={"alertname": alertname, "service": "tldr-api", "severity": "warning"},
                              annotations={}, fingerprint=f"{alertname}-0001")  # fmt: skip
    deliver(workspace, alert)
    (incident,) = workspace.store.list_open()
    assert (incident.playbook_id, incident.severity) == (playbook, Sev.SEV3), "warning is SEV-3 by default"


# --- a real Alertmanager ---


def wait_for(what: str, condition: Any, timeout_s: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if found := condition():
            return found
        time.sleep(0.05)  # polling interval, not a timing assertion
    raise AssertionError(f"timed out waiting for {what}")


def test_a_real_alertmanager_opens_the_incident_and_its_resolve_is_noted(workspace: LocalWorkspace) -> None:
    require_alertmanager()
    started = datetime.now(UTC) - timedelta(minutes=2)
    sent = {"labels": {"alertname": "KubePodCrashLooping", "service": "api-gateway", "severity": "critical"},
            "annotations": {"summary": "api-gateway pods are crash looping"},
            "startsAt": started.isoformat().replace("+00:00", "Z")}  # fmt: skip
    url = f"http://127.0.0.1:{workspace.port}/alertmanager"
    with Alertmanager(url, ALERTMANAGER_TOKEN) as alertmanager:
        alertmanager.post_alerts([sent])
        wait_for("the incident", lambda: workspace.store.list_open())
        workspace.wait_idle()
        (incident,) = workspace.store.list_open()
        assert (incident.service, incident.severity) == ("api-gateway", Sev.SEV1)
        ended = (datetime.now(UTC) - timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
        alertmanager.post_alerts([{**sent, "endsAt": ended}])
        wait_for("the resolve", lambda: any("resolved" in e.text for e in workspace.store.timeline(incident.id)
                                            if e.kind is TimelineKind.ALERT))  # fmt: skip
    workspace.wait_idle()
    assert len(workspace.store.list_all()) == 1


def test_the_tldr_high_error_rate_alert_runs_the_guides_triage_and_its_error_rate_check(
    workspace: LocalWorkspace,
) -> None:
    """No issue entry of the TL;DR guide is about 5xx errors; its triage checks the error rate the rule watches."""
    alert = copy.deepcopy(FIRING)
    alert["alerts"][0].update(labels={"alertname": "HighErrorRate", "service": "tldr-api", "severity": "critical"},
                              annotations={}, fingerprint="HighErrorRate-0001")  # fmt: skip
    deliver(workspace, alert)
    (incident,) = workspace.store.list_open()
    assert incident.playbook_id is None and incident.severity == Sev.SEV1
    said = "\n".join(thread(workspace, incident))
    assert "Error rate (key metric" in said and "alert HighErrorRate above 5%" in said, said
