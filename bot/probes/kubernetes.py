"""Kubernetes probes (read-only): pods, logs, events, rollouts, resource usage, HPA, endpoints, policies, TLS."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, TypeVar

from pydantic import Field

from bot.faults import Rank, fault
from bot.findings import ProbeResult
from bot.params import Params
from bot.probes import kube_checks as checks
from bot.probes import kube_pods
from bot.probes import kube_serving as serving
from bot.probes.base import ProbeContext, Skip
from bot.probes.kube_client import Kube
from bot.probes.kube_format import pod_state
from bot.severity import Status

T = TypeVar("T")
MAX_PODS = 200  # list sizes are capped: a probe reads at most this many objects of a kind
MAX_LOG_PODS = 5
MAX_LOG_BYTES = 512 * 1024  # per pod, on top of tail_lines: one runaway line cannot flood the bot

CRASH_REASONS = [
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
]


Scope = Literal["service", "namespace"]
SCOPE = (
    "service: the service's own objects; namespace: every one in its namespace (`kubectl get pods -n NS`), "
    "so dependencies are seen too"
)


class PodsParams(Params):
    """Pod phase, readiness, restarts, waiting reasons and last termination of the service's pods."""

    selector: str = "{selector}"
    scope: Scope = Field("service", description=SCOPE)
    warn_restarts: int = Field(3, ge=0, description="warn when a container restarted more often than this")
    critical_reasons: list[str] = Field(default_factory=lambda: list(CRASH_REASONS))
    critical_terminations: list[str] = Field(default_factory=lambda: ["OOMKilled", "Error"])
    critical_ready_below: float = Field(0.5, ge=0, le=1, description="critical when the ready share is lower")


class LogsParams(Params):
    """Tail of the service's pod logs with counts of error patterns (previous container for crashed pods)."""

    selector: str = "{selector}"
    container: str | None = None
    tail_lines: int = Field(200, ge=1, le=5000)
    since_minutes: int = Field(60, ge=1)
    patterns: list[str] = Field(
        default_factory=lambda: [r"\bERROR\b", r"\bFATAL\b", r"Traceback", r"panic:", r"Exception"],
        description="regular expressions, case-insensitive",
    )
    warn_count: int = Field(1, ge=1)
    critical_count: int = Field(20, ge=1)


class EventsParams(Params):
    """Warning events in the namespace for the service's objects, newest first."""

    since_minutes: int = Field(60, ge=1)
    critical_reasons: list[str] = Field(
        default_factory=lambda: ["OOMKilling", "FailedScheduling", "BackOff", "FailedMount", "Evicted"]
    )


class RolloutParams(Params):
    """Deployment status and rollout history: revisions, images, change-cause, and whether it changed recently."""

    deployment: str = "{deployment}"
    recent_minutes: int = Field(
        120, ge=1, description="a rollout newer than this is reported as a recent change"
    )
    history: int = Field(5, ge=1, le=50)


class ResourceUsageParams(Params):
    """CPU and memory usage from metrics.k8s.io against requests and limits (`kubectl top pods`)."""

    selector: str = "{selector}"
    cpu_warn_percent: float = Field(80, gt=0)
    cpu_critical_percent: float = Field(95, gt=0)
    memory_warn_percent: float = Field(80, gt=0)
    memory_critical_percent: float = Field(95, gt=0)


class HpaParams(Params):
    """HorizontalPodAutoscaler status: current/desired/max replicas and whether it is pinned at max."""

    name: str = "{deployment}"


class EndpointsParams(Params):
    """Ready and not-ready addresses behind the service's Kubernetes Service (none ready = nothing serving)."""

    service_name: str = "{k8s_service}"
    min_ready: int = Field(1, ge=0)
    scope: Scope = Field("service", description=SCOPE)


class NetworkPoliciesParams(Params):
    """NetworkPolicies that select the service's pods, and whether they leave ingress or egress closed."""

    selector: str = "{selector}"


class IngressParams(Params):
    """The service's Ingress: rules, backends, load balancer address, and whether its TLS secret exists."""

    name: str = "{ingress}"


class CertificateParams(Params):
    """cert-manager Certificate readiness and expiry (`kubectl describe certificate`)."""

    name: str = "{certificate}"
    warn_days: int = Field(14, ge=0)
    critical_days: int = Field(3, ge=0)


class NodesParams(Params):
    """Node conditions: MemoryPressure, DiskPressure, PIDPressure, NetworkUnavailable, NotReady."""

    conditions: list[str] = Field(
        default_factory=lambda: ["MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"]
    )


class ConfigMapParams(Params):
    """Keys of the service's ConfigMap (never Secrets), and whether the required ones are present."""

    name: str = "{configmap}"
    required_keys: list[str] = Field(default_factory=list)


def _pods(kube: Kube, selector: str) -> list[Any]:
    listed = kube.call(
        kube.core.list_namespaced_pod,
        kube.namespace,
        label_selector=selector,
        limit=MAX_PODS,
        resource="pods",
    )
    return list(listed.items)


