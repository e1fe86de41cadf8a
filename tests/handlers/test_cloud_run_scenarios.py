"""A Cloud Run service in the sandbox, as people in the channel see it: `/diagnose imgstream ...` checks the
simulated Cloud Run service of the scenario (a failed deploy, a healthy service), and its fix goes through the
approval flow as a Kubernetes fix does. Signed requests through the real Bolt app; the stand-in records every
request it gets."""

from __future__ import annotations

import html
from collections.abc import Iterator
from pathlib import Path

import pytest
from slack_workspace import button, buttons, opened_incident, shown

from bot.clock import ManualClock
from bot.incidents import RequestState
from bot.playbooks_loader import Catalog
from bot.settings import Settings
from handlers.shell.workspace import LocalWorkspace
from sandbox.cloud_run_api import BAD, GOOD, SERVICE_NAME
from sandbox.slack_api import CHANNEL_ID
from sandbox.slack_render import Message

REPORT = "imgstream uploads fail after the deploy"
ROLLBACK = "Roll traffic back to the previous revision"
SEVS = ["SEV-1", "SEV-2", "SEV-3", "SEV-4"]


@pytest.fixture
def workspace(request: pytest.FixtureRequest, tmp_path: Path, catalog: Catalog,
              example_settings: Settings) -> Iterator[LocalWorkspace]:  # fmt: skip
    """The sandbox in the scenario named by `parametrize("workspace", [...], indirect=True)`, on a manual clock."""
    clock = ManualClock()
    with LocalWorkspace(example_settings, catalog, request.param, tmp_path / "chatops.db", clock) as ws:
        yield ws


def read(ws: LocalWorkspace, message: Message) -> str:
    """The message as a person sees it now, names and all (Slack shows `&gt;` as `>`)."""
    return html.unescape(ws.slack.render(CHANNEL_ID, message.ts))


def diagnosed(ws: LocalWorkspace) -> tuple[Message, Message, Message]:
    """/diagnose imgstream as alice: the thread's checklist and verdict, and the root message."""
    root, thread = opened_incident(ws, REPORT)
    checklist = next(m for m in thread if '"incident_checklist"' in shown(m))
    verdict = next(m for m in thread if '"incident_verdict"' in shown(m))
    return root, checklist, verdict


def writes(ws: LocalWorkspace) -> list[tuple[str, str, str | None]]:
    """What the Cloud Run stand-in was asked to change: method, path and updateMask."""
    assert ws.cloud_run is not None
    return [(r.method, r.path, r.params.get("updateMask")) for r in ws.cloud_run.writes()]


# --- a failed deploy ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("workspace", ["bad-deploy"], indirect=True)
def test_a_failed_deploy_names_the_failing_revision_and_offers_the_traffic_rollback(
    workspace: LocalWorkspace,
) -> None:
    root, checklist, verdict = diagnosed(workspace)
    said = read(workspace, verdict)
    assert (
        f"Verdict: Problem confirmed: revision {BAD} failed: The user-provided container failed to start and "
        "listen on the port defined provided by the PORT=8080 environment variable" in said
    )
    assert f"the last ready revision is {GOOD}; traffic: 100% {GOOD}" in said
    assert f"since revision {BAD} created 20 min ago" in said and "api 1.8.2 -> 1.9.0" in said
    assert "Suggested severity: SEV-2" in said, "the previous revision still serves: no outage, no SEV-1"
    checks = read(workspace, checklist)
    assert "Service status (gcloud run services describe): revision" in checks, "checked, not skipped"
    assert "Recent deployments (gcloud run revisions list), with their age" in checks
    assert buttons(verdict) == [*SEVS, ROLLBACK]
    assert f"revision {BAD} failed" in read(workspace, root), "the channel shows the gist"
    assert writes(workspace) == [], "diagnosis only reads"


@pytest.mark.parametrize("workspace", ["bad-deploy"], indirect=True)
def test_the_rollback_is_approved_by_a_teammate_runs_once_and_is_verified(workspace: LocalWorkspace) -> None:
    _, _, verdict = diagnosed(workspace)
    workspace.press(button(verdict, ROLLBACK), user="U0BOB")
    workspace.wait_idle()
    root = workspace.slack.messages(CHANNEL_ID, top_level=True)[0]
    request = next(m for m in workspace.slack.thread(CHANNEL_ID, root.ts) if "Fix request 1" in m.text)
    asked = read(workspace, request)
    assert f"traffic: 100% {GOOD} → 100% {GOOD}, pinned" in asked, "the version before the failed deploy"
    assert f"The newest revision, {BAD}, never became ready and gets no traffic" in asked
    assert "Asked by @bob" in asked and buttons(request) == ["Approve", "Deny"]
    assert (
        "Change to `service imgstream-production in projects/imgstream-prod/locations/us-central1`" in asked
    )

    workspace.press(button(request, "Approve"), user="U0BOB")
    workspace.wait_idle()
    assert "so someone else must approve it" in workspace.slack.ephemerals("U0BOB")[-1].text
    assert writes(workspace) == [], "the requester's own approval changes nothing"

    for _ in range(3):  # a double (triple) click, and Slack delivering it again
        workspace.press(button(request, "Approve"), user="U0ALICE")
    workspace.wait_idle()
    assert writes(workspace) == [("PATCH", f"/v2/{SERVICE_NAME}", "traffic")]
    thread = [read(workspace, m) for m in workspace.slack.thread(CHANNEL_ID, root.ts)]
    assert any(
        f"Verified: {ROLLBACK}: 100% of traffic goes to {GOOD}, which is ready" in text for text in thread
    )
    assert "Done and verified" in read(workspace, request)
    (fix,) = workspace.store.requests_in(workspace.store.list_open()[0].id)
    assert (fix.action, fix.state, fix.decided_by) == ("cloud_run.traffic_rollback", RequestState.SUCCEEDED,
                                                       "U0ALICE")  # fmt: skip
    assert workspace.cluster is not None and workspace.cluster.writes() == [], "the cluster is left alone"


# --- a healthy service -------------------------------------------------------------------------------------


@pytest.mark.parametrize("workspace", ["healthy"], indirect=True)
def test_a_healthy_cloud_run_service_is_said_healthy_and_no_fix_is_offered(workspace: LocalWorkspace) -> None:
    _, checklist, verdict = diagnosed(workspace)
    checks = read(workspace, checklist)
    assert f"ready; latest revision {GOOD}; traffic: 100% latest ({GOOD})" in checks
    assert f"revision {GOOD} created 6 d ago" in checks
    said = read(workspace, verdict)
    assert f"Verdict: Checks are healthy; no recent change (the last: revision {GOOD} created 6 d ago" in said
    assert "Suggested severity: none: no problem confirmed" in said
    assert buttons(verdict) == SEVS, "no fix, only the SEV to set by hand"
    assert writes(workspace) == []
