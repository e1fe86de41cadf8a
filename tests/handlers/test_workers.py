"""Incident work in worker processes (serve, socket): it runs with the worker's own Deps, and a dead worker
makes the bot report itself unhealthy so it gets restarted, instead of silently doing nothing."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from bot.config import load_config
from bot.playbooks_loader import Catalog
from handlers import workers
from handlers.deps import Deps
from handlers.web import Metrics, wsgi_app
from sandbox.slack_api import CHANNEL_ID, TOKEN, FakeSlackApi


def post_pid(deps: Deps, channel: str) -> None:
    """Work that shows where it ran: posts its process id."""
    deps.client.chat_postMessage(channel=channel, text=f"worker {os.getpid()}")


def die(deps: Deps) -> None:
    os._exit(3)  # as a worker killed for its memory would


@pytest.fixture
def deps(tmp_path: Path, catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> Iterator[Deps]:
    with FakeSlackApi() as slack:
        config = tmp_path / "chatops.yaml"
        settings = yaml.safe_load((ROOT / "config.example.yaml").read_text())
        settings["store"] = {"path": str(tmp_path / "chatops.db")}
        config.write_text(yaml.safe_dump(settings))
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.api_url}
        for name, value in env.items():
            monkeypatch.setenv(name, value)  # the workers read the environment, as in a pod
        deps = Deps.from_env(load_config(config, guides=catalog.guides()), catalog, env)
        deps.work = workers.pool(str(config), None, 1)
        deps.slack = slack  # type: ignore[attr-defined]
        try:
            yield deps
        finally:
            deps.work.shutdown(wait=True)
            deps.store.close()


def health(deps: Deps) -> tuple[str, str]:
    answer: list[str] = []
    body = wsgi_app(None, deps, Metrics())(
        {"PATH_INFO": "/healthz"}, lambda status, headers: answer.append(status)
    )  # type: ignore[arg-type]
    return answer[0], b"".join(body).decode()


def test_work_runs_in_a_worker_process_with_its_own_deps(deps: Deps) -> None:
    deps.later(post_pid, CHANNEL_ID)
    deps.work.shutdown(wait=True)  # wait for it
    (message,) = deps.slack.messages(CHANNEL_ID)  # type: ignore[attr-defined]
    assert message.text.startswith("worker ") and message.text != f"worker {os.getpid()}"


def test_a_dead_worker_fails_the_liveness_check_and_the_person_is_told(deps: Deps) -> None:
    assert health(deps) == ("200 OK", "ok\n")
    deps.later(die)
    for _ in range(100):  # the pool notices the dead worker within moments; bounded
        deps.later(post_pid, CHANNEL_ID, tell=(CHANNEL_ID, "U0ALICE"))
        if deps.broken:
            break
        time.sleep(0.05)
    status, text = health(deps)
    assert status == "503 Service Unavailable" and text.startswith("incident workers:")
    assert "Something went wrong on my side" in deps.slack.ephemerals("U0ALICE")[-1].text  # type: ignore[attr-defined]
