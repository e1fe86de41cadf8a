"""Diagnosis a person can trust, end to end: `/diagnose` through the Bolt app and the local Slack Web API,
against simulated clusters (a bad deploy, a healthy one, a dead dependency, an API server that is down);
assert what the incident thread and the channel show."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from slack_workspace import Workspace, button, buttons, opened_incident, shown

from bot.playbooks_loader import Catalog
from bot.settings import Settings
from handlers.shell.workspace import LocalWorkspace
from sandbox.slack_api import CHANNEL_ID
from sandbox.slack_render import Message

BAD_DEPLOY_REPORT = "api-gateway 504s since the deploy"
ROLLBACK = "Roll back the recent rollout (kubectl rollout undo)"


@pytest.fixture
def cluster(request: pytest.FixtureRequest, tmp_path: Path, catalog: Catalog,
            example_settings: Settings) -> Iterator[Workspace]:  # fmt: skip
    """A workspace whose cluster plays the scenario named by `parametrize("cluster", [...], indirect=True)`."""
    with LocalWorkspace(example_settings, catalog, request.param, tmp_path / "chatops.db") as workspace:
        yield workspace


def text_of(message: Message) -> str:
    """What a person reads in a message (Slack shows `&gt;` as `>`)."""
    return html.unescape(shown(message))


def lines(message: Message) -> list[str]:
    """Each text of a message's blocks as a person reads it."""
    texts = [b["text"]["text"] for b in message.blocks if "text" in b]
    texts += [e["text"] for b in message.blocks if b["type"] == "context" for e in b["elements"]]
    return [html.unescape(t) for t in texts]


def parts(thread: list[Message]) -> dict[str, Message]:
    """The match, checklist and verdict messages of the thread's latest run."""
    found: dict[str, Message] = {}
    for message in thread:
        if '"incident_checklist"' in shown(message):
            found["checklist"] = message
        elif '"incident_verdict"' in shown(message):
            found["verdict"] = message
        elif '"incident_match"' in shown(message):
            found["match"] = message
    return found


def root_text(workspace: Workspace, root: Message) -> str:
    return text_of(workspace.slack.message(CHANNEL_ID, root.ts))


# --- a bad deploy ------------------------------------------------------------------------------------


@pytest.mark.parametrize("cluster", ["bad-deploy"], indirect=True)
def test_a_bad_deploy_names_the_rollout_the_crash_loop_and_the_missing_endpoints_and_offers_the_rollback(
    cluster: Workspace,
) -> None:
    root, thread = opened_incident(cluster, BAD_DEPLOY_REPORT)
    run = parts(thread)
    assert "API gateway slow or timing out" in text_of(run["match"]), (
        "the matcher's pick, whose checks miss it"
    )
    verdict = text_of(run["verdict"])
    headline = re.search(r"\*Verdict:\* (.*?)\"", verdict)
    assert headline is not None
    said = headline.group(1)
    assert said.startswith("Problem confirmed: nothing is serving api-gateway: 0 of 3 endpoints ready")
    assert "0/3 pods ready: 3 CrashLoopBackOff; last exit OOMKilled (137)" in said
    assert "since revision 8 rolled out 20 min ago: ghcr.io/acme/api-gateway 1.8.2 -> 1.9.0" in said
    assert "CPU" not in said, "an unremarkable value is no evidence"
    assert "*Suggested severity:* SEV-1" in verdict
    assert buttons(run["verdict"])[4:] == [ROLLBACK], "the rollback, and neither scale-out nor restart"
    for name in ("crash loop", "endpoints"):  # the channel shows the gist without opening the thread
        assert {"crash loop": "3 CrashLoopBackOff", "endpoints": "0 of 3 endpoints ready"}[name] in root_text(
            cluster, root
        )


@pytest.mark.parametrize("cluster", ["bad-deploy"], indirect=True)
def test_the_triage_checks_run_beside_the_matched_playbook_in_the_same_checklist(cluster: Workspace) -> None:
    _, thread = opened_incident(cluster, BAD_DEPLOY_REPORT)
    checklist = text_of(parts(thread)["checklist"])
    heading = checklist.index("_Triage: the guide's general checks, run with every incident_")
    assert checklist.index("Pod resource usage (kubectl top pods)") < heading, (
        "the playbook's own checks first"
    )
    assert checklist.index("Recent rollouts, with their age and image change") > heading
    assert "revision 8 rolled out 20 min ago" in checklist and "nothing is serving api-gateway" in checklist
    assert checklist.count("Pod resource usage") == 1, "a check both playbooks have runs once"
    assert "(our query and thresholds, not the guide's)" in checklist, "the invented p95 query says so"


