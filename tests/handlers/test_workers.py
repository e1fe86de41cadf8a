"""Incident work in worker processes (serve, socket): a request handed on is answered by a worker with its own
runtime, and a dead worker makes the bot report itself unhealthy so it gets restarted, instead of silently doing
nothing."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from bot.incident.requests import Asker, Mention
from bot.playbooks_loader import Catalog
from bot.settings import Settings
from handlers import workers
from handlers.deps import Deps, open_deps
from handlers.web import Metrics, wsgi_app
from sandbox.slack_api import CHANNEL_ID, TOKEN, FakeSlackApi


@pytest.fixture
def deps(tmp_path: Path, catalog: Catalog) -> Iterator[tuple[Deps, FakeSlackApi]]:
    with FakeSlackApi() as slack:
        config = tmp_path / "chatops.yaml"
        data = yaml.safe_load((ROOT / "config.example.yaml").read_text())
        data["store"] = {"path": str(tmp_path / "chatops.db")}
        config.write_text(yaml.safe_dump(data))
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}  # as a pod's environment
        settings = Settings.load(str(config), env=env, guides=catalog.guides())
        deps = open_deps(settings, catalog)
        deps.work = workers.pool(settings, 1)
        try:
            yield deps, slack
        finally:
            deps.close()


def health(deps: Deps) -> tuple[str, str]:
    answer: list[str] = []
    body = wsgi_app(None, deps, Metrics())(
        {"PATH_INFO": "/healthz"}, lambda status, headers: answer.append(status)
    )  # type: ignore[arg-type]
    return answer[0], b"".join(body).decode()


def test_a_request_is_answered_by_a_worker_process(deps: tuple[Deps, FakeSlackApi]) -> None:
    edge, slack = deps
    assert edge.runtime is None, "the process answering Slack runs no incident work itself"
    asked = slack.say("U0ALICE", CHANNEL_ID, "<@U0CHATOPS> help")
    edge.later(Mention(Asker("U0ALICE", CHANNEL_ID), asked.ts, None, "help"))
    edge.work.shutdown(wait=True)  # wait for it
    (_, answer) = slack.thread(CHANNEL_ID, asked.ts)
    assert "@chatops status" in answer.text


def test_a_dead_worker_fails_the_liveness_check_and_the_person_is_told(
    deps: tuple[Deps, FakeSlackApi],
) -> None:
    edge, slack = deps
    assert health(edge) == ("200 OK", "ok\n")
    for pid in list(edge.work._processes):  # type: ignore[attr-defined]
        os.kill(pid, signal.SIGKILL)  # as a worker killed for its memory would be
    for _ in range(100):  # the pool notices the dead worker within moments; bounded
        edge.later(Mention(Asker("U0ALICE", CHANNEL_ID), "1.1", None, "help"))
        if edge.broken:
            break
        time.sleep(0.05)
    status, text = health(edge)
    assert status == "503 Service Unavailable" and text.startswith("incident workers:")
    assert "Something went wrong on my side" in slack.ephemerals("U0ALICE")[-1].text
