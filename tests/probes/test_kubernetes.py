"""The k8s.* probes against a local Kubernetes API server, through a real kubeconfig: what a person reads."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.config import Service
from bot.probes.base import Clients, ProbeContext, ProbeFailure, Skip
from bot.registry import PROBES
from bot.severity import Status
from sandbox.kube_api import CONTEXT, NAMESPACE, FakeKubeApi

GATEWAY = Service.model_validate(
    {
        "guide": "ai-platform",
        "team": "platform",
        "kubernetes": {
            "context": CONTEXT,
            "namespace": NAMESPACE,
            "deployment": "api-gateway",
            "configmap": "api-gateway-config",
            "ingress": "api-gateway",
            "certificate": "api-gateway-tls",
        },
    }
)
K8S_PROBES = [name for name in PROBES if name.startswith("k8s.")]
SCENARIOS = ["healthy", "crashloop-oom", "pending-memory", "no-endpoints", "expired-certificate"]


def run(
    kubeconfig: str,
    probe: str,
    params: dict[str, Any] | None = None,
    deadline_s: float = 30,  # generous: these tests are about what is read, not about time
    svc: Service = GATEWAY,
) -> tuple[Status, str, str]:
    """Run one probe as the runner does: Skip -> skipped, ProbeFailure -> error with its reason."""
    spec = PROBES[probe]
    ctx = ProbeContext("api-gateway", svc, Clients(kubeconfig=kubeconfig), time.monotonic() + deadline_s)
    try:
        result = spec.run(ctx, spec.params.model_validate(params or {}))
    except Skip as skip:
        return Status.SKIPPED, str(skip), ""
    except ProbeFailure as failure:
        return Status.ERROR, str(failure), ""
    return result.status, result.summary, result.evidence


@pytest.fixture
def cluster(request: pytest.FixtureRequest) -> Iterator[FakeKubeApi]:
    """The fake API server for the scenario named by `@pytest.mark.parametrize("cluster", [...], indirect=True)`."""
    with FakeKubeApi(getattr(request, "param", "healthy")) as fake:
        yield fake
    assert all(r.method == "GET" for r in fake.requests), fake.requests


def day(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M UTC")


# --- healthy ---


HEALTHY = [
    ("k8s.pods", Status.OK, "3/3 pods ready; 0 restarts"),
    (
        "k8s.logs",
        Status.OK,
        "no ERROR, FATAL, Traceback, panic:, Exception in the logs of 3 pods, last 60 min",
    ),
    ("k8s.events", Status.OK, "no Warning events for api-gateway* in the last 60 min"),
    (
        "k8s.rollout",
        Status.OK,
        "3/3 available; revision 7 rolled out 6 d ago: ghcr.io/acme/api-gateway 1.8.1 -> 1.8.2 "
        "(release 1.8.2: connection pool tuning)",
    ),
    (
        "k8s.resource_usage",
        Status.OK,
        "memory 41% of limit on api-gateway-5f7b8c9d4-t5r8w (210Mi of 512Mi); "
        "CPU 30% of limit on api-gateway-5f7b8c9d4-t5r8w (302m of 1000m)",
    ),
    ("k8s.hpa", Status.OK, "3 replicas (min 3, max 10, desired 3); cpu 31% (target 70%)"),
    ("k8s.endpoints", Status.OK, "3 ready endpoints behind service api-gateway"),
    (
        "k8s.network_policies",
        Status.OK,
        "2 NetworkPolicies select the pods: default-deny-ingress (deny-all ingress), "
        "allow-gateway-from-ingress-nginx (allows ingress)",
    ),
    (
        "k8s.ingress",
        Status.OK,
        "api.your-domain.com/ -> api-gateway:80 at 34.120.18.7; "
        "TLS api-gateway-tls: Certificate api-gateway-tls Ready, expires in 60 d",
    ),
    (
        "k8s.nodes",
        Status.OK,
        "3/3 nodes Ready; no MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable",
    ),
    ("k8s.configmap", Status.OK, "configmap api-gateway-config has 5 keys"),
    (
        "k8s.certificate",
        Status.OK,
        "certificate api-gateway-tls is Ready; expires in 60 d (notAfter {in_60_days})",
    ),
]


@pytest.mark.parametrize(("probe", "status", "summary"), HEALTHY, ids=[h[0] for h in HEALTHY])
def test_healthy_cluster(cluster: FakeKubeApi, probe: str, status: Status, summary: str) -> None:
    in_60_days = day(cluster.now + timedelta(days=60))
    assert run(cluster.kubeconfig_path, probe)[:2] == (status, summary.format(in_60_days=in_60_days))


def test_certificate_close_to_expiry_warns(cluster: FakeKubeApi) -> None:
    status, summary, _ = run(cluster.kubeconfig_path, "k8s.certificate", {"warn_days": 90})
    assert status == Status.WARN and "expires in 60 d" in summary


def test_pods_and_logs_read_what_kubectl_would(cluster: FakeKubeApi) -> None:
    run(cluster.kubeconfig_path, "k8s.logs")
    pods, *logs = cluster.requests
    assert (pods.path, pods.query["labelSelector"]) == (
        f"/api/v1/namespaces/{NAMESPACE}/pods",
        "app=api-gateway",
    )
    assert sorted(r.path.split("/")[-2] for r in logs) == [
        f"api-gateway-5f7b8c9d4-{s}" for s in ("k2x7p", "m9q4z", "t5r8w")
    ], "every pod's log, read at once"
    expected = {"container": "api-gateway", "previous": "false", "sinceSeconds": "3600", "tailLines": "200"}
    assert logs[0].query == {**expected, "limitBytes": "524288"}


def test_missing_required_configmap_key_is_critical_and_values_are_never_shown(cluster: FakeKubeApi) -> None:
    status, summary, evidence = run(
        cluster.kubeconfig_path, "k8s.configmap", {"required_keys": ["LOG_LEVEL", "JWT_ISSUER"]}
    )
    assert (status, summary) == (
        Status.CRITICAL,
        "configmap api-gateway-config lacks required JWT_ISSUER (5 keys present)",
    )
    assert "LOG_LEVEL" in evidence and "model-router" not in evidence and "30000" not in evidence


def test_policy_that_denies_all_ingress_with_nothing_allowing_is_critical(cluster: FakeKubeApi) -> None:
    cluster.objects.remove(cluster.get("NetworkPolicy", "allow-gateway-from-ingress-nginx"))
    status, summary, evidence = run(cluster.kubeconfig_path, "k8s.network_policies")
    assert (status, summary) == (
        Status.CRITICAL,
        "all ingress is denied by default-deny-ingress and no policy allows any",
    )
    assert "default-deny-ingress (podSelector all, types Ingress)\n  deny all ingress" in evidence


def test_hpa_pinned_at_max_warns(cluster: FakeKubeApi) -> None:
    hpa = cluster.get("HorizontalPodAutoscaler", "api-gateway")
    hpa["status"].update(currentReplicas=10, desiredReplicas=10)
    hpa["status"]["currentMetrics"][0]["resource"]["current"]["averageUtilization"] = 180
    assert run(cluster.kubeconfig_path, "k8s.hpa")[:2] == (
        Status.WARN,
        "pinned at max 10 replicas; cpu 180% (target 70%)",
    )


def test_rollout_past_its_progress_deadline_is_critical(cluster: FakeKubeApi) -> None:
    progressing = cluster.get("Deployment", "api-gateway")["status"]["conditions"][1]
    message = 'ReplicaSet "api-gateway-5f7b8c9d4" has timed out progressing.'
    progressing.update(status="False", reason="ProgressDeadlineExceeded", message=message)
    status, summary, _ = run(cluster.kubeconfig_path, "k8s.rollout")
    assert status == Status.CRITICAL
    assert summary.startswith(
        f"3/3 available; ProgressDeadlineExceeded: {message[:-1]}; revision 7 rolled out 6 d ago"
    )


def test_node_not_ready_is_critical(cluster: FakeKubeApi) -> None:
    ready = cluster.get("Node", "gke-ai-prod-pool-1-c3d4")["status"]["conditions"][3]
    ready.update(status="Unknown", reason="NodeStatusUnknown", message="Kubelet stopped posting node status.")
    status, summary, _ = run(cluster.kubeconfig_path, "k8s.nodes")
    assert (status, summary) == (
        Status.CRITICAL,
        "2/3 nodes Ready; gke-ai-prod-pool-1-c3d4 NotReady (NodeStatusUnknown: Kubelet stopped posting node status.)",
    )


# --- crashloop-oom: a bad deploy ---


@pytest.mark.parametrize("cluster", ["crashloop-oom"], indirect=True)
def test_crashloop_pods_name_the_oom_kill(cluster: FakeKubeApi) -> None:
    status, summary, evidence = run(cluster.kubeconfig_path, "k8s.pods")
    at = f"{cluster.now - timedelta(minutes=2):%H:%M} UTC"
    assert status == Status.CRITICAL
    assert summary == f"0/3 pods ready: 3 CrashLoopBackOff; last exit OOMKilled (137) at {at}"
    assert (
        "api-gateway-7d9f6b8c5-def34  0/1    CrashLoopBackOff  6         OOMKilled (137) 2 min ago"
        in evidence
    )


@pytest.mark.parametrize("cluster", ["crashloop-oom"], indirect=True)
def test_crashloop_rollout_names_the_new_revision_and_image(cluster: FakeKubeApi) -> None:
    status, summary, evidence = run(cluster.kubeconfig_path, "k8s.rollout")
    assert (status, summary) == (
        Status.CRITICAL,
        "0/3 available (MinimumReplicasUnavailable); revision 8 rolled out 14 min ago: "
        "ghcr.io/acme/api-gateway 1.8.2 -> 1.9.0 (release 1.9.0: streaming responses for /v1/chat)",
    )
    assert "8         14 min ago  ghcr.io/acme/api-gateway:1.9.0  0/3    release 1.9.0" in evidence


@pytest.mark.parametrize("cluster", ["crashloop-oom"], indirect=True)
def test_crashloop_logs_come_from_the_previous_containers(cluster: FakeKubeApi) -> None:
    params = {"patterns": ["MemoryError", r"^Killed$"], "critical_count": 6}
    status, summary, evidence = run(cluster.kubeconfig_path, "k8s.logs", params)
    assert (status, summary) == (
        Status.CRITICAL,
        "9 matching lines in the previous containers of 3 pods, last 60 min: MemoryError x6, ^Killed$ x3; "
        "exception: MemoryError",
    )
    assert "== api-gateway-7d9f6b8c5-abc12 (previous container, 13 lines) ==" in evidence
    assert all(r.query["previous"] == "true" for r in cluster.requests if r.path.endswith("/log"))
    status, summary, _ = run(cluster.kubeconfig_path, "k8s.logs")  # the default patterns
    assert status == Status.WARN
    assert summary.startswith(
        "18 matching lines in the previous containers of 3 pods, last 60 min: ERROR x12, "
    )


@pytest.mark.parametrize("cluster", ["crashloop-oom"], indirect=True)
def test_crashloop_events_are_deduplicated_newest_first(cluster: FakeKubeApi) -> None:
    status, summary, evidence = run(cluster.kubeconfig_path, "k8s.events")
    assert status == Status.CRITICAL
    assert summary.startswith(
        "BackOff x42 on 3 pods, OOMKilling x11 on 2 pods in the last 60 min; newest 1 min ago: "
        "Back-off restarting failed container api-gateway in pod api-gateway-7d9f6b8c5-def34"
    )
    assert evidence.splitlines()[1].startswith("1 min ago  BackOff     Pod/api-gateway-7d9f6b8c5-def34  17")
    assert cluster.requests[0].query["fieldSelector"] == "type=Warning"


@pytest.mark.parametrize("cluster", ["crashloop-oom"], indirect=True)
def test_crashloop_memory_near_the_limit(cluster: FakeKubeApi) -> None:
    status, summary, _ = run(cluster.kubeconfig_path, "k8s.resource_usage")
    assert (
        status,
        summary,
    ) == (  # CPU at 41% is no evidence of anything: the evidence has it, not the summary
        Status.CRITICAL,
        "memory 97% of limit on api-gateway-7d9f6b8c5-abc12 (497Mi of 512Mi) (no metrics for 1 pod)",
    )


# --- pending-memory, no-endpoints, expired-certificate ---


@pytest.mark.parametrize("cluster", ["pending-memory"], indirect=True)
def test_pending_pods_give_the_scheduler_reason(cluster: FakeKubeApi) -> None:
    assert run(cluster.kubeconfig_path, "k8s.pods")[:2] == (
        Status.CRITICAL,
        "0/3 pods ready: 3 Pending (Unschedulable: 0/3 nodes are available: 3 Insufficient memory.)",
    )
    status, summary, _ = run(cluster.kubeconfig_path, "k8s.events")
    assert status == Status.CRITICAL
    assert summary.startswith(
        "FailedScheduling x27 on 3 pods in the last 60 min; newest 1 min ago: 0/3 nodes are available: 3 Insufficient memory."
    )
    assert run(cluster.kubeconfig_path, "k8s.logs")[:2] == (
        Status.SKIPPED,
        "no logs yet: none of the 3 pods has started a container",
    )
    assert run(cluster.kubeconfig_path, "k8s.rollout")[1] == (
        "0/3 available (MinimumReplicasUnavailable); revision 8 rolled out 9 min ago, same image "
        "(raise memory to 6Gi for the larger routing model)"
    )


@pytest.mark.parametrize("cluster", ["no-endpoints"], indirect=True)
def test_service_without_ready_endpoints_means_nothing_is_serving(cluster: FakeKubeApi) -> None:
    status, summary, evidence = run(cluster.kubeconfig_path, "k8s.endpoints")
    assert (status, summary) == (
        Status.CRITICAL,
        "nothing is serving api-gateway: 0 of 3 endpoints ready (not ready: api-gateway-5f7b8c9d4-k2x7p, "
        "api-gateway-5f7b8c9d4-m9q4z, api-gateway-5f7b8c9d4-t5r8w)",
    )
    assert "10.42.1.17  NOT ready  api-gateway-5f7b8c9d4-k2x7p" in evidence
    assert run(cluster.kubeconfig_path, "k8s.pods")[:2] == (
        Status.CRITICAL,
        "0/3 pods ready: 3 running but not ready",
    )
    status, summary, _ = run(cluster.kubeconfig_path, "k8s.events")
    assert status == Status.WARN and summary.startswith("Unhealthy x95 on 2 pods in the last 60 min; newest ")
    assert summary.endswith(": Readiness probe failed: HTTP probe failed with statuscode: 503")


@pytest.mark.parametrize("cluster", ["expired-certificate"], indirect=True)
def test_expired_certificate_is_critical_in_both_views(cluster: FakeKubeApi) -> None:
    expired = cluster.now - timedelta(days=2)
    status, summary, _ = run(cluster.kubeconfig_path, "k8s.certificate")
    assert (status, summary) == (
        Status.CRITICAL,
        f"certificate api-gateway-tls is not Ready (Expired: Certificate expired on {expired:%Y-%m-%dT%H:%M:%SZ}); "
        f"expired 2 d ago (notAfter {day(expired)})",
    )
    status, summary, _ = run(cluster.kubeconfig_path, "k8s.ingress")
    assert status == Status.CRITICAL
    assert summary.endswith("TLS api-gateway-tls: Certificate api-gateway-tls not Ready (Expired: Certificate expired on "f"{expired:%Y-%m-%dT%H:%M:%SZ}), expired 2 d ago")  # fmt: skip


# --- when the API server cannot be asked ---


@pytest.mark.parametrize("cluster", ["slow-apiserver"], indirect=True)
def test_slow_api_server_is_an_error_within_the_deadline(cluster: FakeKubeApi) -> None:
    status, summary, _ = run(cluster.kubeconfig_path, "k8s.pods", deadline_s=1)  # the fake answers after 3 s
    assert (status, summary) == (Status.ERROR, f"kube-apiserver at {cluster.url} timed out after 0.5 s")


def test_unreachable_api_server_is_an_error(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before the probe connects: nothing listens there
    with FakeKubeApi("healthy") as fake:
        config = fake.kubeconfig()
    config["clusters"][0]["cluster"]["server"] = f"http://127.0.0.1:{port}"
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(config))
    status, summary, _ = run(str(tmp_path / "kubeconfig"), "k8s.rollout")
    assert (status, summary) == (
        Status.ERROR,
        f"kube-apiserver at http://127.0.0.1:{port} refused the connection",
    )


def test_rejected_or_forbidden_requests_name_what_the_bot_may_not_do(
    cluster: FakeKubeApi, tmp_path: Path
) -> None:
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump(cluster.kubeconfig(token="revoked-token")))
    revoked = run(str(tmp_path / "kubeconfig"), "k8s.pods")
    assert revoked[:2] == (
        Status.ERROR,
        f"kube-apiserver at {cluster.url} rejected the bot's credentials (401 Unauthorized)",
    )
    cluster.fail(403, "pods")
    forbidden = "forbidden: the bot's ServiceAccount may not list pods in arch-separation"
    assert run(cluster.kubeconfig_path, "k8s.pods")[:2] == (Status.ERROR, forbidden)
    cluster.fail(403, "nodes")
    assert (
        run(cluster.kubeconfig_path, "k8s.nodes")[1]
        == "forbidden: the bot's ServiceAccount may not list nodes in the cluster"
    )


def test_missing_objects_and_apis_are_named(cluster: FakeKubeApi) -> None:
    assert run(cluster.kubeconfig_path, "k8s.rollout", {"deployment": "api-gateway-v2"})[:2] == (
        Status.ERROR,
        "deployment 'api-gateway-v2' not found in arch-separation",
    )
    cluster.missing_apis.add("metrics.k8s.io/v1beta1")
    assert run(cluster.kubeconfig_path, "k8s.resource_usage")[1] == (
        "the API server does not serve metrics.k8s.io (is metrics-server installed?)"
    )
    cluster.missing_apis.add("cert-manager.io/v1")  # the ingress still reports, without certificate status
    assert run(cluster.kubeconfig_path, "k8s.ingress")[1].endswith(
        "TLS api-gateway-tls: no cert-manager Certificate for it"
    )


def test_context_missing_from_the_kubeconfig_is_named(cluster: FakeKubeApi) -> None:
    k8s = GATEWAY.kubernetes.model_copy(update={"context": "ai-prod"})  # type: ignore[union-attr]
    status, summary, _ = run(
        cluster.kubeconfig_path, "k8s.pods", svc=GATEWAY.model_copy(update={"kubernetes": k8s})
    )
    assert status == Status.ERROR and summary.startswith("no usable Kubernetes config for context 'ai-prod'")
    assert cluster.requests == []


def test_service_without_kubernetes_settings_is_skipped(cluster: FakeKubeApi) -> None:
    plain = Service.model_validate(
        {"guide": "ai-platform", "team": "platform", "health_url": "https://x.example"}
    )
    for probe in K8S_PROBES:
        assert run(cluster.kubeconfig_path, probe, svc=plain)[:2] == (
            Status.SKIPPED,
            "the service has no kubernetes settings in chatops.yaml",
        )
    assert cluster.requests == []


# --- read-only ---


@pytest.mark.parametrize("cluster", [*SCENARIOS, "slow-apiserver"], indirect=True)
def test_every_probe_only_reads_and_never_touches_secrets(cluster: FakeKubeApi) -> None:
    with ThreadPoolExecutor(len(K8S_PROBES)) as pool:  # all at once, as the runner runs them
        found = pool.map(lambda probe: run(cluster.kubeconfig_path, probe, deadline_s=2)[0], K8S_PROBES)
    errors = {probe for probe, status in zip(K8S_PROBES, found, strict=True) if status == Status.ERROR}
    assert errors == (set(K8S_PROBES) if cluster.scenario == "slow-apiserver" else set())
    assert cluster.requests and all(r.method == "GET" for r in cluster.requests)
    assert not [r.path for r in cluster.requests if "/secrets" in r.path]


class LogReadsMeet(FakeKubeApi):
    """Holds each pod's log read until the reads of all three pods have arrived: a probe that reads one log
    after another never gets them all there, and its first read fails when the wait gives up."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.meet = threading.Barrier(3, timeout=10)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        if handler.path.split("?")[0].endswith("/log"):
            self.meet.wait()
        super()._serve(handler)


