"""Incidents that run themselves, as the channel and PagerDuty see them: a SEV-1 pages on-call once; the ladder
escalates while nobody acts, each step once, even across a restart or with two processes reconciling; an ack
stops the "not acknowledged" step, a resolve stops everything and posts the summary; pages wait out a PagerDuty
outage and arrive once each, in order. The clock is a ManualClock moved by hand; the reconciler is ticked as
`chatops serve` ticks it every few seconds."""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_workspace import OOM_REPORT, button, shown

from bot.clock import ManualClock
from bot.incidents import Incident, IncidentStatus
from bot.playbooks_loader import Catalog, load_catalog
from bot.probes.base import Clients
from bot.settings import Settings
from bot.store import open_store
from handlers.deps import Runtime
from handlers.shell.workspace import LocalWorkspace
from handlers.slack_web import web_client
from sandbox.pagerduty import AlertStatus
from sandbox.slack_api import CHANNEL_ID, TOKEN

DECLARE_SEV1 = "declare api-gateway checkout failing for everyone sev 1"
ONCALL = "S0PLATONCALL"  # config.example.yaml: the platform team's on-call user group


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def workspace(
    tmp_path: Path, catalog: Catalog, example_settings: Settings, clock: ManualClock
) -> Iterator[LocalWorkspace]:
    with LocalWorkspace(example_settings, catalog, "crashloop-oom", tmp_path / "chatops.db", clock) as ws:
        yield ws


def declare(ws: LocalWorkspace, text: str = DECLARE_SEV1, user: str = "U0ALICE") -> Incident:
    answer = ws.incident(text, user=user)
    assert answer.status == 200
    ws.wait_idle()
    (incident,) = ws.store.list_open()
    return incident


def run(ws: LocalWorkspace, command: str, user: str = "U0ALICE") -> None:
    assert ws.incident(command, user=user).status == 200
    ws.wait_idle()


def thread(ws: LocalWorkspace, incident: Incident) -> list[str]:
    """Each message of the incident's thread as its markup: Slack's mention syntax kept, to tell who is named."""
    assert incident.thread_ts is not None
    return [message.text + "\n" + "\n".join(block_texts(message.blocks))
            for message in ws.slack.thread(CHANNEL_ID, incident.thread_ts)]  # fmt: skip


def block_texts(blocks: list[dict[str, Any]]) -> Iterator[str]:
    for block in blocks:
        if "text" in block:
            yield block["text"]["text"]
        for element in block.get("elements", []):
            if isinstance(element.get("text"), str):
                yield element["text"]


def escalations(ws: LocalWorkspace, incident: Incident) -> list[str]:
    """The escalation messages in the thread, in order."""
    return [m for m in thread(ws, incident) if ":arrow_double_up: Escalating" in m]


def later(ws: LocalWorkspace, clock: ManualClock, delta: timedelta) -> None:
    clock.advance(delta)
    ws.tick()


def test_a_declared_sev1_pages_on_call_once_and_says_so_in_the_thread(workspace: LocalWorkspace) -> None:
    incident = declare(workspace)
    (alert,) = workspace.pagerduty.alerts()
    assert (alert.dedup_key, alert.severity, alert.status) == (incident.id, "critical", AlertStatus.TRIGGERED)
    assert "checkout failing for everyone" in alert.summary
    paged = [m for m in thread(workspace, incident) if "Paging on-call" in m]
    assert len(paged) == 1 and f"<!subteam^{ONCALL}>" in paged[0]
    workspace.tick()
    assert len(workspace.pagerduty.received()) == 1, "a reconciler round sends nothing twice"


def test_a_sev2_is_not_paged_until_it_is_raised_to_sev1(workspace: LocalWorkspace) -> None:
    incident = declare(workspace, "declare api-gateway search is slow sev 2")
    assert workspace.pagerduty.received() == [], "the guide wakes on-call for SEV-1 only"
    run(workspace, "sev 1")
    (trigger,) = workspace.pagerduty.received()
    assert (trigger.event_action, trigger.dedup_key, trigger.status) == ("trigger", incident.id, 202)
    assert any("<@U0ALICE> set the severity to *SEV-1* (was SEV-2)" in m for m in thread(workspace, incident))


