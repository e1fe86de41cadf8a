"""Incident work in worker processes (serve, socket): a request handed on is answered by a worker with its own
runtime; one worker runs several incidents at once, past the cap on checks at once an incident's thread says
it is queued; and a dead worker makes the bot report itself unhealthy so it gets restarted, instead of silently
doing nothing."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from processes import TEST_WORKER_NICE

from bot.incident.requests import Asker, DiagnoseRequest, Mention
from bot.playbooks_loader import Catalog
from bot.settings import Settings
from handlers import workers
from handlers.deps import Deps, open_deps
from handlers.turns import SharedTurns
from handlers.web import wsgi_app
from sandbox import FakeKubeApi, config_yaml
from sandbox.slack_api import CHANNEL_ID, TOKEN, FakeSlackApi
from sandbox.slack_render import Message

ALICE = Asker("U0ALICE", CHANNEL_ID)
OOM = DiagnoseRequest(ALICE, "api-gateway", "pods keep restarting, OOMKilled")
Edge = tuple[Deps, FakeSlackApi, FakeKubeApi]


@pytest.fixture
def edge(tmp_path: Path, catalog: Catalog, request: pytest.FixtureRequest) -> Iterator[Edge]:
    """One worker process; the cluster answers no call until the test ends (`delay_s`), so an incident that
    started its checks stays in them. `@pytest.mark.parametrize("edge", [{"cap": 1}], indirect=True)` sets the
    cap on checks at once, `{"delay_s": 0.5}` how long each call of the cluster takes."""
    options = getattr(request, "param", {})
    cap, delay_s = options.get("cap", 16), options.get("delay_s", 60)
    config = tmp_path / "chatops.yaml"
    config.write_text(config_yaml(str(tmp_path / "chatops.db")))
    with FakeSlackApi() as slack:
        with FakeKubeApi("crashloop-oom") as cluster:
            cluster.delay_s = delay_s  # a long one is released when the cluster stops, at the end of the test
            env = {
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_API_URL": slack.api_url,
                "KUBECONFIG": cluster.kubeconfig_path,
            }
            settings = Settings.load(str(config), env=env, guides=catalog.guides())
            deps = open_deps(settings, catalog)
            up = threading.Event()
            deps.workers = workers.WorkerPool(
                settings, 1, catalog, SharedTurns(cap), up=up.set, nice=TEST_WORKER_NICE
            )
            assert up.wait(60)  # the worker starts in the background: wait for it
            try:
                yield deps, slack, cluster
            finally:
                pass  # the cluster stops first: the checks waiting on it fail fast, so the worker can finish
        deps.close()


def health(deps: Deps) -> tuple[str, str]:
    answer: list[str] = []
    body = wsgi_app(None, deps)({"PATH_INFO": "/healthz"}, lambda status, headers: answer.append(status))  # type: ignore[arg-type]
    return answer[0], b"".join(body).decode()


def eventually(found: Callable[[], list[Message]], count: int) -> list[Message]:
    """What `found` returns once it has `count` messages; bounded, it returns what there is by then."""
    end = time.monotonic() + 30
    while len(messages := found()) < count and time.monotonic() < end:
        time.sleep(0.02)
    return messages


def checks_begun(deps: Deps, slack: FakeSlackApi) -> Message:
    """Open an incident and return its root message once its checks have begun (root, match, checklist)."""
    deps.later(OOM)
    root = eventually(lambda: slack.messages(CHANNEL_ID, top_level=True), 1)[0]
    eventually(lambda: slack.thread(CHANNEL_ID, root.ts), 3)
    return root


def test_a_request_is_answered_by_a_worker_process(edge: Edge) -> None:
    deps, slack, _ = edge
    assert deps.runtime is None, "the process answering Slack runs no incident work itself"
    asked = slack.say("U0ALICE", CHANNEL_ID, "<@U0CHATOPS> help")
    deps.later(Mention(ALICE, asked.ts, None, "help"))
    (_, answer) = eventually(lambda: slack.thread(CHANNEL_ID, asked.ts), 2)
    assert "@chatops status" in answer.text


def test_one_worker_runs_incidents_at_once(edge: Edge) -> None:
    deps, slack, _ = edge
    deps.later(OOM)
    deps.later(OOM)
    roots = eventually(lambda: slack.messages(CHANNEL_ID, top_level=True), 2)
    assert len(roots) == 2, "the second incident opened while the first one's checks were running"
    assert not any("*Verdict:*" in str(m.blocks) for m in slack.messages(CHANNEL_ID))


@pytest.mark.parametrize("edge", [{"cap": 1}], indirect=True)
def test_past_the_cap_an_incident_says_it_is_queued(edge: Edge) -> None:
    deps, slack, _ = edge
    first = checks_begun(deps, slack)
    deps.later(OOM)
    second = eventually(lambda: slack.messages(CHANNEL_ID, top_level=True), 2)[-1]
    queued = eventually(lambda: [m for m in slack.thread(CHANNEL_ID, second.ts) if "Queued" in m.text], 1)
    assert [m.text for m in queued] == [
        ":stopwatch: Queued behind 1 incident: the checks start when one of them finishes."
    ]
    assert not any("Queued" in m.text for m in slack.thread(CHANNEL_ID, first.ts))


@pytest.mark.parametrize("edge", [{"delay_s": 0.5}], indirect=True)
def test_shutting_down_lets_the_incidents_in_progress_finish(edge: Edge) -> None:
    deps, slack, _ = edge
    root = checks_begun(deps, slack)
    assert deps.workers is not None
    deps.workers.shutdown(wait=True)  # what SIGTERM does: no new work, and the worker exits once it is done
    thread = slack.thread(CHANNEL_ID, root.ts)
    assert any("*Verdict:*" in str(m.blocks) for m in thread), [m.text for m in thread]
    assert not any("went wrong" in m.text for m in slack.ephemerals("U0ALICE"))


def test_a_dead_worker_fails_the_liveness_check_and_the_person_is_told(edge: Edge) -> None:
    deps, slack, _ = edge
    assert health(deps) == ("200 OK", "ok\n")
    assert deps.workers is not None
    for pid in deps.workers.pids:
        os.kill(pid, signal.SIGKILL)  # as a worker killed for its memory would be
    for _ in range(100):  # the pool notices the dead worker within moments; bounded
        deps.later(Mention(ALICE, "1.1", None, "help"))
        if deps.broken:
            break
        time.sleep(0.05)
    status, text = health(deps)
    assert status == "503 Service Unavailable" and text.startswith("incident workers:")
    assert "Something went wrong on my side" in slack.ephemerals("U0ALICE")[-1].text


def test_a_worker_that_cannot_start_fails_the_liveness_check(tmp_path: Path, catalog: Catalog) -> None:
    config = tmp_path / "chatops.yaml"
    config.write_text(config_yaml(str(tmp_path / "chatops.db")))
    (tmp_path / "not-a-folder").write_text("")
    env = {"SLACK_BOT_TOKEN": TOKEN, "CHATOPS_STORE_URL": f"sqlite:///{tmp_path}/not-a-folder/chatops.db"}
    settings = Settings.load(str(config), env=env, guides=catalog.guides())
    deps = open_deps(
        Settings.load(str(config), env={"SLACK_BOT_TOKEN": TOKEN}, guides=catalog.guides()), catalog
    )
    assert health(deps) == ("200 OK", "ok\n")
    deps.workers = workers.WorkerPool(
        settings,
        1,
        catalog,
        SharedTurns(16),
        failed=lambda reason: setattr(deps, "broken", reason),
        nice=TEST_WORKER_NICE,
    )  # as serve wires it; fmt: skip
    try:
        end = time.monotonic() + 60  # bounded: the worker's start fails within a second or two
        while not deps.broken and time.monotonic() < end:
            time.sleep(0.05)
        status, text = health(deps)
    finally:
        deps.close()
    assert status == "503 Service Unavailable" and text.startswith("incident workers:")
