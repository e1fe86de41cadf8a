"""Leader election through a Lease, against the simulated API server through the official client: one replica
leads, a successor takes over only once the lease has expired, a leader that cannot renew stops before that, and
no two replicas ever lead at once. Time is a ManualClock moved by the test; nothing waits."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes import config
from kubernetes.client import CoordinationV1Api, V1Lease
from test_store import all_at_once

from bot.clock import ManualClock
from bot.leader import AlwaysLeader, LeaseElector
from sandbox.kube_api import CONTEXT, NAMESPACE, FakeKubeApi

START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
LEASE_S, DEADLINE_S, RETRY_S = 15, 10.0, 2.0


def micro(seconds: float) -> str:
    """The MicroTime stored for a lease the bot wrote at START + seconds: whole seconds go one microsecond later
    (the client would send them without the decimals the API server requires)."""
    when = START + timedelta(seconds=seconds)
    return (when if when.microsecond else when + timedelta(microseconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class Replica:
    """One pod: its own API client, its elector, and what its callbacks saw."""

    def __init__(self, fake: FakeKubeApi, clock: ManualClock, identity: str) -> None:
        self.api = CoordinationV1Api(
            config.new_client_from_config(config_file=fake.kubeconfig_path, context=CONTEXT)
        )
        self.events: list[tuple[str, float]] = []
        self.elector = LeaseElector(
            self.api, identity, NAMESPACE, lease_duration=LEASE_S, renew_deadline=DEADLINE_S, retry_period=RETRY_S,
            clock=clock,
            on_started_leading=lambda: self.events.append(("started", clock.monotonic())),
            on_stopped_leading=lambda: self.events.append(("stopped", clock.monotonic())),
        )  # fmt: skip

    def partition(self, closed: socket.socket) -> None:
        """Cut this pod off from the API server: its requests go to a port that refuses connections."""
        configuration = self.api.api_client.configuration
        configuration.refresh_api_key_hook = (
            None  # the kubeconfig loader's hook puts the host back on each call
        )
        configuration.host = f"http://127.0.0.1:{closed.getsockname()[1]}"


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def fake(clock: ManualClock) -> Iterator[FakeKubeApi]:
    with FakeKubeApi("healthy", clock=clock) as served:
        yield served


@pytest.fixture
def closed_port() -> Iterator[socket.socket]:
    """A port that refuses connections: bound, never listening, so no other program can take it meanwhile."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        yield held


@pytest.fixture
def pods(fake: FakeKubeApi, clock: ManualClock) -> tuple[Replica, Replica]:
    return Replica(fake, clock, "chatops-7f9c-a"), Replica(fake, clock, "chatops-7f9c-b")


def lease(fake: FakeKubeApi) -> dict[str, Any]:
    return fake.get("Lease", "chatops-leader")["spec"]  # type: ignore[no-any-return]


def tick(clock: ManualClock, *replicas: Replica) -> list[bool]:
    """One second passes; each replica that is still running takes its round."""
    clock.advance(1)
    return [r.elector.step() for r in replicas]


def test_one_of_two_replicas_leads_and_keeps_renewing(
    fake: FakeKubeApi, clock: ManualClock, pods: tuple[Replica, Replica]
) -> None:
    a, b = pods
    assert [a.elector.step(), b.elector.step()] == [True, False]
    assert lease(fake) == {
        "holderIdentity": "chatops-7f9c-a", "leaseDurationSeconds": 15, "acquireTime": micro(0),
        "renewTime": micro(0), "leaseTransitions": 0,
    }  # fmt: skip
    for _ in range(30):
        assert tick(clock, a, b) == [True, False]
    assert (lease(fake)["acquireTime"], lease(fake)["renewTime"]) == (micro(0), micro(30))
    assert a.elector.holder == b.elector.holder == "chatops-7f9c-a"
    assert a.events == [("started", 0)] and b.events == []


def test_replicas_starting_together_elect_exactly_one(fake: FakeKubeApi, clock: ManualClock) -> None:
    replicas = [Replica(fake, clock, f"chatops-7f9c-{n}") for n in range(5)]
    turns = iter(replicas)
    lock = threading.Lock()

    def step() -> tuple[str, bool]:
        with lock:
            replica = next(turns)
        return replica.elector.identity, replica.elector.step()

    leaders = [identity for identity, leads in all_at_once(5, step) if leads]
    assert len(leaders) == 1 and lease(fake)["holderIdentity"] == leaders[0]


def test_when_the_leader_stops_renewing_the_other_takes_over_after_the_lease_duration_and_not_before(
    fake: FakeKubeApi, clock: ManualClock, pods: tuple[Replica, Replica]
) -> None:
    a, b = pods
    a.elector.step()  # then the pod hangs: no more rounds
    b.elector.step()
    for second in range(1, 15):
        assert tick(clock, b) == [False], f"taken over after {second} s, before the lease expired"
        assert a.elector.is_leader is (second < DEADLINE_S), (
            "a leader that cannot renew stops counting itself one"
        )
    assert tick(clock, b) == [True]
    assert b.events == [("started", 15)]
    assert lease(fake) | {"renewTime": None} == {
        "holderIdentity": "chatops-7f9c-b", "leaseDurationSeconds": 15, "acquireTime": micro(15),
        "renewTime": None, "leaseTransitions": 1,
    }  # fmt: skip