def test_nobody_acknowledging_escalates_to_on_call_after_15_minutes_once(
    workspace: LocalWorkspace, clock: ManualClock
) -> None:
    incident = declare(workspace)
    later(workspace, clock, timedelta(minutes=14))
    assert escalations(workspace, incident) == []
    later(workspace, clock, timedelta(minutes=2))
    (step,) = escalations(workspace, incident)
    assert "on-call" in step and "not acknowledged after 15 min" in step
    later(workspace, clock, timedelta(minutes=5))
    assert len(escalations(workspace, incident)) == 1, "a step fires once"


def test_an_ack_stops_the_not_acknowledged_step_but_not_the_rest_of_the_ladder(
    workspace: LocalWorkspace, clock: ManualClock
) -> None:
    incident = declare(workspace)
    run(workspace, "ack", user="U0BOB")
    assert workspace.pagerduty.alert(incident.id).status == AlertStatus.ACKNOWLEDGED  # type: ignore[union-attr]
    later(workspace, clock, timedelta(minutes=30))
    assert escalations(workspace, incident) == []
    later(workspace, clock, timedelta(minutes=31))
    (step,) = escalations(workspace, incident)
    assert "team lead" in step and "<@U0PLATLEAD1>" in step and "not resolved after 1 h" in step
    root = workspace.store.require(incident.id)
    assert (root.status, root.acknowledged_by) == (IncidentStatus.ACKNOWLEDGED, "U0BOB")


def test_resolving_stops_everything_resolves_the_page_and_posts_the_summary(
    workspace: LocalWorkspace, clock: ManualClock
) -> None:
    incident = declare(workspace)
    clock.advance(timedelta(minutes=5))
    run(workspace, "resolve rolled back to 1.8.2", user="U0BOB")
    later(workspace, clock, timedelta(hours=25))
    assert escalations(workspace, incident) == [], "nothing escalates once resolved"
    assert workspace.pagerduty.alert(incident.id).status == AlertStatus.RESOLVED  # type: ignore[union-attr]
    assert [r.event_action for r in workspace.pagerduty.received()] == ["trigger", "resolve"]
    (summary,) = [m for m in thread(workspace, incident) if f"Summary of {incident.id}" in m]
    assert "rolled back to 1.8.2" in summary and "→ resolved 5 min" in summary
    assert "SEV-1 for 5 min" in summary and "<@U0BOB>" in summary
    assert all(s.state != "waiting" for s in workspace.store.escalations_of(incident.id))


def reconcile_elsewhere(settings: Settings, now: datetime, go: Any) -> None:
    """A bot process that has just started: nothing in memory, the store and the clock only; one round."""
    with open_store(settings.store_url, ManualClock(now)) as store:
        client = web_client(TOKEN, settings.endpoints.slack_api_url)
        clients = Clients(kubeconfig=settings.endpoints.kubeconfig)
        runtime = Runtime.build(settings, load_catalog(), client, store, clients, ManualClock(now))
        go.wait(30)
        runtime.flows.tick(runtime.view)
        runtime.flows.tick(runtime.view)


def reconcile_in_processes(ws: LocalWorkspace, now: datetime, processes: int) -> None:
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    workers = [
        context.Process(target=reconcile_elsewhere, args=(ws.settings, now, go)) for _ in range(processes)
    ]
    for worker in workers:
        worker.start()
    go.set()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0


def test_a_step_that_fell_due_while_the_bot_was_down_fires_once_when_it_is_back(
    workspace: LocalWorkspace, clock: ManualClock
) -> None:
    incident = declare(workspace)
    clock.advance(timedelta(minutes=20))  # the bot is down: nobody reconciles
    reconcile_in_processes(workspace, clock.now(), processes=1)
    (step,) = escalations(workspace, incident)
    assert "on-call" in step
    workspace.tick()
    assert len(escalations(workspace, incident)) == 1
    assert [r.event_action for r in workspace.pagerduty.received()] == ["trigger"], (
        "on-call was paged already"
    )


