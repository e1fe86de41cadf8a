"""Two `chatops serve` replicas on one PostgreSQL, as the postgres overlay runs them: real processes behind no
load balancer but the test, which spreads Slack's signed requests over both. The Slack Web API, the cluster
(which also serves the Lease) and PagerDuty are the stand-ins, on 127.0.0.1.

A burst of commands, Slack's retries and double clicks landing on both replicas at once open each incident
once, page each tier once and run an approved fix once; the replicas agree on one leader and say so at /readyz
and /metrics; and when the leader is killed (SIGKILL, its workers too, as a pod dies) in the middle of an
incident's escalation ladder, the other takes the Lease over within its duration and every step still fires
exactly once. The Lease's timings are seconds here (the environment sets them), and every wait polls for what
it waits for, bounded.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
from postgres_server import PostgresServer
from processes import TEST_WORKER_NICE
from slack_workspace import OOM_REPORT, button, shown

from bot.incidents import Incident, RequestState, TimelineKind
from bot.store import SqlStore, open_store
from handlers.shell import payloads
from sandbox import FakeKubeApi
from sandbox.pagerduty import FakePagerDuty
from sandbox.serving import free_port
from sandbox.slack_api import CHANNEL_ID, TOKEN, FakeSlackApi
from sandbox.slack_render import BOT_USER_ID, Button, Message

T = TypeVar("T")

LEASE_S, RENEW_DEADLINE_S, RETRY_S, RECONCILE_S = 3, 2.0, 0.25, 0.25
NAMESPACE = "chatops"
ALERTMANAGER_TOKEN = "replicas-alertmanager-token"
ROLLBACK = "Roll back the recent deployment (breaking change)"
# One routing key per tier, so PagerDuty's deliveries say which tier was paged.
KEYS = {
    "oncall": ("PD_KEY_ONCALL", "oncall0000000000000000000000000a"),
    "team_lead": ("PD_KEY_LEAD", "teamlead00000000000000000000000b"),
    "engineering_manager": ("PD_KEY_EM", "engmanager000000000000000000000c"),
    "vp_engineering": ("PD_KEY_VP", "vpengineering000000000000000000d"),
}
TIERS = list(KEYS)
# SEV-2 climbs a ladder of seconds (the kill test's), paging each tier (the guides page on-call for SEV-1
# only, so the steps say so); other SEVs keep the guides' 15 min .. 24 h.
CONFIG = f"""
services:
  api-gateway:
    guide: ai-platform
    team: platform
    kubernetes: {{context: fake, namespace: arch-separation, deployment: api-gateway, certificate: api-gateway-tls}}
teams:
  platform:
    oncall: {{slack: S0ONCALL, pagerduty_routing_key_env: {KEYS["oncall"][0]}}}
    team_lead: {{slack: U0LEAD0001, pagerduty_routing_key_env: {KEYS["team_lead"][0]}}}
    engineering_manager: {{slack: U0EM000001, pagerduty_routing_key_env: {KEYS["engineering_manager"][0]}}}
    vp_engineering: {{slack: U0VP000001, pagerduty_routing_key_env: {KEYS["vp_engineering"][0]}}}
    approvers: [S0ONCALL]
policy:
  escalation_by_severity:
    SEV-2:
      - {{tier: oncall, after: 1s, when: not_acknowledged, page: true}}
      - {{tier: team_lead, after: 4s, page: true}}
      - {{tier: engineering_manager, after: 5s, page: true}}
      - {{tier: vp_engineering, after: 6s, page: true}}
"""


def escalating(thread: list[Message]) -> list[str]:
    return [m.text for m in thread if m.text.startswith(":arrow_double_up: Escalating")]


def eventually(check: Callable[[], T], what: str, timeout: float = 30.0, every: float = 0.05) -> T:
    """`check()` once it is truthy; fails saying `what` was awaited when it is not within `timeout`."""
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(every)


@dataclass
class Replica:
    """One pod: `chatops serve` (and its worker processes, one process group) with its own name and port."""

    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def readiness(self) -> dict[str, Any]:
        try:
            answer = httpx.get(f"{self.url}/readyz", timeout=2)
        except httpx.TransportError:
            return {}
        return dict(answer.json()) if answer.status_code == 200 else {}

    def metrics(self) -> str:
        return httpx.get(f"{self.url}/metrics", timeout=5).text

    def post(self, body: str, retry: int | None = None) -> httpx.Response:
        """A request from Slack, signed as Slack signs it (`retry`: its redelivery, X-Slack-Retry-Num)."""
        request = payloads.signed(body, retry=retry)
        headers = {k: v[0] for k, v in request.headers.items()}
        return httpx.post(f"{self.url}/slack/events", content=body, headers=headers, timeout=10)

    def alert(self, body: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {ALERTMANAGER_TOKEN}", "Content-Type": "application/json"}
        return httpx.post(f"{self.url}/alertmanager", content=body, headers=headers, timeout=10)

    def kill(self) -> None:
        """SIGKILL to the whole pod: nothing is released, handed back or finished."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()  # SIGTERM to the main process, as the kubelet sends it
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=20)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # whatever of the group is left
        self.process.wait(timeout=10)


