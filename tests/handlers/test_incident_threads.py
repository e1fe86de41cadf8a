"""Incident threads listen: offers for other playbooks (once), mentions, and Slack's retries handled once."""

from __future__ import annotations

import time

from slack_workspace import Workspace, button, opened_incident, shown

from sandbox.slack_api import CHANNEL_ID


def offers(workspace: Workspace, root_ts: str) -> list[str]:
    return [m.text for m in workspace.slack.thread(CHANNEL_ID, root_ts) if "That sounds like" in m.text]


def bot_replies(workspace: Workspace, root_ts: str) -> list[str]:
    return [shown(m) for m in workspace.slack.thread(CHANNEL_ID, root_ts)[1:] if m.bot_id]


def test_a_reply_that_fits_another_playbook_gets_one_offer(workspace: Workspace) -> None:
    root, _ = opened_incident(workspace)
    workspace.say(
        "also seeing certificate errors, cert-manager says the certificate is not ready", "U0BOB", root.ts
    )
    workspace.wait_idle()
    (offer,) = offers(workspace, root.ts)
    assert "TLS certificate errors" in offer
    workspace.say("certificate still expired, cert-manager not ready", "U0BOB", root.ts)
    workspace.wait_idle()
    assert len(offers(workspace, root.ts)) == 1, "at most one offer per playbook per incident"


def test_a_slack_retry_of_a_handled_event_creates_nothing_twice(workspace: Workspace) -> None:
    root, _ = opened_incident(workspace)
    event = {"type": "message", "channel": CHANNEL_ID, "user": "U0BOB", "channel_type": "channel",
             "text": "the certificate expired, TLS handshake fails", "ts": f"{time.time():.6f}", "thread_ts": root.ts}  # fmt: skip
    workspace.deliver(event, "EvSame")
    workspace.wait_idle()
    before = len(workspace.slack.calls("chat.postMessage"))
    assert workspace.deliver(event, "EvSame", retry=1).status == 200
    workspace.wait_idle()
    assert len(workspace.slack.calls("chat.postMessage")) == before == len(offers(workspace, root.ts)) + 4


def test_chatter_and_bot_messages_get_no_offer(workspace: Workspace) -> None:
    root, _ = opened_incident(workspace)
    before = bot_replies(workspace, root.ts)
    workspace.say("thanks, looking", "U0BOB", root.ts)
    workspace.deliver({"type": "message", "channel": CHANNEL_ID, "text": "certificate expired", "bot_id": "B0OTHER",
                       "ts": f"{time.time():.6f}", "thread_ts": root.ts})  # fmt: skip
    workspace.wait_idle()
    assert bot_replies(workspace, root.ts) == before


def test_mentions_answer_status_and_help_in_the_thread(workspace: Workspace) -> None:
    root, _ = opened_incident(workspace)
    workspace.say("@chatops status", "U0BOB", root.ts)
    workspace.wait_idle()
    status = bot_replies(workspace, root.ts)[-1]
    assert "`api-gateway`: investigating, no SEV" in status and "opened → first diagnosis" in status
    assert "Latest verdict: Problem confirmed" in status and "OOMKilled" in status
    workspace.say("@chatops help", "U0BOB", root.ts)
    workspace.wait_idle()
    assert "@chatops status" in bot_replies(workspace, root.ts)[-1]


def test_a_mention_asking_to_diagnose_runs_that_playbook_without_an_offer(workspace: Workspace) -> None:
    root, _ = opened_incident(workspace)
    workspace.say("@chatops diagnose the certificate expired, TLS handshake fails", "U0BOB", root.ts)
    workspace.wait_idle()
    replies = bot_replies(workspace, root.ts)
    assert offers(workspace, root.ts) == [], "the mention is answered by running, not by an offer"
    assert sum("*Verdict:*" in text for text in replies) == 2
    incident = workspace.store.by_thread(CHANNEL_ID, root.ts)
    assert incident is not None and incident.playbook_id != "ai-platform/5xx-errors"


def test_a_mention_outside_an_incident_thread_gets_help_in_a_thread_of_its_own(workspace: Workspace) -> None:
    asked = workspace.say("@chatops status", "U0BOB")  # in the channel, not in an incident thread
    workspace.wait_idle()
    (_, answer) = workspace.slack.thread(CHANNEL_ID, asked.ts)
    assert "`/diagnose [service] <symptom>` in #incidents" in answer.text
    assert workspace.store.list_open() == []


def test_asked_to_diagnose_in_a_resolved_incident_it_checks_nothing_and_offers_to_reopen(
    workspace: Workspace,
) -> None:
    root, _ = opened_incident(workspace)
    workspace.incident("resolve rolled back by hand")
    workspace.wait_idle()
    workspace.say("@chatops diagnose the certificate expired, TLS handshake fails", "U0BOB", root.ts)
    workspace.wait_idle()
    answer = workspace.slack.thread(CHANNEL_ID, root.ts)[-1]
    assert "is resolved, so I ran no checks in it" in answer.text
    assert sum("*Verdict:*" in text for text in bot_replies(workspace, root.ts)) == 1
    workspace.press(button(answer, "Reopen"), "U0BOB")
    workspace.wait_idle()
    incident = workspace.store.by_thread(CHANNEL_ID, root.ts)
    assert incident is not None and incident.is_open


def test_an_offer_pressed_after_the_incident_was_resolved_runs_nothing(workspace: Workspace) -> None:
    root, _ = opened_incident(workspace)
    workspace.say("the certificate expired, cert-manager says the certificate is not ready", "U0BOB", root.ts)
    workspace.wait_idle()
    offer = next(m for m in workspace.slack.thread(CHANNEL_ID, root.ts) if "That sounds like" in m.text)
    workspace.incident("resolve")
    workspace.wait_idle()
    run = button(offer, "Run TLS certificate errors")
    workspace.press(run, "U0BOB")
    workspace.wait_idle()
    assert (
        "is resolved, so nothing runs in it: reopen it first" in workspace.slack.ephemerals("U0BOB")[-1].text
    )
    assert sum("*Verdict:*" in text for text in bot_replies(workspace, root.ts)) == 1
    workspace.incident("reopen")
    workspace.wait_idle()  # the reopen is done before the click, as a person sees it reopened first
    workspace.press(run, "U0BOB")  # the same button works once the incident is open again
    workspace.wait_idle()
    assert sum("*Verdict:*" in text for text in bot_replies(workspace, root.ts)) == 2
