"""/diagnose end to end: a signed slash command through the Bolt app, the Slack Web API served locally,
the simulated cluster behind the probes; assert what a person in #incidents sees."""

from __future__ import annotations

import time

import pytest
from slack_requests import signed, slash_command
from slack_workspace import Workspace, button, click, opened_incident, shown

from bot.sandbox.slack_api import CHANNEL_ID


def test_diagnose_opens_an_incident_thread_that_fills_in(workspace: Workspace) -> None:
    response = workspace.command("api-gateway pods keep restarting, OOMKilled since the last deploy")
    assert response.status == 200
    assert "Opening an incident for `api-gateway`" in response.body

    slack = workspace.slack
    workspace.wait_for(lambda: any("Verdict" in shown(m) for m in slack.messages(CHANNEL_ID)))
    (root,) = slack.messages(CHANNEL_ID, top_level=True)
    assert "INC-" in root.text and "api-gateway" in root.text
    thread = slack.thread(CHANNEL_ID, root.ts)
    match, checklist, verdict = (shown(m) for m in thread[1:4])
    assert "API gateway returning 5xx errors" in match and "OOMKilled" in match
    assert ":red_circle:" in checklist and "3 CrashLoopBackOff; last exit OOMKilled (137)" in checklist
    assert ":hourglass_flowing_sand:" not in checklist, "the checklist ends with every check finished"
    assert "*Suggested severity:* SEV-1" in verdict and "Roll back the recent deployment" in verdict

    incident = workspace.store.by_thread(CHANNEL_ID, root.ts)
    assert incident is not None and incident.playbook_id == "ai-platform/5xx-errors"
    findings = [e for e in workspace.store.timeline(incident.id) if e.kind == "finding"]
    assert len(findings) == 7
    assert 1 <= len(slack.calls("chat.update")) < len(findings), "checklist updates are coalesced"


@pytest.mark.parametrize(
    ("text", "fields", "reply"),
    [
        ("", {}, "Usage: `/diagnose [service] <symptom>`"),
        (
            "billing 504s since noon",
            {},
            "I don't know a service called `billing`. Known services: `ai-worker`",
        ),
        (
            "api-gateway 504s",
            {"channel_id": "C0RANDOM", "channel_name": "random"},
            "opens incidents in #incidents",
        ),
    ],
)
def test_bad_input_gets_an_ephemeral_hint_and_changes_nothing(
    workspace: Workspace, text: str, fields: dict[str, str], reply: str
) -> None:
    response = workspace.command(text, **fields)
    assert response.status == 200 and reply in response.body
    time.sleep(0.3)  # give a wrongly started lazy listener the chance to post, so the next line can catch it
    assert workspace.slack.calls("chat.postMessage") == []
    assert workspace.store.list_open() == []


def test_bad_or_stale_signatures_are_refused_and_nothing_runs(workspace: Workspace) -> None:
    body = slash_command("api-gateway 504s")
    assert workspace.app.dispatch(signed(body, secret="not-the-secret")).status == 401
    assert workspace.app.dispatch(signed(body, timestamp=int(time.time()) - 600)).status == 401
    time.sleep(0.3)
    assert workspace.slack.calls("chat.postMessage") == []


def test_a_sev_button_sets_the_severity_for_everyone_to_see(workspace: Workspace) -> None:
    root, thread = opened_incident(workspace)
    verdict = thread[3]
    assert click(workspace, "U0BOB", verdict, button(verdict, "SEV-2")).status == 200
    slack = workspace.slack
    workspace.wait_for(lambda: "SEV-2" in shown(slack.message(CHANNEL_ID, root.ts)))
    workspace.wait_for(
        lambda: any(
            "<@U0BOB> set the severity to *SEV-2*" in m.text for m in slack.thread(CHANNEL_ID, root.ts)
        )
    )
    incident = workspace.store.by_thread(CHANNEL_ID, root.ts)
    assert incident is not None and incident.severity == "SEV-2" and incident.severity_by == "U0BOB"


def test_a_forged_button_value_changes_nothing(workspace: Workspace) -> None:
    root, thread = opened_incident(workspace)
    forged = {"action_id": "set_severity", "value": "made-up-id"}
    assert click(workspace, "U0BOB", thread[3], forged).status == 200
    time.sleep(0.3)
    incident = workspace.store.by_thread(CHANNEL_ID, root.ts)
    assert incident is not None and incident.severity is None


def test_run_instead_reruns_once_even_when_double_clicked(workspace: Workspace) -> None:
    root, thread = opened_incident(workspace)
    match = thread[1]
    alternative = next(e for b in match.blocks if b["type"] == "actions" for e in b["elements"])
    for _ in range(2):
        click(workspace, "U0ALICE", match, alternative)
    slack = workspace.slack
    workspace.wait_for(lambda: sum("Verdict" in shown(m) for m in slack.thread(CHANNEL_ID, root.ts)) == 2)
    time.sleep(0.5)  # a second run, if any, would post its checklist by now
    verdicts = [m for m in slack.thread(CHANNEL_ID, root.ts) if "Verdict" in shown(m)]
    assert len(verdicts) == 2
    incident = workspace.store.by_thread(CHANNEL_ID, root.ts)
    assert incident is not None and incident.playbook_id != "ai-platform/5xx-errors"


def test_a_fix_button_records_the_request_and_says_nothing_ran(workspace: Workspace) -> None:
    root, thread = opened_incident(workspace)
    verdict = thread[3]
    click(workspace, "U0ALICE", verdict, button(verdict, "Roll back the recent deployment (breaking change)"))
    workspace.wait_for(lambda: bool(workspace.slack.ephemerals("U0ALICE")))
    assert "Nothing has run" in workspace.slack.ephemerals("U0ALICE")[-1].text
    incident = workspace.store.by_thread(CHANNEL_ID, root.ts)
    assert incident is not None
    assert any(e.kind == "action_requested" for e in workspace.store.timeline(incident.id))
