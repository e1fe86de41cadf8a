"""`chatops socket` end to end: the Bolt app connected over a real websocket to a local Socket Mode endpoint,
envelopes in, acks out, the Slack Web API served locally; assert what a person in #incidents sees."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import httpx
import pytest
from processes import TEST_WORKER_NICE
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_workspace import OOM_REPORT, button, shown

from bot.errors import ChatOpsError
from handlers.shell.payloads import block_action, event_callback, slash_command
from handlers.shell.workspace import LocalWorkspace as Workspace
from handlers.socket_mode import serve_socket_mode
from sandbox import FakeKubeApi, config_yaml
from sandbox.serving import free_port
from sandbox.slack_api import CHANNEL_ID, TOKEN, FakeSlackApi
from sandbox.slack_render import Message
from sandbox.socket_mode import APP_TOKEN, FakeSocketMode


@pytest.fixture
def connected(workspace: Workspace) -> Iterator[tuple[Workspace, FakeSocketMode]]:
    """The workspace's app served over Socket Mode, as `chatops socket` runs it, until the test ends."""
    with FakeSocketMode() as sockets:
        workspace.slack.app_token, workspace.slack.socket_url = APP_TOKEN, sockets.url
        stop = threading.Event()
        args = (workspace.app, APP_TOKEN, workspace.slack.api_url, stop)
        bot = threading.Thread(target=serve_socket_mode, args=args, name="chatops-socket")
        bot.start()
        try:
            sockets.wait_for_connection()
            yield workspace, sockets
        finally:
            stop.set()
            bot.join(timeout=10)
    assert not bot.is_alive(), "the Socket Mode client closed"


def command_payload(text: str) -> dict[str, Any]:
    """A slash_commands envelope carries the form fields of the HTTP request as JSON."""
    return dict(parse_qsl(slash_command(text), keep_blank_values=True))


def diagnose(sockets: FakeSocketMode, text: str) -> dict[str, Any]:
    return sockets.wait_for_ack(sockets.send("slash_commands", command_payload(text)))


def open_incident(workspace: Workspace, sockets: FakeSocketMode) -> Message:
    """/diagnose over the socket, once the bot is done: the incident's root message."""
    diagnose(sockets, OOM_REPORT)
    workspace.wait_idle()
    (root,) = workspace.slack.messages(CHANNEL_ID, top_level=True)
    return root


def test_a_diagnose_envelope_is_acked_and_opens_the_incident_thread(
    connected: tuple[Workspace, FakeSocketMode],
) -> None:
    workspace, sockets = connected
    ack = diagnose(sockets, OOM_REPORT)
    assert "Opening an incident for `api-gateway`" in ack["payload"]["text"]

    workspace.wait_idle()
    (root,) = workspace.slack.messages(CHANNEL_ID, top_level=True)
    assert "INC-" in root.text and "api-gateway" in root.text
    thread = [shown(m) for m in workspace.slack.thread(CHANNEL_ID, root.ts)]
    assert any("Verdict" in m and "*Suggested severity:* SEV-1" in m for m in thread[1:])
    assert [c.error for c in workspace.slack.calls("apps.connections.open")] == [None]


@pytest.mark.parametrize(
    ("text", "reply"),
    [
        ("help", "Usage: `/diagnose [service] <symptom>`"),
        ("api-gateway 504s", "Opening an incident"),
    ],
)
def test_the_ack_carries_the_answer_over_the_socket(
    connected: tuple[Workspace, FakeSocketMode], text: str, reply: str
) -> None:
    workspace, sockets = connected
    assert reply in diagnose(sockets, text)["payload"]["text"]
    workspace.wait_idle()
    assert bool(workspace.slack.calls("chat.postMessage")) == (reply == "Opening an incident")


def test_a_redelivered_event_is_acked_and_answered_once(connected: tuple[Workspace, FakeSocketMode]) -> None:
    workspace, sockets = connected
    root = open_incident(workspace, sockets)
    mention = {"type": "app_mention", "channel": CHANNEL_ID, "user": "U0BOB", "text": "<@U0CHATOPS> status",
               "ts": f"{time.time():.6f}", "thread_ts": root.ts}  # fmt: skip
    payload = json.loads(event_callback(mention, "EvSocket1"))
    answers = lambda: [m for m in workspace.slack.thread(CHANNEL_ID, root.ts) if "`api-gateway`: " in m.text]  # noqa: E731

    first = sockets.send("events_api", payload)
    assert sockets.wait_for_ack(first) == {"envelope_id": first}
    workspace.wait_idle()
    assert len(answers()) == 1
    posted = len(workspace.slack.calls("chat.postMessage"))

    # Slack thought the first ack was lost: the same event again, in a new envelope.
    again = sockets.send("events_api", payload, retry_attempt=1, retry_reason="timeout")
    assert sockets.wait_for_ack(again) == {"envelope_id": again}
    workspace.wait_idle()
    assert len(answers()) == 1 and len(workspace.slack.calls("chat.postMessage")) == posted


