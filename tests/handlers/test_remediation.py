"""Fixes that need a second person, as people in the channel see them: a fix button shows the exact change and
asks for approval; the requester can never approve it; only approvers can (user groups asked at click time);
an approved fix runs once, is verified, and every step is in the thread and the audit log. Signed requests
through the real Bolt app; the simulated cluster records every request it gets."""

from __future__ import annotations

import multiprocessing
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_workspace import OOM_REPORT, button, buttons, forged, shown

from bot.clock import ManualClock
from bot.incident.requests import Asker, ButtonClick
from bot.incidents import RequestState
from bot.playbooks_loader import Catalog, load_catalog
from bot.probes.base import Clients
from bot.settings import Settings
from bot.store import open_store
from handlers.deps import Runtime
from handlers.shell.workspace import LocalWorkspace
from handlers.slack_web import web_client
from sandbox.slack_api import CHANNEL_ID, TOKEN
from sandbox.slack_render import Message

ROLLBACK = "Roll back the recent deployment (breaking change)"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def workspace(
    tmp_path: Path, catalog: Catalog, example_settings: Settings, clock: ManualClock
) -> Iterator[LocalWorkspace]:
    with LocalWorkspace(example_settings, catalog, "crashloop-oom", tmp_path / "chatops.db", clock) as ws:
        ws.slack.add_user("U0CAROL", "carol")  # in the workspace, not an approver
        yield ws


def thread(ws: LocalWorkspace) -> list[Message]:
    root = ws.slack.messages(CHANNEL_ID, top_level=True)[0]
    return ws.slack.thread(CHANNEL_ID, root.ts)


def requested(ws: LocalWorkspace, by: str = "U0BOB") -> Message:
    """/diagnose of the crash-looping bad deploy, then `by` presses the rollback: the request message."""
    ws.command(OOM_REPORT)
    ws.wait_idle()
    verdict = next(m for m in thread(ws) if "*Verdict:*" in shown(m))
    ws.press(button(verdict, ROLLBACK), user=by)
    ws.wait_idle()
    return next(m for m in thread(ws) if "Fix request 1" in m.text)


def writes(ws: LocalWorkspace) -> list[str]:
    assert ws.cluster is not None
    return [
        f"{r.method} {r.path}" for r in ws.cluster.requests if r.method != "GET" and "dryRun" not in r.query
    ]


def seen(ws: LocalWorkspace, message: Message) -> str:
    """The message as a person sees it now, names and all."""
    return ws.slack.render(CHANNEL_ID, message.ts)


def told(ws: LocalWorkspace, user: str) -> str:
    return ws.slack.ephemerals(user)[-1].text


def test_the_request_shows_the_exact_change_and_who_may_approve(workspace: LocalWorkspace) -> None:
    request = requested(workspace)
    text = seen(workspace, request)
    assert "image ghcr.io/acme/api-gateway: 1.9.0 → 1.8.2" in text and "revision: 8 → 7" in text
    assert "Asked by @bob" in text and "@platform-oncall" in text and "Expires at 09:15 UTC" in text
    assert buttons(request) == ["Approve", "Deny"]
    approve = next(e for b in request.blocks if b["type"] == "actions" for e in b["elements"])
    assert approve["confirm"]["title"]["text"] == "Run this fix?", "Slack asks before the click is sent"
    assert writes(workspace) == [], "asking for a fix changes nothing"


def test_the_requester_cannot_approve_their_own_fix_and_a_stranger_cannot_either(
    workspace: LocalWorkspace,
) -> None:
    request = requested(workspace, by="U0BOB")
    for user in ("U0BOB", "U0BOB", "U0CAROL"):
        workspace.press(button(request, "Approve"), user=user)
        workspace.wait_idle()
    assert "so someone else must approve it" in workspace.slack.ephemerals("U0BOB")[-1].text
    assert "Only <!subteam^S0ONCALL> may approve" in told(workspace, "U0CAROL")
    assert writes(workspace) == []
    events = [e.event for e in workspace.store.audit()]
    assert events.count("self_approval_refused") == 2 and "approval_refused" in events