@dataclass
class Replicas:
    """The replicas and what they talk to: one database, the Slack stand-in, the cluster, PagerDuty."""

    folder: Path
    store_url: str
    store: SqlStore
    slack: FakeSlackApi
    cluster: FakeKubeApi
    pagerduty: FakePagerDuty
    running: list[Replica] = field(default_factory=list)

    def start(self, *names: str) -> list[Replica]:
        """Start pods together (as a Deployment does) and return once each answers /readyz."""
        started = [self._spawn(name) for name in names]
        for replica in started:
            eventually(lambda r=replica: r.readiness().get("workers") == "up" or r.process.poll() is not None,
                       f"{replica.name} to be ready", timeout=60)  # fmt: skip
            assert replica.process.poll() is None, (
                f"{replica.name} exited:\n{replica.log.read_text()[-3000:]}"
            )
        self.running += started
        return started

    def _spawn(self, name: str) -> Replica:
        config = self.folder / "chatops.yaml"
        config.write_text(CONFIG)
        port = free_port()
        env = {
            **os.environ,
            "SLACK_BOT_TOKEN": TOKEN, "SLACK_SIGNING_SECRET": payloads.SIGNING_SECRET,
            "SLACK_API_URL": self.slack.api_url, "KUBECONFIG": self.cluster.kubeconfig_path,
            "CHATOPS_STORE_URL": self.store_url, "CHATOPS_PAGERDUTY_EVENTS_URL": self.pagerduty.events_url,
            "CHATOPS_ALERTMANAGER_TOKEN": ALERTMANAGER_TOKEN,
            "POD_NAME": name, "POD_NAMESPACE": NAMESPACE,
            "CHATOPS_LEASE_DURATION": str(LEASE_S), "CHATOPS_LEASE_RENEW_DEADLINE": str(RENEW_DEADLINE_S),
            "CHATOPS_LEASE_RETRY_PERIOD": str(RETRY_S), "CHATOPS_RECONCILE_INTERVAL": str(RECONCILE_S),
            **{env_name: key for env_name, key in KEYS.values()},
        }  # fmt: skip
        log = self.folder / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                [str(Path(sys.executable).parent / "chatops"), "--config", str(config), "serve",
                 "--host", "127.0.0.1", "--port", str(port), "--workers", "1", "--threads", "16",
                 "--worker-nice", str(TEST_WORKER_NICE)],
                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        return Replica(name, f"http://127.0.0.1:{port}", process, log)

    def alive(self) -> list[Replica]:
        return [r for r in self.running if r.process.poll() is None]

    def leader(self, timeout: float = 30.0) -> tuple[Replica, list[Replica]]:
        """The one replica that leads and those that follow, once they all agree who it is."""

        def agreed() -> tuple[Replica, list[Replica]] | None:
            replicas = self.alive()
            seen = [r.readiness() for r in replicas]
            leading = [r for r, s in zip(replicas, seen, strict=True) if s.get("leading")]
            if len(leading) != 1 or any(s.get("leader") != leading[0].name for s in seen):
                return None
            return leading[0], [r for r in replicas if r is not leading[0]]

        return eventually(agreed, "the replicas to agree on one leader", timeout)

    def stop_all(self) -> None:
        for replica in self.running:
            replica.stop()

    # -- what the test reads ----------------------------------------------------------------------

    def incidents(self, symptom_part: str) -> list[Incident]:
        return [i for i in self.store.list_all(limit=1000) if symptom_part in i.symptom]

    def thread(self, incident: Incident) -> list[Message]:
        assert incident.thread_ts is not None
        return self.slack.thread(CHANNEL_ID, incident.thread_ts)

    def triggers(self, incident: Incident) -> dict[str, int]:
        """PagerDuty triggers sent for the incident (each answered or not), by tier."""
        tiers = {key: tier for tier, (_, key) in KEYS.items()}
        counts: dict[str, int] = {}
        for received in self.pagerduty.received("trigger"):
            if (received.body or {}).get("dedup_key") == incident.id:
                tier = tiers[str(received.routing_key)]
                counts[tier] = counts.get(tier, 0) + 1
        return counts