def pods(ctx: ProbeContext, params: PodsParams) -> ProbeResult:
    kube = Kube(ctx)
    if params.scope == "namespace":
        everything = [pod_state(p) for p in _pods(kube, "")]
        return kube_pods.pods_result(everything, params, ctx.now(), namespace=kube.namespace)
    selector = ctx.render(params.selector)
    states = [pod_state(p) for p in _pods(kube, selector)]
    if not states:
        text = f"no pods match {selector} in {kube.namespace}"
        faults = [fault(f"Pods/{selector}:no-pods", Rank.NOT_SERVING, Status.CRITICAL, text, "no-pods")]
        return ProbeResult(Status.CRITICAL, text, data={"pods": [], "faults": faults})
    return kube_pods.pods_result(states, params, ctx.now())


def logs(ctx: ProbeContext, params: LogsParams) -> ProbeResult:
    kube = Kube(ctx)
    listed = _pods(kube, ctx.render(params.selector))
    started = [p for p in listed if checks.has_run(p)]
    if not started:
        raise Skip(f"no logs yet: none of the {len(listed)} pods has started a container")
    chosen = sorted(started, key=checks.log_priority)[:MAX_LOG_PODS]

    def tail(pod: Any) -> checks.LogTail:
        container = ctx.render(params.container or ctx.values.get("container") or pod.spec.containers[0].name)
        previous = checks.crashed(pod, container)
        text = _read_log(kube, pod.metadata.name, container, previous, params)
        if text is None and previous:  # the kubelet no longer has the previous container: read the current
            previous, text = False, _read_log(kube, pod.metadata.name, container, False, params)
        return checks.LogTail(pod.metadata.name, previous, (text or "").splitlines())

    tails = together(*(lambda pod=pod: tail(pod) for pod in chosen))
    return checks.logs_result(tails, params, len(listed) - len(chosen), ctx.render(params.selector))


def together(*calls: Callable[[], T]) -> list[T]:
    """Independent API calls at once, their results in order: a probe takes one round trip, not one per call.
    Each call is bounded by the probe's deadline (Kube.call); the first failure is raised."""
    if len(calls) <= 1:
        return [call() for call in calls]
    with ThreadPoolExecutor(len(calls), thread_name_prefix="probe-call") as pool:
        futures = [pool.submit(call) for call in calls]
        return [future.result() for future in futures]


def _read_log(kube: Kube, pod: str, container: str, previous: bool, params: LogsParams) -> str | None:
    return kube.call(
        kube.core.read_namespaced_pod_log,
        pod,
        kube.namespace,
        container=container,
        previous=previous,
        tail_lines=params.tail_lines,
        since_seconds=params.since_minutes * 60,
        limit_bytes=MAX_LOG_BYTES,
        resource="pods/log",
        name=pod,
        # 404: the pod went away since it was listed; 400 (previous): the kubelet no longer has that container
        tolerate=(400, 404) if previous else (404,),
    )


def events(ctx: ProbeContext, params: EventsParams) -> ProbeResult:
    kube = Kube(ctx)
    prefix = ctx.render("{deployment}")
    listed = kube.call(
        kube.core.list_namespaced_event,
        kube.namespace,
        field_selector="type=Warning",
        limit=500,
        resource="events",
    )
    mine = [e for e in listed.items if (e.involved_object.name or "").startswith(prefix)]
    return checks.events_result(mine, prefix, params, ctx.now(), _pod_names(kube) if mine else None)


def _pod_names(kube: Kube) -> set[str] | None:
    """The namespace's pods now; None when there are more than one page of them (then none counts as gone)."""
    listed = kube.call(kube.core.list_namespaced_pod, kube.namespace, limit=MAX_PODS, resource="pods")
    return None if listed.metadata._continue else {p.metadata.name for p in listed.items}


def rollout(ctx: ProbeContext, params: RolloutParams) -> ProbeResult:
    kube = Kube(ctx)
    name = ctx.render(params.deployment)
    deployment = kube.call(
        kube.apps.read_namespaced_deployment, name, kube.namespace, resource="deployments", name=name
    )
    labels = deployment.spec.selector.match_labels or {}
    listed = kube.call(
        kube.apps.list_namespaced_replica_set,
        kube.namespace,
        label_selector=",".join(f"{k}={v}" for k, v in labels.items()),
        limit=MAX_PODS,
        resource="replicasets",
    )
    owned = [
        rs
        for rs in listed.items
        if any(o.kind == "Deployment" and o.name == name for o in rs.metadata.owner_references or [])
    ]
    return checks.rollout_result(deployment, owned, params, ctx.now())


