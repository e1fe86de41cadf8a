"""/diagnose end to end: a signed slash command through the Bolt app, the Slack Web API served locally,
the simulated cluster behind the probes; assert what a person in #incidents sees."""

from __future__ import annotations

import time

import pytest
from slack_workspace import OOM_REPORT, Workspace, button, buttons, forged, opened_incident, shown

from handlers.shell.payloads import signed, slash_command
from handlers.shell.workspace import ack_text
from sandbox.slack_api import CHANNEL_ID


def test_diagnose_opens_an_incident_thread_that_fills_in(workspace: Workspace) -> None:
    response = workspace.command(OOM_REPORT)
    assert response.status == 200
    assert "Opening an incident for `api-gateway`" in ack_text(response)

    workspace.wait_idle()
    slack = workspace.slack
    (root,) = slack.messages(CHANNEL_ID, top_level=True)
    assert "INC-" in root.text and "api-gateway" in root.text
    thread = slack.thread(CHANNEL_ID, root.ts)
    match, checklist, verdict = (shown(m) for m in thread[1:4])
    assert "API gateway returning 5xx errors" in match and "OOMKilled" in match
    assert ":red_circle:" in checklist and "3 CrashLoopBackOff; last exit OOMKilled (137)" in checklist
    assert ":hourglass_flowing_sand:" not in checklist, "the checklist ends with every check finished"
    assert "*Suggested severity:* SEV-1" in verdict and "Roll back the recent deployment" in verdict
    root = slack.message(CHANNEL_ID, root.ts)  # the channel shows the verdict without opening the thread
    assert ":red_circle: Problem confirmed: nothing is serving api-gateway" in shown(root)

    incident = workspace.store.by_thread(CHANNEL_ID, root.ts)
    assert incident is not None and incident.playbook_id == "ai-platform/5xx-errors"
    findings = [e for e in workspace.store.timeline(incident.id) if e.kind == "finding"]
    assert len(findings) == 13, "the playbook's 8 checks and the 5 of the triage not among them"
    checklist_updates = [c for c in slack.calls("chat.update") if c.params["ts"] == thread[2].ts]
    assert 1 <= len(checklist_updates) < len(findings), "checklist updates are coalesced"


def test_the_full_evidence_follows_as_a_file_in_the_thread_with_secrets_redacted(
    workspace: Workspace,
) -> None:
    root, thread = opened_incident(workspace)
    (upload,) = workspace.slack.files.values()
    assert (upload.channel, upload.thread_ts) == (CHANNEL_ID, root.ts)
    assert thread[-1].files and "Full evidence from the checks" in thread[-1].text
    evidence = upload.text
    assert "== Pods that are not Running" in evidence
    assert evidence.count("CrashLoopBackOff  ") == 6, "the gateway's pods, and every pod of the namespace"
    assert "REVISION  CREATED" in evidence, "rollout history in full, not clipped to a summary"
    assert evidence.index("[critical]") < evidence.index("[warn]") < evidence.index("[ok]"), "worst first"
    assert "model-router.internal" in evidence
    assert "Sup3rS3cretPw" not in evidence and "eyJzdWIiOiJnYXRld2F5In0" not in evidence
    assert all("Sup3rS3cretPw" not in shown(m) for m in workspace.slack.messages(CHANNEL_ID))


def test_a_secret_pasted_into_diagnose_is_never_posted(workspace: Workspace) -> None:
    token = "xoxp-2048351029-3301234567890-AbCdEfGhIjKlMnOpQrStUvWx"
    opened_incident(
        workspace, f"api-gateway 401s since the deploy, curl -H 'Authorization: Bearer {token}' fails"
    )
    workspace.say(
        f"@chatops diagnose still failing with token={token}",
        "U0BOB",
        workspace.store.list_open()[0].thread_ts,
    )
    workspace.wait_idle()
    posted = [shown(m) for m in workspace.slack.messages(CHANNEL_ID) if m.bot_id]
    assert len(posted) >= 3 and all(token not in text and "3301234567890" not in text for text in posted)


def test_when_slack_refuses_the_file_the_thread_says_so(workspace: Workspace) -> None:
    workspace.slack.fail_next("files.getUploadURLExternal", status=200, error="missing_scope")
    _, thread = opened_incident(workspace)
    assert workspace.slack.files == {}
    assert (
        "could not attach the checks' full evidence as a file (Slack said `missing_scope`)" in thread[-1].text
    )
    assert "*Verdict:*" in shown(thread[-2])


def test_slack_rate_limits_are_waited_out_and_nothing_is_posted_twice(workspace: Workspace) -> None:
    workspace.slack.fail_next("chat.postMessage", status=429, retry_after=1)  # Slack: slow down, retry in 1 s
    workspace.slack.fail_next("chat.update", status=429, retry_after=1)
    _, thread = opened_incident(workspace)
    assert [c.status for c in workspace.slack.calls("chat.postMessage")][:2] == [429, 200]
    assert len(workspace.slack.messages(CHANNEL_ID, top_level=True)) == 1
    assert "*Verdict:*" in shown(thread[3]) and ":hourglass_flowing_sand:" not in shown(thread[2])