def test_the_logs_of_all_pods_are_read_at_once() -> None:
    with LogReadsMeet("crashloop-oom") as cluster:
        status, summary, _ = run(cluster.kubeconfig_path, "k8s.logs", deadline_s=20)
    assert status == Status.WARN, summary
    assert summary.startswith("18 matching lines in the previous containers of 3 pods")


# --- faults: what is wrong, with stable keys --------------------------------------------------------


def faults_of(kubeconfig: str, probe: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    spec = PROBES[probe]
    ctx = ProbeContext("api-gateway", GATEWAY, Clients(kubeconfig=kubeconfig), time.monotonic() + 30)
    return list(spec.run(ctx, spec.params.model_validate(params or {})).data.get("faults", []))


@pytest.mark.parametrize("cluster", ["crashloop-oom"], indirect=True)
def test_faults_are_keyed_on_kind_name_and_reason_and_ranked(cluster: FakeKubeApi) -> None:
    kubeconfig = cluster.kubeconfig_path
    (pods,) = faults_of(kubeconfig, "k8s.pods")
    assert (pods["key"], pods["rank"], pods["facts"]) == (
        "Pods/api-gateway:CrashLoopBackOff",
        2,
        ["crash-loop", "oom-killed", "not-ready", "none-ready"],
    )
    (endpoints,) = faults_of(kubeconfig, "k8s.endpoints")
    assert (endpoints["key"], endpoints["rank"]) == ("Service/api-gateway:no-ready-endpoints", 1)
    assert endpoints["text"] == "nothing is serving api-gateway: 0 of 3 endpoints ready"
    (rollout,) = faults_of(kubeconfig, "k8s.rollout")
    assert (rollout["key"], rollout["rank"], rollout["facts"]) == (
        "Deployment/api-gateway:revision-8",
        4,
        ["recent-rollout", "unavailable"],
    )
    (memory,) = faults_of(kubeconfig, "k8s.resource_usage")
    assert (memory["key"], memory["facts"]) == ("Usage/api-gateway:memory", ["memory-high"]), (
        "not the CPU at 41%"
    )


@pytest.mark.parametrize("cluster", ["healthy"], indirect=True)
def test_a_healthy_cluster_has_no_faults(cluster: FakeKubeApi) -> None:
    for probe in ("k8s.pods", "k8s.endpoints", "k8s.rollout", "k8s.resource_usage", "k8s.events", "k8s.hpa"):
        assert faults_of(cluster.kubeconfig_path, probe) == [], probe


# --- namespace-wide: dependencies are seen too ----------------------------------------------------


@pytest.mark.parametrize("cluster", ["dependency-down"], indirect=True)
def test_namespace_wide_pods_and_endpoints_see_a_dependency_that_is_down(cluster: FakeKubeApi) -> None:
    kubeconfig = cluster.kubeconfig_path
    assert run(kubeconfig, "k8s.pods")[:2] == (Status.OK, "3/3 pods ready; 0 restarts"), "the service alone"
    status, summary, evidence = run(kubeconfig, "k8s.pods", {"scope": "namespace"})
    at = f"{cluster.now - timedelta(minutes=3):%H:%M} UTC"
    assert (status, summary) == (
        Status.CRITICAL,
        f"1 of 4 pods in arch-separation not ready: postgres 0/1 ready: 1 CrashLoopBackOff; last exit Error (1) at {at}",
    )
    assert evidence.splitlines()[1].startswith("postgres-0"), "what is not ready comes first"
    listed = [r for r in cluster.requests if r.path.endswith("/pods")]
    assert "labelSelector" not in listed[-1].query, "the whole namespace"
    assert run(kubeconfig, "k8s.endpoints", {"scope": "namespace"})[:2] == (
        Status.CRITICAL,
        "1 of 2 services in arch-separation without ready endpoints: postgres: 0 of 1 endpoints ready",
    )
    (down,) = faults_of(kubeconfig, "k8s.endpoints", {"scope": "namespace"})
    assert down["rank"] == 5, (
        "a dependency without endpoints is a sign; the service's own would be not serving"
    )


# --- logs: the exception line itself ---------------------------------------------------------------


def test_the_logs_evidence_shows_the_exception_line_itself() -> None:
    from bot.probes.kube_checks import LogTail, logs_result
    from bot.probes.kubernetes import LogsParams

    lines = [
        "2026-03-14 14:02:11 INFO  started",
        "2026-03-14 14:02:19 ERROR request failed path=/v1/chat",
        "java.lang.OutOfMemoryError: Java heap space",
        "\tat java.util.Arrays.copyOf(Arrays.java:3332)",
        "\tat java.lang.AbstractStringBuilder.ensureCapacityInternal(AbstractStringBuilder.java:124)",
        "\tat com.acme.gateway.Relay.stream(Relay.java:88)",
    ]
    result = logs_result([LogTail("api-gateway-1", True, lines)], LogsParams(), 0, "app=api-gateway")
    assert "java.lang.OutOfMemoryError: Java heap space" in result.evidence
    assert result.summary.endswith("; exception: java.lang.OutOfMemoryError: Java heap space")
    assert result.data["exceptions"] == ["java.lang.OutOfMemoryError: Java heap space"]
    (found,) = result.data["faults"]
    assert found["facts"] == ["error-lines", "exception", "out-of-memory"]
    assert result.data["matching_lines"] == 1, "the exception line is shown, not counted twice"