@pytest.fixture(scope="module")
def replicas(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replicas]:
    store_url = postgres.database()
    folder = tmp_path_factory.mktemp("replicas")
    routing_keys = [key for _, key in KEYS.values()]
    with (
        FakeSlackApi() as slack,
        FakeKubeApi("crashloop-oom") as cluster,
        FakePagerDuty(routing_keys=routing_keys) as pagerduty,
    ):
        world = Replicas(folder, store_url, open_store(store_url), slack, cluster, pagerduty)
        try:
            world.start("chatops-a", "chatops-b")
            yield world
        finally:
            world.stop_all()
            world.store.close()


def on_both(
    replicas: list[Replica], sends: list[Callable[[Replica], httpx.Response]]
) -> list[httpx.Response]:
    """Each send at once, the n-th to replica n % 2: Slack's requests as a Service spreads them."""
    with ThreadPoolExecutor(len(sends)) as pool:
        futures = [pool.submit(send, replicas[n % len(replicas)]) for n, send in enumerate(sends)]
        return [f.result() for f in futures]


def click(
    slack: FakeSlackApi, target: Button, user: str, ephemeral: bool = False
) -> Callable[[Replica], httpx.Response]:
    """A click on a button as Slack sends it (a message's button comes with the message, an ephemeral's not)."""
    channel, ts = target.channel or CHANNEL_ID, target.message_ts or ""
    message = None if ephemeral else slack.message(channel, ts).to_api()
    body = payloads.block_action(user, channel, ts, target.action_id, target.value, target.block_id or "",
                                 target.text, message, ephemeral=ephemeral, trigger_id=slack.trigger_id(user),
                                 response_url=slack.response_url(user, channel, ts))  # fmt: skip
    return lambda replica: replica.post(body)


def command(slack: FakeSlackApi, text: str, user: str = "U0ALICE") -> Callable[[Replica], httpx.Response]:
    body = payloads.slash_command(text, user_id=user, trigger_id=slack.trigger_id(user),
                                  response_url=slack.response_url(user, CHANNEL_ID, None))  # fmt: skip
    return lambda replica: replica.post(body)


def alert_body(name: str, severity: str, fingerprint: str) -> str:
    """Alertmanager's webhook (version 4) for one firing alert about api-gateway."""
    labels = {
        "alertname": name,
        "service": "api-gateway",
        "severity": severity,
        "namespace": "arch-separation",
    }
    annotations = {"summary": f"{name}: api-gateway pods keep restarting, OOMKilled"}
    starts = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    alert = {"status": "firing", "labels": labels, "annotations": annotations, "startsAt": starts,
             "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "http://prometheus.example.com/graph",
             "fingerprint": fingerprint}  # fmt: skip
    return json.dumps({
        "version": "4", "groupKey": f'{{}}:{{alertname="{name}"}}', "truncatedAlerts": 0, "status": "firing",
        "receiver": "chatops", "groupLabels": {"alertname": name}, "commonLabels": labels,
        "commonAnnotations": annotations, "externalURL": "http://alertmanager.example.com:9093", "alerts": [alert],
    })  # fmt: skip


def verdict_of(replicas: Replicas, incident: Incident) -> Message:
    """The verdict in the incident's thread, once its checks are done."""
    return eventually(lambda: next((m for m in replicas.thread(incident) if "*Verdict:*" in shown(m)), None),
                      f"{incident.id}'s verdict", timeout=60)  # fmt: skip


def opened(replicas: Replicas, symptom_part: str) -> Incident:
    """The one incident for the symptom, once its root message is posted."""
    return eventually(lambda: next((i for i in replicas.incidents(symptom_part) if i.thread_ts), None),
                      f"the incident for {symptom_part!r}")  # fmt: skip


# -- who leads --------------------------------------------------------------------------------------


def test_one_replica_leads_and_both_say_who_at_readyz_and_metrics(replicas: Replicas) -> None:
    leader, followers = replicas.leader()
    (follower,) = followers
    ready = leader.readiness()
    assert ready == {"status": "ready", "problems": [], "workers": "up", "replica": leader.name, "leading": True,
                     "leader": leader.name, "lease": f"{NAMESPACE}/chatops-leader"}  # fmt: skip
    assert follower.readiness()["leading"] is False, "a follower still serves Slack: it is ready"
    assert f'chatops_leader{{replica="{leader.name}"}} 1.0' in leader.metrics()
    assert f'chatops_leader{{replica="{follower.name}"}} 0.0' in follower.metrics()
    lease = replicas.cluster.get("Lease", "chatops-leader")
    assert (lease["metadata"]["namespace"], lease["spec"]["holderIdentity"]) == (NAMESPACE, leader.name)
    assert lease["spec"]["leaseDurationSeconds"] == LEASE_S