def test_an_approved_fix_runs_once_and_is_verified(workspace: LocalWorkspace) -> None:
    request = requested(workspace, by="U0BOB")
    for _ in range(3):  # a double (triple) click, and Slack delivering it again
        workspace.press(button(request, "Approve"), user="U0ALICE")
    workspace.wait_idle()
    assert writes(workspace) == ["PATCH /apis/apps/v1/namespaces/arch-separation/deployments/api-gateway"]
    texts = [shown(m) for m in thread(workspace)]
    assert any(
        "Verified" in t and "3/3 pods of revision 9 ready (ghcr.io/acme/api-gateway:1.8.2)" in t
        for t in texts
    )
    assert "Done and verified" in seen(workspace, request)
    assert "has already run and been verified" in told(workspace, "U0ALICE") or "is already running" in told(
        workspace, "U0ALICE"
    )
    (fix,) = workspace.store.requests_in(workspace.store.list_open()[0].id)
    assert (fix.state, fix.decided_by) == (RequestState.SUCCEEDED, "U0ALICE")
    assert [e.event for e in workspace.store.audit()] == ["requested", "executing", "succeeded"]


def test_someone_removed_from_the_approvers_group_can_no_longer_approve(workspace: LocalWorkspace) -> None:
    request = requested(workspace, by="U0BOB")
    workspace.slack.add_usergroup("S0ONCALL", "platform-oncall", ["U0BOB"])  # alice left the on-call group
    workspace.press(button(request, "Approve"), user="U0ALICE")
    workspace.wait_idle()
    assert "may approve" in told(workspace, "U0ALICE") and writes(workspace) == []


def test_an_expired_request_is_refused(workspace: LocalWorkspace, clock: ManualClock) -> None:
    request = requested(workspace)
    clock.advance(timedelta(minutes=16))
    workspace.press(button(request, "Approve"), user="U0ALICE")
    workspace.wait_idle()
    assert "expired without approval" in told(workspace, "U0ALICE") and writes(workspace) == []
    assert "Expired without approval" in seen(workspace, request)


def test_a_target_changed_after_the_preview_is_refused_and_a_fresh_preview_offered(
    workspace: LocalWorkspace,
) -> None:
    request = requested(workspace)
    from kubernetes import client, config  # someone changes the deployment by hand meanwhile

    assert workspace.cluster is not None
    api = client.AppsV1Api(config.new_client_from_config(workspace.cluster.kubeconfig_path, context="fake"))
    api.patch_namespaced_deployment(
        "api-gateway", "arch-separation", {"metadata": {"labels": {"hand": "edit"}}}
    )
    before = writes(workspace)
    workspace.press(button(request, "Approve"), user="U0ALICE")
    workspace.wait_idle()
    assert writes(workspace) == before, "nothing of the fix was sent"
    assert "Refused: the target changed" in seen(workspace, request)
    fresh = next(m for m in thread(workspace) if "Fix request 2" in m.text)
    assert buttons(fresh) == ["Approve", "Deny"] and "Asked by @bob" in seen(workspace, fresh)


def test_a_click_on_something_that_no_longer_exists_gets_an_answer(workspace: LocalWorkspace) -> None:
    request = requested(workspace)
    assert workspace.store_path is not None
    with sqlite3.connect(workspace.store_path) as db:  # the request is gone (a store restored from a backup)
        db.execute("DELETE FROM action_requests")
    db.close()
    workspace.press(button(request, "Approve"), user="U0ALICE")
    workspace.wait_idle()
    assert "no longer exists" in told(workspace, "U0ALICE")
    workspace.press(forged(request, "approve_action:0", "never-issued"), user="U0ALICE")
    workspace.wait_idle()
    assert "no longer stands for anything" in told(workspace, "U0ALICE") and writes(workspace) == []


def test_nothing_is_asked_for_or_runs_once_the_incident_is_resolved(workspace: LocalWorkspace) -> None:
    request = requested(workspace, by="U0BOB")
    verdict = next(m for m in thread(workspace) if "*Verdict:*" in shown(m))
    workspace.incident("resolve rolled back by hand", user="U0BOB")
    workspace.wait_idle()
    workspace.press(button(request, "Approve"), user="U0ALICE")
    workspace.wait_idle()
    assert "is resolved, so nothing runs in it" in told(workspace, "U0ALICE") and writes(workspace) == []
    workspace.press(button(verdict, ROLLBACK), user="U0ALICE")
    workspace.wait_idle()
    assert "is resolved, so nothing runs in it" in told(workspace, "U0ALICE")
    incident_id = workspace.store.list_all()[0].id
    assert len(workspace.store.requests_in(incident_id)) == 1, "no second request"
    workspace.incident(f"reopen {incident_id}", user="U0BOB")
    workspace.wait_idle()  # reopened before the click arrives
    workspace.press(button(request, "Approve"), user="U0ALICE")  # still pending: it runs once reopened
    workspace.wait_idle()
    assert writes(workspace) == ["PATCH /apis/apps/v1/namespaces/arch-separation/deployments/api-gateway"]
    assert [e.event for e in workspace.store.audit()] == [
        "requested",
        "approval_refused",
        "executing",
        "succeeded",
    ]