@pytest.mark.parametrize(
    ("error", "times", "told"),
    [("not_in_channel", 1, "invite me with `/invite @chatops`"),
     ("fatal_error", 4, "Something went wrong on my side (error id ")],  # three retries, then it gives up
)  # fmt: skip
def test_when_slack_refuses_the_incident_the_person_is_told(
    workspace: Workspace, error: str, times: int, told: str
) -> None:
    workspace.slack.fail_next("chat.postMessage", status=200, error=error, times=times)
    workspace.command(OOM_REPORT)
    workspace.wait_idle()
    assert workspace.slack.messages(CHANNEL_ID) == []
    assert told in workspace.slack.ephemerals("U0ALICE")[-1].text
    assert workspace.store.list_open() == [], "no incident left open that nobody can see"


@pytest.mark.parametrize(
    ("status", "error"), [(200, "internal_error"), (200, "service_unavailable"), (503, None)]
)
def test_slacks_transient_failures_are_retried_and_the_incident_opens(
    workspace: Workspace, status: int, error: str | None
) -> None:
    workspace.slack.fail_next("chat.postMessage", status=status, error=error, times=2)
    _, thread = opened_incident(workspace)
    assert len(workspace.slack.messages(CHANNEL_ID, top_level=True)) == 1, "posted once, not once per try"
    assert any("*Verdict:*" in shown(m) for m in thread)


def test_a_vague_report_offers_the_closest_playbooks_and_one_runs(workspace: Workspace) -> None:
    root, thread = opened_incident(workspace, "api-gateway the gateway feels weird")
    match = thread[1]
    assert "No confident match" in shown(match)
    assert "Triage" in shown(thread[2]) and "*Verdict:*" in shown(thread[3]), "the triage runs without a pick"
    incident = workspace.store.by_thread(CHANNEL_ID, root.ts)
    assert incident is not None and incident.playbook_id is None, "the triage is never the matched playbook"
    choice = "Run API gateway slow or timing out"
    assert choice in buttons(match)
    workspace.press(button(match, choice))
    workspace.wait_idle()
    assert any("*Verdict:*" in shown(m) for m in workspace.slack.thread(CHANNEL_ID, root.ts))
    incident = workspace.store.by_thread(CHANNEL_ID, root.ts)
    assert incident is not None and incident.playbook_id == "ai-platform/high-latency-or-timeouts"


@pytest.mark.parametrize(
    ("text", "fields", "reply"),
    [
        ("help", {}, "and open an incident thread. Services: `ai-worker`, `api-gateway`"),
        ("api-gateway", {}, "Usage: `/diagnose [service] <symptom>`"),
        ("api-gateway 504s", {"channel": "C0RANDOM"}, "opens incidents in #incidents"),
        ("note", {"command": "/incident"}, "What should the note say? `/incident note <text>`"),
        ("sev 7", {"command": "/incident"}, "Which SEV? `/incident sev 1`"),
        ("commander bob", {"command": "/incident"}, "Who? `/incident commander @someone`."),
        ("frobnicate", {"command": "/incident"}, "Usage: `/incident declare [service] <title> [sev N]`"),
    ],
)  # fmt: skip
def test_bad_input_gets_an_ephemeral_hint_and_changes_nothing(
    workspace: Workspace, text: str, fields: dict[str, str], reply: str
) -> None:
    workspace.slack.add_channel("C0RANDOM", "random")
    response = workspace.command(text, **fields)
    assert response.status == 200 and reply in ack_text(response)
    workspace.wait_idle()
    assert workspace.slack.calls("chat.postMessage") == []
    assert workspace.store.list_open() == []


@pytest.mark.parametrize(
    ("text", "first", "asked"),
    [
        ("504s since the deploy", "Diagnose api-gateway", "Which service is this about?"),
        ("api-gatway 504s since the deploy", "Diagnose api-gateway", "I don't know a service called `api-gatway`"),
        ("image uploads fail with a 403 from the storage bucket", "Diagnose imgstream", "Which service"),
    ],
)  # fmt: skip
def test_no_service_named_offers_the_likely_services_and_one_click_opens_the_incident(
    workspace: Workspace, text: str, first: str, asked: str
) -> None:
    assert ack_text(workspace.command(text)) == ""
    workspace.wait_idle()
    assert workspace.slack.calls("chat.postMessage") == [] and workspace.store.list_open() == []
    (guesses,) = workspace.slack.ephemerals("U0ALICE")
    assert asked in guesses.text
    assert buttons(guesses)[0] == first, buttons(guesses)
    choice = button(guesses, first)
    workspace.press(choice)
    workspace.wait_idle()
    (incident,) = workspace.store.list_open()
    assert incident.service == first.removeprefix("Diagnose ")
    assert incident.symptom == text.removeprefix("api-gatway ")
    assert buttons(guesses) == [] and "opened the incident" in guesses.text, "the choice replaces the buttons"
    workspace.press(choice)  # a double click opens nothing more
    workspace.wait_idle()
    assert len(workspace.store.list_open()) == 1