# -- a burst over both replicas ---------------------------------------------------------------------


def test_a_burst_with_retries_and_double_clicks_over_both_replicas_does_everything_once(
    replicas: Replicas,
) -> None:
    slack, both = replicas.slack, replicas.alive()
    assert len(both) == 2
    roots_before = len(slack.messages(CHANNEL_ID, top_level=True))
    symptoms = [f"{OOM_REPORT} (burst #{n})" for n in range(8)]
    guess = "pods keep restarting, OOMKilled (burst, no service named)"
    critical = alert_body("GatewayCrashLooping", "critical", "b0b5f00dcafe0001")
    sends = [command(slack, f"api-gateway {symptom}") for symptom in symptoms]
    sends += [command(slack, guess), lambda r: r.alert(critical), lambda r: r.alert(critical)]
    answers = on_both(both, sends)
    assert [a.status_code for a in answers] == [200] * len(sends)
    assert all("Opening an incident for `api-gateway`" in a.text for a in answers[: len(symptoms)])

    incidents = [opened(replicas, symptom) for symptom in symptoms]
    from_alert = opened(replicas, "GatewayCrashLooping")
    assert [len(replicas.incidents(s)) for s in symptoms] == [1] * len(symptoms)
    assert len(replicas.incidents("GatewayCrashLooping")) == 1, "Alertmanager's two deliveries: one incident"

    # The service buttons offered for the command that named none, clicked on both replicas at once.
    offer = eventually(lambda: next((m for m in slack.ephemerals("U0ALICE") if m.blocks and "api-gateway" in shown(m)), None),
                       "the services offered")  # fmt: skip
    pick = button(offer, "Diagnose api-gateway")
    # SEV-1 (a button under the verdict) clicked on both replicas at once: by alice twice on one incident, by
    # alice and bob on another.
    sev1 = [button(verdict_of(replicas, incidents[n]), "SEV-1") for n in (0, 1)]
    # @chatops status in a thread, delivered by Slack three times under one event_id (two retries).
    asked = slack.say("U0ALICE", CHANNEL_ID, f"<@{BOT_USER_ID}> status", incidents[2].thread_ts)
    mention = payloads.event_callback({"type": "app_mention", "channel": CHANNEL_ID, "user": "U0ALICE",
                                       "text": asked.text, "ts": asked.ts, "thread_ts": incidents[2].thread_ts},
                                      event_id="EvREPLICAS00001")  # fmt: skip
    clicks = [click(slack, pick, "U0ALICE", ephemeral=True), click(slack, pick, "U0ALICE", ephemeral=True),
              click(slack, sev1[0], "U0ALICE"), click(slack, sev1[0], "U0ALICE"),
              click(slack, sev1[1], "U0ALICE"), click(slack, sev1[1], "U0BOB"),
              lambda r: r.post(mention), lambda r: r.post(mention, retry=1), lambda r: r.post(mention, retry=2)]  # fmt: skip
    assert [a.status_code for a in on_both(both, clicks)] == [200] * len(clicks)

    picked = opened(replicas, guess)
    for n in (0, 1):
        eventually(lambda n=n: replicas.triggers(incidents[n]), f"incident {n}'s page")
    eventually(lambda: replicas.triggers(from_alert), "the critical alert's page")
    eventually(lambda: any("`api-gateway`: " in m.text for m in replicas.thread(incidents[2])), "the status")

    # The fix: bob asks for the rollback on both replicas at once, alice approves on both at once, twice.
    fixing = incidents[3]
    rollback = button(verdict_of(replicas, fixing), ROLLBACK)
    on_both(both, [click(slack, rollback, "U0BOB"), click(slack, rollback, "U0BOB")])
    request = eventually(lambda: next((m for m in replicas.thread(fixing) if "Fix request 1" in m.text), None),
                         "the fix request")  # fmt: skip
    approve = button(request, "Approve")
    on_both(both, [click(slack, approve, "U0ALICE") for _ in range(4)])
    eventually(lambda: "Done and verified" in slack.render(CHANNEL_ID, request.ts), "the fix verified", 60)

    # Each once: incidents, their root messages, pages, the status answer, the fix request and its run.
    assert len(replicas.incidents(guess)) == 1, "a double click on the service button opens one incident"
    everything = [*incidents, from_alert, picked]
    assert len(slack.messages(CHANNEL_ID, top_level=True)) - roots_before == len(everything)
    assert [replicas.triggers(i) for i in everything] == [
        {"oncall": 1},
        {"oncall": 1},
        *[{}] * (len(symptoms) - 2),
        {"oncall": 1},
        {},
    ]
    for n in (0, 1):
        sevs = [e for e in replicas.store.timeline(incidents[n].id) if e.kind is TimelineKind.SEVERITY]
        assert len(sevs) == 1 and replicas.store.require(incidents[n].id).severity == "SEV-1"
    status = [m for m in replicas.thread(incidents[2]) if "`api-gateway`: " in m.text]
    assert len(status) == 1, "a retried event is handled once, whichever replica it reaches"
    (fix,) = replicas.store.requests_in(fixing.id)  # two clicks on the fix button asked for one fix
    assert (fix.state, fix.requested_by, fix.decided_by) == (RequestState.SUCCEEDED, "U0BOB", "U0ALICE")
    assert not any("Fix request 2" in m.text for m in replicas.thread(fixing))
    patches = [r for r in replicas.cluster.requests if r.method == "PATCH" and "dryRun" not in r.query]
    assert [r.path for r in patches] == ["/apis/apps/v1/namespaces/arch-separation/deployments/api-gateway"]
    assert [e.event for e in replicas.store.audit(fixing.id)] == ["requested", "executing", "succeeded"]