@pytest.mark.parametrize("cluster", ["bad-deploy"], indirect=True)
def test_the_rollback_button_stands_for_the_triage_fix_it_shows(cluster: Workspace, catalog: Catalog) -> None:
    root, thread = opened_incident(cluster, BAD_DEPLOY_REPORT)
    cluster.press(button(parts(thread)["verdict"], ROLLBACK), user="U0BOB")
    cluster.wait_idle()
    incident = cluster.store.by_thread(CHANNEL_ID, root.ts)
    assert incident is not None
    (request,) = cluster.store.requests_in(incident.id)
    assert (request.playbook_id, request.action, request.title) == (
        "ai-platform/triage",
        "k8s.rollout_undo",
        ROLLBACK,
    )
    assert any(a.title == ROLLBACK for a in catalog.get(request.playbook_id).actions)
    assert cluster.cluster is not None
    assert [w for w in cluster.cluster.writes() if "dryRun" not in w.query] == [], (
        "a request only: nothing ran"
    )


@pytest.mark.parametrize("cluster", ["bad-deploy"], indirect=True)
def test_the_guides_escalation_notes_reach_the_thread_with_the_services_values(cluster: Workspace) -> None:
    _, thread = opened_incident(cluster, "api-gateway pods keep crashing, CrashLoopBackOff")
    verdict = text_of(parts(thread)["verdict"])
    assert "*Escalation* (from the guide)" in verdict
    assert "On-call engineer within 15 minutes; team lead if unresolved after 1 hour." in verdict
    assert "{" not in verdict.split("*Escalation*")[1].split('"')[0], "placeholders are filled"


# --- a healthy cluster ------------------------------------------------------------------------------


@pytest.mark.parametrize("cluster", ["healthy"], indirect=True)
def test_a_healthy_cluster_is_said_healthy_and_nothing_is_offered(cluster: Workspace) -> None:
    root, thread = opened_incident(cluster, BAD_DEPLOY_REPORT)
    run = parts(thread)
    verdict = text_of(run["verdict"])
    assert (
        "*Verdict:* Checks are healthy; no recent change (the last: revision 7 rolled out 6 d ago" in verdict
    )
    assert "*Suggested severity:* none: no problem confirmed" in verdict
    assert buttons(run["verdict"]) == ["SEV-1", "SEV-2", "SEV-3", "SEV-4"], (
        "no fix, only the SEV to set by hand"
    )
    assert "danger" not in shown(run["verdict"]), "no SEV is pressed on anyone"
    assert ":white_check_mark: Checks are healthy" in root_text(cluster, root)


# --- what the namespace shows ------------------------------------------------------------------------


@pytest.mark.parametrize("cluster", ["dependency-down"], indirect=True)
def test_a_dependency_that_is_down_is_seen_namespace_wide(cluster: Workspace) -> None:
    _, thread = opened_incident(cluster, "api-gateway returning 502 bad gateway")
    run = parts(thread)
    checklist = text_of(run["checklist"])
    assert "1 of 4 pods in arch-separation not ready: postgres 0/1 ready: 1 CrashLoopBackOff" in checklist
    assert "3/3 pods ready" in checklist, "the gateway's own pods are fine"
    assert "postgres 0/1 ready" in text_of(run["verdict"])


# --- the bot could not check ---------------------------------------------------------------------------


@pytest.mark.parametrize("cluster", ["bad-deploy"], indirect=True)
def test_with_the_kubernetes_api_down_nothing_is_confirmed_and_no_sev_is_suggested(
    cluster: Workspace,
) -> None:
    assert cluster.cluster is not None
    cluster.cluster.fail(503)
    _, thread = opened_incident(cluster, BAD_DEPLOY_REPORT)
    verdict = text_of(parts(thread)["verdict"])
    assert "*Verdict:* Could not check: kube-apiserver at" in verdict and "answered 503" in verdict
    assert "*Suggested severity:* none: no problem confirmed" in verdict
    checklist = text_of(parts(thread)["checklist"])
    assert ":x:" in checklist and "could not check: kube-apiserver at" in checklist, (
        "each says it could not run"
    )


# --- runs in the same incident ------------------------------------------------------------------------


