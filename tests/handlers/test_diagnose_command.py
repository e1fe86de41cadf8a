"""/diagnose end to end: a signed slash command through the Bolt app, the Slack Web API served locally,
the simulated cluster behind the probes; assert what a person in #incidents sees."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_requests import SIGNING_SECRET, signed, slash_command

from bot.config import Config
from bot.matcher import Matcher
from bot.playbooks_loader import Catalog
from bot.probes.base import Clients
from bot.runner import Runner
from bot.sandbox import FakeKubeApi, sandboxed
from bot.sandbox.slack_api import CHANNEL_ID, TOKEN, FakeSlackApi
from bot.store import Store
from handlers.app import create_app
from handlers.deps import Deps
from handlers.slack_web import web_client


class Workspace:
    def __init__(self, slack: FakeSlackApi, app: Any, store: Store) -> None:
        self.slack, self.app, self.store = slack, app, store

    def command(self, text: str, **fields: str) -> Any:
        return self.app.dispatch(signed(slash_command(text, **fields)))

    def wait_for(self, predicate: Any, timeout: float = 20.0) -> None:
        """Wait until the lazy work has posted what we look for (bounded; not a timing assertion)."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if predicate():
                return
            time.sleep(0.05)
        raise AssertionError("the bot never posted it")


@pytest.fixture
def workspace(tmp_path: Path, catalog: Catalog, example_config: Config) -> Iterator[Workspace]:
    with FakeSlackApi() as slack, FakeKubeApi("crashloop-oom") as cluster:
        services = dict(example_config.services)
        services["api-gateway"] = sandboxed(services["api-gateway"])
        config = example_config.model_copy(update={"services": services})
        with Store(tmp_path / "chatops.db") as store:
            deps = Deps(
                config=config,
                catalog=catalog,
                matcher=Matcher(catalog, config.guide_hints()),
                store=store,
                runner=Runner(Clients(kubeconfig=cluster.kubeconfig_path)),
                client=web_client(TOKEN, slack.api_url),
            )
            yield Workspace(slack, create_app(deps, SIGNING_SECRET), store)


def shown(message: Any) -> str:
    return json.dumps(message.blocks) + message.text


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
