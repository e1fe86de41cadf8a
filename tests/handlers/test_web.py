"""/readyz and /metrics say who leads: this replica's name, whether it leads, and who holds the Lease, as its
elector sees them at that moment. The electors are real, against the simulated API server's Leases, on a
ManualClock moved by the test; the WSGI app is called as waitress calls it. (Two real `chatops serve`
processes saying the same: tests/handlers/test_replicas.py.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from kubernetes import config
from kubernetes.client import CoordinationV1Api

from bot.clock import ManualClock
from bot.leader import AlwaysLeader, LeaseElector
from bot.playbooks_loader import Catalog
from bot.settings import Settings
from bot.store import open_store
from handlers.deps import Deps
from handlers.slack_web import web_client
from handlers.web import SlackAuthCheck, wsgi_app
from sandbox.kube_api import CONTEXT, FakeKubeApi
from sandbox.slack_api import TOKEN, FakeSlackApi

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
LEASE_S, DEADLINE_S, RETRY_S = 15, 10.0, 2.0
NAMESPACE = "chatops"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def slack() -> Iterator[FakeSlackApi]:
    with FakeSlackApi() as served:
        yield served


@pytest.fixture
def cluster(clock: ManualClock) -> Iterator[FakeKubeApi]:
    with FakeKubeApi("healthy", clock=clock) as served:
        yield served


class Pod:
    """One replica's edge: its Deps (its leader set, as `chatops serve` sets it) and its HTTP routes."""

    def __init__(self, deps: Deps, slack: FakeSlackApi) -> None:
        self.deps = deps
        self.app = wsgi_app(None, deps, SlackAuthCheck(deps.client))

    def get(self, path: str) -> tuple[str, dict[str, str], str]:
        answered: list[Any] = []
        body = self.app({"PATH_INFO": path, "REQUEST_METHOD": "GET"}, lambda *a: answered.extend(a))
        return answered[0], dict(answered[1]), b"".join(body).decode()

    def ready(self) -> dict[str, Any]:
        status, headers, body = self.get("/readyz")
        assert headers["Content-Type"] == "application/json"
        return {"http": status, **json.loads(body)}

    def metrics(self) -> str:
        return self.get("/metrics")[2]


@pytest.fixture
def pods(
    tmp_path: Path, example_settings: Settings, catalog: Catalog, slack: FakeSlackApi, cluster: FakeKubeApi,
    clock: ManualClock,
) -> Iterator[tuple[LeaseElector, Pod, LeaseElector, Pod]]:  # fmt: skip
    """Two replicas on one store, each with its own elector on the Lease chatops/chatops-leader."""
    made: list[Deps] = []

    def pod(name: str) -> tuple[LeaseElector, Pod]:
        api = CoordinationV1Api(
            config.new_client_from_config(config_file=cluster.kubeconfig_path, context=CONTEXT)
        )
        elector = LeaseElector(api, name, NAMESPACE, lease_duration=LEASE_S, renew_deadline=DEADLINE_S,
                               retry_period=RETRY_S, clock=clock)  # fmt: skip
        deps = Deps(example_settings, catalog, web_client(TOKEN, slack.api_url),
                    open_store(f"sqlite:///{tmp_path / 'chatops.db'}", clock))  # fmt: skip
        deps.leader = elector
        made.append(deps)
        return elector, Pod(deps, slack)

    try:
        yield (*pod("chatops-7f9c-a"), *pod("chatops-7f9c-b"))
    finally:
        for deps in made:
            deps.close()


def test_both_replicas_are_ready_and_say_which_one_leads(
    pods: tuple[LeaseElector, Pod, LeaseElector, Pod],
) -> None:
    a, pod_a, b, pod_b = pods
    assert pod_b.ready()["leader"] is None, "before its first round a replica knows of no leader"
    assert [a.step(), b.step()] == [True, False]
    assert pod_a.ready() == {"http": "200 OK", "status": "ready", "problems": [], "workers": "up",
                             "replica": "chatops-7f9c-a",
                             "leading": True, "leader": "chatops-7f9c-a", "lease": "chatops/chatops-leader"}  # fmt: skip
    follower = pod_b.ready()
    assert (follower["http"], follower["replica"], follower["leading"]) == ("200 OK", "chatops-7f9c-b", False)
    assert follower["leader"] == "chatops-7f9c-a"
    assert 'chatops_leader{replica="chatops-7f9c-a"} 1.0' in pod_a.metrics()
    assert 'chatops_leader{replica="chatops-7f9c-b"} 0.0' in pod_b.metrics()
    assert "# TYPE chatops_leader gauge" in pod_a.metrics()


def test_a_leader_that_cannot_renew_says_at_once_that_it_no_longer_leads(
    pods: tuple[LeaseElector, Pod, LeaseElector, Pod], clock: ManualClock
) -> None:
    a, pod_a, b, pod_b = pods
    assert [a.step(), b.step()] == [True, False]
    clock.advance(DEADLINE_S)  # no round of a's since: its renewal deadline has passed, between rounds
    assert pod_a.ready()["leading"] is False
    assert 'chatops_leader{replica="chatops-7f9c-a"} 0.0' in pod_a.metrics()
    clock.advance(LEASE_S - DEADLINE_S)  # the lease has expired as b sees it: b takes it over
    assert b.step() is True
    assert pod_b.ready()["leading"] is True and pod_b.ready()["leader"] == "chatops-7f9c-b"
    assert 'chatops_leader{replica="chatops-7f9c-b"} 1.0' in pod_b.metrics()
    assert a.step() is False  # its renewal is refused (409): someone else wrote the lease
    assert a.step() is False  # and its next round reads whose it is now
    assert pod_a.ready()["leader"] == "chatops-7f9c-b"


def test_a_replica_that_is_not_ready_still_says_who_leads(
    pods: tuple[LeaseElector, Pod, LeaseElector, Pod], slack: FakeSlackApi
) -> None:
    a, pod_a, _, _ = pods
    a.step()
    slack.fail_next("auth.test", status=200, error="invalid_auth")
    ready = pod_a.ready()
    assert (ready["http"], ready["status"], ready["leading"]) == (
        "503 Service Unavailable",
        "not ready",
        True,
    )
    assert len(ready["problems"]) == 1 and ready["problems"][0].startswith("slack auth:")
    assert "invalid_auth" in ready["problems"][0]


def test_one_replica_without_a_lease_always_leads(
    tmp_path: Path, example_settings: Settings, catalog: Catalog, slack: FakeSlackApi
) -> None:
    deps = Deps(example_settings, catalog, web_client(TOKEN, slack.api_url),
                open_store(f"sqlite:///{tmp_path / 'chatops.db'}"))  # fmt: skip
    deps.leader = AlwaysLeader("chatops-0")
    try:
        pod = Pod(deps, slack)
        assert pod.ready() == {"http": "200 OK", "status": "ready", "problems": [], "workers": "up",
                               "replica": "chatops-0",
                               "leading": True, "leader": "chatops-0", "lease": None}  # fmt: skip
        assert 'chatops_leader{replica="chatops-0"} 1.0' in pod.metrics()
    finally:
        deps.close()