@pytest.mark.parametrize("cluster", ["bad-deploy"], indirect=True)
def test_a_rerun_says_what_changed_since_the_last_run(cluster: Workspace) -> None:
    root, thread = opened_incident(cluster, BAD_DEPLOY_REPORT)
    first = len(thread)
    assert cluster.cluster is not None
    endpoints = cluster.cluster.get("Endpoints", "api-gateway")  # one pod came back
    ready, *rest = endpoints["subsets"][0]["notReadyAddresses"]
    endpoints["subsets"] = [
        {"addresses": [ready], "notReadyAddresses": rest, "ports": endpoints["subsets"][0]["ports"]}
    ]
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    cluster.cluster.objects.append({
        "apiVersion": "v1", "kind": "Event", "type": "Warning", "reason": "FailedMount", "count": 1,
        "metadata": {"name": "api-gateway-7d9f6b8c5-abc12.mount", "namespace": "arch-separation", "creationTimestamp": now},
        "involvedObject": {"kind": "Pod", "namespace": "arch-separation", "name": "api-gateway-7d9f6b8c5-abc12"},
        "message": 'MountVolume.SetUp failed for volume "model-cache"', "firstTimestamp": now, "lastTimestamp": now,
    })  # fmt: skip
    cluster.say("@chatops diagnose pods keep restarting, OOMKilled", "U0BOB", root.ts)
    cluster.wait_idle()
    rerun = parts(cluster.slack.thread(CHANNEL_ID, root.ts)[first:])
    verdict = lines(rerun["verdict"])[0]
    assert re.match(r"\*Verdict:\* Problem confirmed\. Since \d\d:\d\d UTC: ", verdict), (
        "what changed, not all again"
    )
    said = verdict.split(" UTC: ", 1)[1]
    assert said.startswith("new: FailedMount x1 on 1 pod: MountVolume.SetUp failed")
    assert "still: " in said and "0/3 pods ready: 3 CrashLoopBackOff" in said
    assert "resolved: nothing is serving api-gateway: 0 of 3 endpoints ready" in said


@pytest.mark.parametrize("cluster", ["bad-deploy"], indirect=True)
def test_the_root_keeps_the_worst_open_finding_when_a_later_run_could_not_check(cluster: Workspace) -> None:
    root, _ = opened_incident(cluster, BAD_DEPLOY_REPORT)
    assert cluster.cluster is not None
    cluster.cluster.fail(503)  # the API server goes down: the next run can check nothing
    cluster.say("@chatops diagnose the database connection pool is exhausted", "U0BOB", root.ts)
    cluster.wait_idle()
    latest = [m for m in cluster.slack.thread(CHANNEL_ID, root.ts) if '"incident_verdict"' in shown(m)][-1]
    assert "Could not check" in text_of(latest) or "could not run" in text_of(latest)
    shown_root = root_text(cluster, root)
    assert ":red_circle: Problem confirmed: nothing is serving api-gateway" in shown_root
    assert "3 CrashLoopBackOff" in shown_root, "an unknown resolves nothing"


@pytest.mark.parametrize("cluster", ["bad-deploy"], indirect=True)
def test_a_resolved_incident_root_shows_what_was_found_as_history_not_as_a_live_alarm(
    cluster: Workspace,
) -> None:
    root, _ = opened_incident(cluster, BAD_DEPLOY_REPORT)
    cluster.incident("resolve rolled back by hand")
    cluster.wait_idle()
    shown_root = root_text(cluster, root)
    assert (
        ":white_check_mark: Resolved. Found while open: Problem confirmed: nothing is serving" in shown_root
    )
    assert ":red_circle:" not in shown_root, "someone scanning the channel would take it for a live outage"
    cluster.incident("reopen it came back")
    cluster.wait_idle()
    assert ":red_circle: Problem confirmed: nothing is serving" in root_text(cluster, root)


@pytest.mark.parametrize("cluster", ["bad-deploy"], indirect=True)
def test_a_sev_change_says_what_it_was_before(cluster: Workspace) -> None:
    root, thread = opened_incident(cluster, BAD_DEPLOY_REPORT)
    verdict = parts(thread)["verdict"]
    cluster.press(button(verdict, "SEV-2"), user="U0BOB")
    cluster.wait_idle()
    cluster.press(button(verdict, "SEV-1"), user="U0BOB")
    cluster.wait_idle()
    said = [m.text for m in cluster.slack.thread(CHANNEL_ID, root.ts) if "set the severity" in m.text]
    assert said == [
        "<@U0BOB> set the severity to *SEV-2*.",
        "<@U0BOB> set the severity to *SEV-1* (was SEV-2).",
    ]


@pytest.mark.parametrize("cluster", ["bad-deploy"], indirect=True)
@pytest.mark.parametrize(
    "report",
    [
        BAD_DEPLOY_REPORT,
        "api-gateway the certificate expired, TLS handshake fails",
        "api-gateway feels weird",
    ],
)
def test_every_incident_thread_shows_the_triage(cluster: Workspace, report: str) -> None:
    _, thread = opened_incident(cluster, report)
    run = parts(thread)
    assert "_Triage: the guide's general checks, run with every incident_" in text_of(run["checklist"])
    assert "Recent rollouts, with their age" in text_of(run["checklist"])
    assert "*Verdict:*" in text_of(run["verdict"])