def test_two_processes_reconciling_at_once_fire_each_step_once(
    workspace: LocalWorkspace, clock: ManualClock
) -> None:
    incident = declare(workspace)
    clock.advance(timedelta(hours=5))  # on-call, team lead and engineering manager all due
    reconcile_in_processes(workspace, clock.now(), processes=2)
    steps = escalations(workspace, incident)
    assert [("on-call" in s, "team lead" in s, "engineering manager" in s) for s in steps] == [
        (True, False, False), (False, True, False), (False, False, True)
    ]  # fmt: skip
    assert [s.state for s in workspace.store.escalations_of(incident.id)] == [
        "fired",
        "fired",
        "fired",
        "waiting",
    ]


def test_pages_wait_out_a_pagerduty_outage_and_arrive_once_each_in_order(
    workspace: LocalWorkspace, clock: ManualClock
) -> None:
    workspace.pagerduty.fail_next(status=503, times=3)
    incident = declare(workspace)
    run(workspace, "ack", user="U0BOB")
    assert workspace.pagerduty.alerts() == [], "PagerDuty is down"
    for _ in range(6):  # the reconciler's rounds while PagerDuty comes back
        later(workspace, clock, timedelta(minutes=5))
    delivered = [r.event_action for r in workspace.pagerduty.received() if r.status == 202]
    assert delivered == ["trigger", "acknowledge"], "the acknowledge never overtakes its trigger"
    assert [r.status for r in workspace.pagerduty.received()] == [503, 503, 503, 202, 202]
    assert workspace.pagerduty.alert(incident.id).status == AlertStatus.ACKNOWLEDGED  # type: ignore[union-attr]


def test_a_page_pagerduty_refuses_is_said_in_the_thread(workspace: LocalWorkspace) -> None:
    workspace.pagerduty.routing_keys = {"another-services-integration-key-000"}  # ours is unknown to it
    incident = declare(workspace)
    (refused,) = [m for m in thread(workspace, incident) if "PagerDuty refused the page" in m]
    assert "to the on-call, so nobody was paged" in refused
    workspace.tick()
    assert len(workspace.pagerduty.received()) == 1, "a refused page is not retried"


def test_a_sev2_escalates_by_mentioning_on_call_without_paging(
    workspace: LocalWorkspace, clock: ManualClock
) -> None:
    incident = declare(workspace, "declare api-gateway search is slow sev 2")
    later(workspace, clock, timedelta(minutes=16))
    (step,) = escalations(workspace, incident)
    assert f"<!subteam^{ONCALL}>" in step and "(paged)" not in step
    assert workspace.pagerduty.received() == []