def test_a_button_click_envelope_sets_the_severity(connected: tuple[Workspace, FakeSocketMode]) -> None:
    workspace, sockets = connected
    root = open_incident(workspace, sockets)
    verdict = next(m for m in workspace.slack.thread(CHANNEL_ID, root.ts) if "Verdict" in shown(m))
    sev2 = button(verdict, "SEV-2")
    form = block_action(
        "U0BOB", CHANNEL_ID, verdict.ts, sev2.action_id, sev2.value, sev2.block_id or "", sev2.text
    )
    envelope_id = sockets.send("interactive", json.loads(dict(parse_qsl(form))["payload"]))
    assert sockets.wait_for_ack(envelope_id) == {"envelope_id": envelope_id}
    workspace.wait_idle()
    assert "SEV-2" in shown(workspace.slack.message(CHANNEL_ID, root.ts))


def test_the_app_reconnects_when_slack_asks_and_keeps_working(
    connected: tuple[Workspace, FakeSocketMode],
) -> None:
    workspace, sockets = connected
    first = sockets.wait_for_connection()
    sockets.disconnect("refresh_requested")
    second = sockets.wait_for_connection(count=2)
    assert second.ticket != first.ticket, "a new URL from apps.connections.open for the new connection"
    assert "Opening an incident" in diagnose(sockets, OOM_REPORT)["payload"]["text"]
    assert len(workspace.slack.calls("apps.connections.open")) == 2


def test_the_bot_token_cannot_open_a_socket_connection(workspace: Workspace) -> None:
    slack = workspace.slack
    slack.app_token, slack.socket_url = APP_TOKEN, "ws://127.0.0.1:9/link/"
    with pytest.raises(ChatOpsError, match=r"not_allowed_token_type.*xapp-"):
        serve_socket_mode(workspace.app, TOKEN, slack.api_url, stop=threading.Event())
    assert [c.error for c in slack.calls("apps.connections.open")] == ["not_allowed_token_type"]
    # and the app-level token works for nothing else
    with pytest.raises(SlackApiError) as refused:
        WebClient(APP_TOKEN, base_url=slack.api_url).chat_postMessage(channel=CHANNEL_ID, text="hi")
    assert refused.value.response["error"] == "not_allowed_token_type"


def chatops_socket(tmp_path: Path, port: int = 0, **env: str) -> subprocess.Popen[str]:
    config = tmp_path / "chatops.yaml"
    config.write_text(config_yaml(str(tmp_path / "chatops.db")))
    exe = Path(sys.executable).parent / "chatops"
    command = [
        str(exe),
        "--config",
        str(config),
        "socket",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--worker-nice",
        str(TEST_WORKER_NICE),
    ]
    return subprocess.Popen(command, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)  # fmt: skip


def test_chatops_socket_serves_the_incident_channel_over_the_socket(tmp_path: Path) -> None:
    with (
        FakeSlackApi(app_token=APP_TOKEN) as slack,
        FakeSocketMode() as sockets,
        FakeKubeApi("crashloop-oom") as cluster,
    ):
        slack.socket_url = sockets.url
        port = free_port()
        bot = chatops_socket(tmp_path, port, SLACK_BOT_TOKEN=TOKEN, SLACK_APP_TOKEN=APP_TOKEN,
                             SLACK_API_URL=slack.api_url, KUBECONFIG=cluster.kubeconfig_path)  # fmt: skip
        try:
            sockets.wait_for_connection(timeout=30)
            health = f"http://127.0.0.1:{port}"
            assert (
                httpx.get(f"{health}/healthz").text == "ok\n"
                and httpx.get(f"{health}/readyz").json()["status"] == "ready"
            )
            unsigned = slash_command("api-gateway 504s")  # Slack's requests come through the socket only
            assert httpx.post(f"{health}/slack/events", content=unsigned).status_code == 404
            assert "Opening an incident" in diagnose(sockets, OOM_REPORT)["payload"]["text"]
            end = time.monotonic() + 30  # the bot runs in another process: poll what it posts (bounded)
            while time.monotonic() < end and not any(
                "Verdict" in shown(m) for m in slack.messages(CHANNEL_ID)
            ):
                time.sleep(0.1)
            assert any("Problem confirmed" in m.text for m in slack.messages(CHANNEL_ID))
        finally:
            bot.terminate()
            bot.communicate(timeout=10)


def test_chatops_socket_without_an_app_token_says_what_to_set(tmp_path: Path) -> None:
    bot = chatops_socket(tmp_path, SLACK_BOT_TOKEN=TOKEN, SLACK_APP_TOKEN="")
    output, _ = bot.communicate(timeout=60)
    assert bot.returncode == 2
    assert "set SLACK_APP_TOKEN (Basic Information > App-Level Tokens" in output
