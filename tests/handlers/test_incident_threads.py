"""Incident threads listen: offers for other playbooks (once), mentions, and Slack's retries handled once."""

from __future__ import annotations

import time
from typing import Any

from slack_requests import event_callback, signed_json
from slack_workspace import Workspace, opened_incident

from bot.sandbox.slack_api import CHANNEL_ID


def reply(
    workspace: Workspace, root_ts: str, text: str, event_id: str, retry: int | None = None, **extra: Any
) -> Any:
    event = {"type": "message", "channel": CHANNEL_ID, "user": "U0BOB", "text": text,
             "ts": f"{time.time():.6f}", "thread_ts": root_ts, "channel_type": "channel", **extra}  # fmt: skip
    return workspace.app.dispatch(signed_json(event_callback(event, event_id), retry))


def offers(workspace: Workspace, root_ts: str) -> list[Any]:
    return [m for m in workspace.slack.thread(CHANNEL_ID, root_ts) if "That sounds like" in m.text]


def test_a_reply_that_fits_another_playbook_gets_one_offer(workspace: Workspace) -> None:
    root, _ = opened_incident(workspace)
    text = "also seeing certificate errors, cert-manager says the certificate is not ready"
    assert reply(workspace, root.ts, text, "Ev1").status == 200
    workspace.wait_for(lambda: len(offers(workspace, root.ts)) == 1)
    assert "TLS certificate errors" in offers(workspace, root.ts)[0].text
    reply(workspace, root.ts, "certificate still expired, cert-manager not ready", "Ev2")
    time.sleep(0.5)  # a second offer, if any, would be posted by now
    assert len(offers(workspace, root.ts)) == 1, "at most one offer per playbook per incident"


def test_a_slack_retry_of_a_handled_event_creates_nothing_twice(workspace: Workspace) -> None:
    root, _ = opened_incident(workspace)
    text = "the certificate expired, TLS handshake fails"
    reply(workspace, root.ts, text, "EvSame")
    workspace.wait_for(lambda: len(offers(workspace, root.ts)) == 1)
    before = len(workspace.slack.calls("chat.postMessage"))
    assert reply(workspace, root.ts, text, "EvSame", retry=1).status == 200
    time.sleep(0.5)
    assert len(workspace.slack.calls("chat.postMessage")) == before


def test_chatter_and_bot_messages_get_no_offer(workspace: Workspace) -> None:
    root, _ = opened_incident(workspace)
    before = len(workspace.slack.calls("chat.postMessage"))
    reply(workspace, root.ts, "thanks, looking", "Ev3")
    reply(workspace, root.ts, "certificate expired", "Ev4", bot_id="B0OTHER")
    time.sleep(0.5)
    assert len(workspace.slack.calls("chat.postMessage")) == before


def test_mentions_answer_status_and_help_in_the_thread(workspace: Workspace) -> None:
    root, _ = opened_incident(workspace)
    mention = {"type": "app_mention", "channel": CHANNEL_ID, "user": "U0BOB", "text": "<@U0CHATOPS> status",
               "ts": f"{time.time():.6f}", "thread_ts": root.ts}  # fmt: skip
    workspace.app.dispatch(signed_json(event_callback(mention, "Ev5")))
    workspace.wait_for(
        lambda: any("timeline entries" in m.text for m in workspace.slack.thread(CHANNEL_ID, root.ts))
    )
    status = next(m.text for m in workspace.slack.thread(CHANNEL_ID, root.ts) if "timeline entries" in m.text)
    assert "`api-gateway`: open" in status and "ai-platform/5xx-errors" in status
    mention.update(text="<@U0CHATOPS> help", ts=f"{time.time():.6f}")
    workspace.app.dispatch(signed_json(event_callback(mention, "Ev6")))
    workspace.wait_for(
        lambda: any("@chatops status" in m.text for m in workspace.slack.thread(CHANNEL_ID, root.ts))
    )