def test_a_leader_that_cannot_reach_the_api_stops_before_its_lease_expires(
    fake: FakeKubeApi, clock: ManualClock, pods: tuple[Replica, Replica], closed_port: socket.socket
) -> None:
    a, b = pods
    a.elector.step(), b.elector.step()
    for _ in range(4):
        tick(clock, a, b)
    a.partition(closed_port)  # after its renewal at 4 s
    timeline = [(clock.monotonic(), *tick(clock, a, b)) for _ in range(20)]
    assert not any(a_leads and b_leads for _, a_leads, b_leads in timeline), "two leaders at once"
    assert a.events == [("started", 0), ("stopped", 4 + DEADLINE_S)]
    assert b.events == [("started", 4 + LEASE_S)], (
        "the successor waits out the lease the partitioned leader held"
    )
    assert lease(fake)["holderIdentity"] == "chatops-7f9c-b"


def test_a_renewal_conflict_makes_the_leader_stop_at_once(
    fake: FakeKubeApi, clock: ManualClock, pods: tuple[Replica, Replica]
) -> None:
    a, _ = pods
    a.elector.step()
    clock.advance(1)
    # Someone else writes the lease between two renewals (here an operator handing it to another pod by hand).
    a.api.patch_namespaced_lease("chatops-leader", NAMESPACE, {"spec": {"holderIdentity": "chatops-7f9c-c"}})
    assert a.elector.step() is False
    assert a.events == [("started", 0), ("stopped", 1)], "stopped in that round, not after the renew deadline"
    assert tick(clock, a) == [False]
    assert a.elector.holder == lease(fake)["holderIdentity"] == "chatops-7f9c-c"


def test_a_leader_whose_lease_is_deleted_stops_then_leads_a_new_one(
    fake: FakeKubeApi, clock: ManualClock, pods: tuple[Replica, Replica]
) -> None:
    a, _ = pods
    a.elector.step()
    a.api.delete_namespaced_lease("chatops-leader", NAMESPACE)
    assert tick(clock, a) == [False]
    assert tick(clock, a) == [True]
    assert a.events == [("started", 0), ("stopped", 1), ("started", 2)]
    assert (lease(fake)["acquireTime"], lease(fake)["leaseTransitions"]) == (micro(2), 0)


def test_failovers_count_in_lease_transitions_and_a_stopping_leader_hands_over_at_once(
    fake: FakeKubeApi, clock: ManualClock, pods: tuple[Replica, Replica]
) -> None:
    a, b = pods
    a.elector.step(), b.elector.step()
    for _ in range(15):  # a's pod dies; b takes over once the lease expires
        tick(clock, b)
    assert (lease(fake)["holderIdentity"], lease(fake)["leaseTransitions"]) == ("chatops-7f9c-b", 1)
    c = Replica(fake, clock, "chatops-7f9c-c")  # a's replacement
    assert c.elector.step() is False
    b.elector.stop()  # a rolling update stops b: it releases the lease
    assert b.events == [("started", 15), ("stopped", 15)]
    assert "holderIdentity" not in lease(fake) and b.elector.holder is None
    assert c.elector.step() is True, "the lease was handed back: no need to wait for it to expire"
    assert lease(fake) | {"renewTime": None} == {
        "holderIdentity": "chatops-7f9c-c", "leaseDurationSeconds": 15, "acquireTime": micro(15),
        "renewTime": None, "leaseTransitions": 2,
    }  # fmt: skip


def test_without_access_to_leases_nobody_leads(fake: FakeKubeApi, pods: tuple[Replica, Replica]) -> None:
    fake.fail(403, "leases")
    assert [r.elector.step() for r in pods] == [False, False]
    assert pods[0].elector.holder is None


def test_the_elector_runs_on_its_own_thread_until_stopped(fake: FakeKubeApi, clock: ManualClock) -> None:
    leading, stopped = threading.Event(), threading.Event()
    api = CoordinationV1Api(config.new_client_from_config(config_file=fake.kubeconfig_path, context=CONTEXT))
    elector = LeaseElector(api, "chatops-7f9c-a", NAMESPACE, clock=clock,
                           on_started_leading=leading.set, on_stopped_leading=stopped.set)  # fmt: skip
    elector.start()
    assert leading.wait(30), "the first round runs as the thread starts"
    assert elector.is_leader and not stopped.is_set()
    elector.stop()
    assert stopped.is_set() and not elector.is_leader
    assert "holderIdentity" not in lease(fake)


def test_timings_that_would_let_two_replicas_lead_are_refused(fake: FakeKubeApi) -> None:
    api: Any = None
    with pytest.raises(ValueError, match="lease_duration > renew_deadline > retry_period"):
        LeaseElector(api, "chatops-7f9c-a", NAMESPACE, lease_duration=10, renew_deadline=10)
    with pytest.raises(ValueError, match="identity"):
        LeaseElector(api, "", NAMESPACE)


def test_a_single_replica_always_leads_without_a_cluster() -> None:
    seen: list[str] = []
    leader = AlwaysLeader("chatops-0", lambda: seen.append("started"), lambda: seen.append("stopped"))
    assert leader.start() is leader and leader.is_leader and leader.step()
    assert leader.holder == "chatops-0"
    leader.stop()
    assert seen == ["started", "stopped"]


def test_every_time_the_bot_writes_has_the_six_decimals_the_api_server_parses(
    fake: FakeKubeApi, clock: ManualClock, pods: tuple[Replica, Replica]
) -> None:
    a, _ = pods
    a.elector.step()
    clock.advance(1)
    a.elector.step()
    a.elector.stop()
    sent = [r.body["spec"] for r in fake.writes()]
    assert len(sent) == 3  # created, renewed, released
    times = [spec[field] for spec in sent for field in ("acquireTime", "renewTime")]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}(Z|\+00:00)", t) for t in times), times
    read: V1Lease = a.api.read_namespaced_lease("chatops-leader", NAMESPACE)
    assert read.spec is not None and read.spec.renew_time == START + timedelta(seconds=1, microseconds=1)