# -- the leader dies mid-ladder ---------------------------------------------------------------------


def test_when_the_leader_is_killed_mid_ladder_the_other_takes_over_and_every_step_fires_once(
    replicas: Replicas,
) -> None:
    leader, (survivor,) = replicas.leader()
    # The alert reaches the follower: the leader is busy with nothing but the ladder when it dies.
    assert survivor.alert(alert_body("GatewayErrors", "error", "b0b5f00dcafe0002")).status_code == 200
    incident = opened(replicas, "GatewayErrors")
    eventually(
        lambda: replicas.store.require(incident.id).severity == "SEV-2", "the SEV from the alert's label"
    )

    def rungs() -> dict[str, tuple[str, datetime | None]]:
        return {r.tier: (r.state, r.fired_at) for r in replicas.store.escalations_of(incident.id)}

    eventually(lambda: replicas.triggers(incident) == {"oncall": 1}, "the first step's page")
    # Killed between steps: the first has fired, said so and its page is delivered. (A sender killed mid-send
    # holds its page for a lease the store tests cover; here the kill must not race the first step.)
    eventually(
        lambda: rungs()["oncall"][0] == "fired" and escalating(replicas.thread(incident)), "the first step"
    )
    eventually(
        lambda: all(m.state == "delivered" for m in replicas.store.outbox_of(incident.id)), "the page sent"
    )
    waiting = [tier for tier, (state, _) in rungs().items() if state == "waiting"]
    assert len(waiting) >= 2, f"mid-ladder: steps are still to come ({rungs()})"

    leader.kill()
    killed = time.monotonic()
    killed_at = datetime.now(UTC)
    eventually(lambda: survivor.readiness().get("leading"), "the survivor to lead", timeout=LEASE_S + 10)
    took_over = time.monotonic() - killed
    assert took_over <= LEASE_S + 2 * RETRY_S + 1.5, f"took {took_over:.1f} s to take over"
    assert survivor.readiness()["leader"] == survivor.name
    assert f'chatops_leader{{replica="{survivor.name}"}} 1.0' in survivor.metrics()

    eventually(lambda: all(state == "fired" for state, _ in rungs().values()), "every step to fire", 30)
    eventually(lambda: len(replicas.triggers(incident)) == len(TIERS), "every step's page")
    fired = rungs()
    assert sorted(fired) == sorted(TIERS)
    for tier in waiting:  # what was still to come when the leader died, the survivor did
        when = fired[tier][1]
        assert when is not None and when >= killed_at, (
            f"{tier} fired at {when}, before the kill at {killed_at}"
        )
    assert replicas.triggers(incident) == dict.fromkeys(TIERS, 1), "each step paged its tier once"
    escalated = [e for e in replicas.store.timeline(incident.id) if e.kind is TimelineKind.ESCALATED]
    assert sorted(e.data["tier"] for e in escalated) == sorted(TIERS)
    said = escalating(replicas.thread(incident))
    assert len(said) == len(TIERS), said

    # The pod is replaced, as its Deployment would: the newcomer follows the leader that took over.
    (newcomer,) = replicas.start("chatops-c")
    assert replicas.leader() == (survivor, [newcomer])
    assert replicas.cluster.get("Lease", "chatops-leader")["spec"]["leaseTransitions"] >= 1