def chatops(ws: LocalWorkspace, *args: str) -> str:
    exe = str(Path(sys.executable).parent / "chatops")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/tmp"),
        "CHATOPS_STORE_URL": ws.settings.store_url,
    }
    run = subprocess.run([exe, *args], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    return run.stdout


def test_the_summary_and_the_postmortem_export_show_everything_that_happened(
    workspace: LocalWorkspace, clock: ManualClock
) -> None:
    workspace.command(OOM_REPORT)
    workspace.wait_idle()
    (incident,) = workspace.store.list_open()
    run(workspace, f"sev 1 {incident.id}")
    clock.advance(timedelta(minutes=3))
    run(workspace, "ack", user="U0BOB")
    said = workspace.slack.thread(CHANNEL_ID, incident.thread_ts or "")
    verdict = next(m for m in said if "*Verdict:*" in shown(m))
    workspace.press(button(verdict, "Roll back the recent deployment (breaking change)"), user="U0BOB")
    workspace.wait_idle()
    request = next(
        m for m in workspace.slack.thread(CHANNEL_ID, incident.thread_ts or "") if "Fix request 1" in m.text
    )
    workspace.press(button(request, "Approve"), user="U0ALICE")
    workspace.wait_idle()
    clock.advance(timedelta(minutes=10))
    run(workspace, "resolve rolled back to 1.8.2; pods healthy", user="U0BOB")

    (summary,) = [m for m in thread(workspace, incident) if f"Summary of {incident.id}" in m]
    assert "first diagnosis → acknowledged 3 min" in summary and "acknowledged → resolved 10 min" in summary
    # the verdict was written before the rollback fixed it: it is not presented as the latest word on the service
    assert "*Diagnosis before the fix:* Problem confirmed" in summary and "Latest verdict" not in summary
    assert (
        "*Fix:* Roll back the recent deployment (breaking change): asked by <@U0BOB>, approved by <@U0ALICE>: succeeded"
        in summary
    )
    assert (
        "PagerDuty trigger to the on-call" in summary
        and "*Resolution:* rolled back to 1.8.2; pods healthy" in summary
    )

    listed = json.loads(chatops(workspace, "incident", "list", "--json"))
    assert [(i["id"], i["status"], i["severity"]) for i in listed] == [(incident.id, "resolved", "SEV-1")]
    shown_text = chatops(workspace, "incident", "show", incident.id)
    assert "first diagnosis → acknowledged: 3 min" in shown_text and "U0ALICE" in shown_text
    export = chatops(workspace, "incident", "export", incident.id)
    assert export.startswith(f"# Postmortem draft: {incident.id} api-gateway:")
    assert (
        "- Roll back the recent deployment (breaking change): asked by U0BOB, succeeded (approved by U0ALICE)"
        in export
    )
    assert "## Root cause\n\n_Why did it happen? (to be written by people)_" in export
    assert "- [ ] Steps to reproduce" in export or "- [ ] Steps to reproduce the issue" in export


def test_resolving_an_incident_that_never_had_a_sev_posts_its_summary(
    workspace: LocalWorkspace, clock: ManualClock
) -> None:
    """/diagnose only suggests a SEV: an incident resolved without one still gets its summary, saying so."""
    assert workspace.command(f"api-gateway {OOM_REPORT}").status == 200
    workspace.wait_idle()
    (incident,) = workspace.store.list_open()
    assert incident.severity is None
    clock.advance(timedelta(minutes=7))
    run(workspace, "resolve false alarm, a load test", user="U0BOB")
    assert workspace.store.require(incident.id).status is IncidentStatus.RESOLVED
    (summary,) = [m for m in thread(workspace, incident) if f"Summary of {incident.id}" in m]
    assert "*Severity:* none was set" in summary and "false alarm, a load test" in summary
    assert "Something went wrong" not in "\n".join(thread(workspace, incident))


def test_reopen_without_an_id_reopens_the_channels_latest_resolved_incident(
    workspace: LocalWorkspace,
) -> None:
    run(workspace, "reopen", user="U0BOB")
    assert "no resolved incident in this channel to reopen" in workspace.slack.ephemerals("U0BOB")[-1].text
    incident = declare(workspace)
    run(workspace, "resolve rolled back to 1.8.2", user="U0BOB")
    run(workspace, "status", user="U0BOB")  # the incident just resolved, not "no open incident"
    assert f"*{incident.id}*" in workspace.slack.ephemerals("U0BOB")[-1].text
    run(workspace, "reopen", user="U0BOB")
    reopened = workspace.store.require(incident.id)
    assert reopened.status is IncidentStatus.INVESTIGATING and reopened.is_open
    assert not any("There is no" in m.text for m in workspace.slack.ephemerals("U0BOB")[1:])


def test_a_command_that_changes_nothing_says_where_the_incident_stands(workspace: LocalWorkspace) -> None:
    incident = declare(workspace)
    for command in ("mitigated", "mitigated", "ack", f"reopen {incident.id}"):
        run(workspace, command, user="U0BOB")
    assert [m.text for m in workspace.slack.ephemerals("U0BOB")] == [
        f"Nothing changed: *{incident.id}* is already mitigated.",
        f"Nothing changed: *{incident.id}* is already mitigated.",
        f"Nothing changed: *{incident.id}* is not resolved (it is mitigated).",
    ]
    assert workspace.store.require(incident.id).status is IncidentStatus.MITIGATED