def resource_usage(ctx: ProbeContext, params: ResourceUsageParams) -> ProbeResult:
    kube = Kube(ctx)
    selector = ctx.render(params.selector)
    listed = _pods(kube, selector)
    running = [p for p in listed if p.status.phase == "Running"]
    if not running:
        raise Skip(f"no usage to measure: none of the {len(listed)} pods matching {selector} is running")
    metrics = kube.call(
        kube.custom.list_namespaced_custom_object,
        "metrics.k8s.io",
        "v1beta1",
        kube.namespace,
        "pods",
        label_selector=selector,
        resource="pods.metrics.k8s.io",
    )
    return checks.usage_result(running, metrics.get("items", []), params)


def hpa(ctx: ProbeContext, params: HpaParams) -> ProbeResult:
    kube = Kube(ctx)
    name = ctx.render(params.name)
    found = kube.call(
        kube.autoscaling.read_namespaced_horizontal_pod_autoscaler,
        name,
        kube.namespace,
        resource="horizontalpodautoscalers",
        name=name,
    )
    return serving.hpa_result(found)


def endpoints(ctx: ProbeContext, params: EndpointsParams) -> ProbeResult:
    kube = Kube(ctx)
    name = ctx.render(params.service_name)
    if params.scope == "namespace":
        services, everything = together(
            lambda: kube.call(kube.core.list_namespaced_service, kube.namespace, limit=500, resource="services"),
            lambda: kube.call(kube.core.list_namespaced_endpoints, kube.namespace, limit=500, resource="endpoints"),
        )  # fmt: skip
        return serving.namespace_endpoints_result(services.items, everything.items, kube.namespace, name)
    service, found = together(
        lambda: kube.call(kube.core.read_namespaced_service, name, kube.namespace, resource="services", name=name),
        lambda: kube.call(kube.core.read_namespaced_endpoints, name, kube.namespace, resource="endpoints",
                          name=name, tolerate=(404,)),
    )  # fmt: skip
    return serving.endpoints_result(service, found, params.min_ready)


def network_policies(ctx: ProbeContext, params: NetworkPoliciesParams) -> ProbeResult:
    kube = Kube(ctx)
    selector = ctx.render(params.selector)
    pods, listed = together(
        lambda: _pods(kube, selector),
        lambda: kube.call(kube.networking.list_namespaced_network_policy, kube.namespace, limit=MAX_PODS,
                          resource="networkpolicies"),
    )  # fmt: skip
    labels = [p.metadata.labels or {} for p in pods]
    return serving.policies_result(listed.items, labels, selector)


def ingress(ctx: ProbeContext, params: IngressParams) -> ProbeResult:
    kube = Kube(ctx)
    name = ctx.render(params.name)
    found, services, certificates = together(
        lambda: kube.call(kube.networking.read_namespaced_ingress, name, kube.namespace, resource="ingresses",
                          name=name),
        lambda: kube.call(kube.core.list_namespaced_service, kube.namespace, limit=500, resource="services"),
        # only the Certificate objects: the TLS Secret itself is never read
        lambda: kube.call(kube.custom.list_namespaced_custom_object, "cert-manager.io", "v1", kube.namespace,
                          "certificates", resource="certificates.cert-manager.io", tolerate=(404,)),
    )  # fmt: skip
    names = {s.metadata.name for s in services.items}
    return serving.ingress_result(found, names, (certificates or {}).get("items", []), ctx.now())


def certificate(ctx: ProbeContext, params: CertificateParams) -> ProbeResult:
    kube = Kube(ctx)
    name = ctx.render(params.name)
    found = kube.call(
        kube.custom.get_namespaced_custom_object,
        "cert-manager.io",
        "v1",
        kube.namespace,
        "certificates",
        name,
        resource="certificates.cert-manager.io",
        name=name,
    )
    return serving.certificate_result(found, params.warn_days, params.critical_days, ctx.now())


def nodes(ctx: ProbeContext, params: NodesParams) -> ProbeResult:
    kube = Kube(ctx)
    listed = kube.call(kube.core.list_node, limit=500, resource="nodes")
    return serving.nodes_result(listed.items, params.conditions)


def configmap(ctx: ProbeContext, params: ConfigMapParams) -> ProbeResult:
    kube = Kube(ctx)
    name = ctx.render(params.name)
    found = kube.call(
        kube.core.read_namespaced_config_map, name, kube.namespace, resource="configmaps", name=name
    )
    keys = sorted([*(found.data or {}), *(found.binary_data or {})])  # names only: values are never shown
    missing = [k for k in params.required_keys if k not in keys]
    evidence = f"keys of configmap {name}:\n" + "\n".join(f"  {k}" for k in keys)
    data = {"keys": keys, "missing": missing}
    if missing:
        summary = f"configmap {name} lacks required {', '.join(missing)} ({len(keys)} keys present)"
        return ProbeResult(Status.CRITICAL, summary, evidence, data)
    required = f"; all {len(params.required_keys)} required present" if params.required_keys else ""
    return ProbeResult(Status.OK, f"configmap {name} has {len(keys)} keys{required}", evidence, data)