def test_diagnose_alone_opens_the_form_and_submitting_it_opens_the_incident(workspace: Workspace) -> None:
    response = workspace.command("")
    assert response.status == 200 and ack_text(response) == ""
    workspace.wait_idle()
    (form,) = workspace.slack.views
    assert form["type"] == "modal" and form["title"]["text"] == "Diagnose"
    workspace.submit(form, {"service": "api-gateway", "symptom": OOM_REPORT.removeprefix("api-gateway "),
                            "severity": "SEV-2"})  # fmt: skip
    workspace.wait_idle()
    (incident,) = workspace.store.list_open()
    assert (incident.service, incident.severity) == ("api-gateway", "SEV-2")
    (root,) = workspace.slack.messages(CHANNEL_ID, top_level=True)
    assert "Problem confirmed" in shown(workspace.slack.message(CHANNEL_ID, root.ts))


def test_a_form_without_a_symptom_is_answered_in_the_form(workspace: Workspace) -> None:
    workspace.command("")
    workspace.wait_idle()
    answer = workspace.submit(workspace.slack.views[-1], {"service": "api-gateway", "symptom": "  "})
    assert answer["response_action"] == "errors" and "diagnose_symptom" in answer["errors"]
    workspace.wait_idle()
    assert workspace.store.list_open() == []


def test_bad_or_stale_signatures_are_refused_and_nothing_runs(workspace: Workspace) -> None:
    body = slash_command("api-gateway 504s")
    assert workspace.send(signed(body, secret="not-the-secret")).status == 401
    assert workspace.send(signed(body, timestamp=int(time.time()) - 600)).status == 401
    workspace.wait_idle()
    assert workspace.slack.calls("chat.postMessage") == []


def test_a_sev_button_sets_the_severity_for_everyone_to_see(workspace: Workspace) -> None:
    root, thread = opened_incident(workspace)
    verdict = thread[3]
    for _ in range(2):  # a double click sets it once
        assert workspace.press(button(verdict, "SEV-2"), user="U0BOB").status == 200
    workspace.wait_idle()
    assert sum("set the severity" in m.text for m in workspace.slack.thread(CHANNEL_ID, root.ts)) == 1
    slack = workspace.slack
    assert "SEV-2" in shown(slack.message(CHANNEL_ID, root.ts))
    assert "Problem confirmed" in shown(slack.message(CHANNEL_ID, root.ts)), "the verdict stays on the root"
    assert "<@U0BOB> set the severity to *SEV-2*" in slack.thread(CHANNEL_ID, root.ts)[-1].text
    incident = workspace.store.by_thread(CHANNEL_ID, root.ts)
    assert incident is not None and incident.severity == "SEV-2" and incident.severity_by == "U0BOB"


def test_a_forged_button_value_changes_nothing(workspace: Workspace) -> None:
    root, thread = opened_incident(workspace)
    before = len(workspace.slack.calls())
    assert workspace.press(forged(thread[3], "set_severity:0", "made-up-id"), user="U0BOB").status == 200
    workspace.wait_idle()
    incident = workspace.store.by_thread(CHANNEL_ID, root.ts)
    assert incident is not None and incident.severity is None
    assert [c.method for c in workspace.slack.calls()[before:]] == ["chat.postEphemeral"], "only an answer"


def test_run_instead_reruns_once_even_when_double_clicked(workspace: Workspace) -> None:
    root, thread = opened_incident(workspace)
    match = thread[1]
    alternative = button(match, buttons(match)[0])
    for _ in range(2):
        workspace.press(alternative)
    workspace.wait_idle()
    verdicts = [m for m in workspace.slack.thread(CHANNEL_ID, root.ts) if "Verdict" in shown(m)]
    assert len(verdicts) == 2
    match = workspace.slack.message(CHANNEL_ID, match.ts)
    assert alternative.text not in buttons(match), "the pressed button is gone"
    assert f"<@U0ALICE> ran *{alternative.text.removeprefix('Run ').removesuffix(' instead')}*" in shown(
        match
    )
    incident = workspace.store.by_thread(CHANNEL_ID, root.ts)
    assert incident is not None and incident.playbook_id != "ai-platform/5xx-errors"


def test_a_feature_request_runs_no_checks_and_says_why(workspace: Workspace) -> None:
    _, thread = opened_incident(
        workspace, "api-gateway it would be great to have a retry button on 5xx errors"
    )
    match = thread[1]
    assert "reads like a feature request, not an incident" in shown(match)
    assert len(thread) == 2 and not any("*Verdict:*" in shown(m) for m in thread), "no checks ran"


def test_when_nothing_fits_the_thread_says_the_guides_triage_runs(workspace: Workspace) -> None:
    _, thread = opened_incident(workspace, "api-gateway the purple widget wobbles")
    assert "Meanwhile the guide's general checks (its triage) run below." in shown(thread[1])
    assert any("*Verdict:*" in shown(m) for m in thread), "the triage ran"
