"""A Slack workspace for scenario tests: the Bolt app, the local Slack Web API, the simulated cluster, a store."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from slack_requests import SIGNING_SECRET, block_action, signed, slash_command

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


def make_workspace(tmp_path: Path, catalog: Catalog, example_config: Config) -> Iterator[Workspace]:
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


def opened_incident(workspace: Workspace) -> tuple[Any, list[Any]]:
    workspace.command("api-gateway pods keep restarting, OOMKilled since the last deploy")
    slack = workspace.slack
    workspace.wait_for(lambda: any("Verdict" in shown(m) for m in slack.messages(CHANNEL_ID)))
    (root,) = slack.messages(CHANNEL_ID, top_level=True)
    return root, slack.thread(CHANNEL_ID, root.ts)


def button(message: Any, label: str) -> dict[str, Any]:
    return next(
        e
        for b in message.blocks
        if b["type"] == "actions"
        for e in b["elements"]
        if e["text"]["text"] == label
    )


def click(workspace: Workspace, user: str, message: Any, element: dict[str, Any]) -> Any:
    body = block_action(user, CHANNEL_ID, message.ts, element["action_id"], element["value"])
    return workspace.app.dispatch(signed(body))