def test_a_denied_fix_never_runs(workspace: LocalWorkspace) -> None:
    request = requested(workspace, by="U0BOB")
    approve = button(request, "Approve")
    workspace.press(button(request, "Deny"), user="U0ALICE")
    workspace.wait_idle()
    workspace.press(approve, user="U0ALICE")  # still on someone's screen
    workspace.wait_idle()
    assert writes(workspace) == []
    assert "Denied by @alice" in seen(workspace, request)
    assert "was already denied (decided by <@U0ALICE>)" in told(workspace, "U0ALICE")


def test_when_the_api_refuses_the_change_the_thread_says_why(workspace: LocalWorkspace) -> None:
    request = requested(workspace)
    assert workspace.cluster is not None
    workspace.cluster.fail(403, "deployments", verb="patch")
    workspace.press(button(request, "Approve"), user="U0ALICE")
    workspace.wait_idle()
    failure = next(seen(workspace, m) for m in thread(workspace) if "failed:" in seen(workspace, m))
    assert "forbidden" in failure.lower()
    assert "Failed" in seen(workspace, request)


def approve_elsewhere(settings: Settings, state_id: str, start: datetime, go: Any) -> None:
    """Another worker process of the bot, handling the same Approve click."""
    with open_store(settings.store_url, ManualClock(start)) as store:
        client = web_client(TOKEN, settings.endpoints.slack_api_url)
        clients = Clients(kubeconfig=settings.endpoints.kubeconfig)
        runtime = Runtime.build(settings, load_catalog(), client, store, clients, ManualClock(start))
        go.wait(30)
        runtime.run(ButtonClick(Asker("U0ALICE", CHANNEL_ID), state_id))


def test_two_worker_processes_approving_at_once_run_the_fix_once(
    workspace: LocalWorkspace, clock: ManualClock
) -> None:
    request = requested(workspace)
    approve = button(request, "Approve")
    assert approve.value is not None
    context = multiprocessing.get_context("spawn")
    go = context.Event()
    workers = [context.Process(target=approve_elsewhere, args=(workspace.settings, approve.value, clock.now(), go))
               for _ in range(2)]  # fmt: skip
    for worker in workers:
        worker.start()
    go.set()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    assert writes(workspace) == ["PATCH /apis/apps/v1/namespaces/arch-separation/deployments/api-gateway"]
    assert [e.event for e in workspace.store.audit()] == ["requested", "executing", "succeeded"]


def test_a_fix_that_does_not_take_effect_is_reported_as_not_verified(workspace: LocalWorkspace) -> None:
    """A restart of the bad image: the new pods crash-loop like the old ones, and the thread says so."""
    workspace.command(OOM_REPORT)
    workspace.wait_idle()
    runtime = workspace.deps.runtime
    assert runtime is not None
    incident = workspace.store.list_open()[0]
    playbook = workspace.catalog.get("ai-platform/high-latency-or-timeouts")
    restart = next(i for i, a in enumerate(playbook.actions) if a.action == "k8s.rollout_restart")
    runtime.flows.remediation.request(incident, playbook, restart, Asker("U0BOB", CHANNEL_ID), runtime.view)
    request = next(m for m in thread(workspace) if "Fix request 1" in m.text)
    workspace.press(button(request, "Approve"), user="U0ALICE")
    workspace.wait_idle()
    verdict = next(seen(workspace, m) for m in thread(workspace) if "Not verified" in seen(workspace, m))
    assert "CrashLoopBackOff" in verdict
    assert "not verified in time" in seen(workspace, request)
    (fix,) = workspace.store.requests_in(incident.id)
    assert fix.state == RequestState.TIMED_OUT
