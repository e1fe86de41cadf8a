"""Kubernetes probes (read-only): pods, logs, events, rollouts, resource usage, HPA, endpoints, policies, TLS."""

from __future__ import annotations

from pydantic import Field

from bot.findings import ProbeResult
from bot.params import Params
from bot.probes.base import ProbeContext

CRASH_REASONS = [
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
]


class PodsParams(Params):
    """Pod phase, readiness, restarts, waiting reasons and last termination of the service's pods."""

    selector: str = "{selector}"
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


def pods(ctx: ProbeContext, params: PodsParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement


def logs(ctx: ProbeContext, params: LogsParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement


def events(ctx: ProbeContext, params: EventsParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement


def rollout(ctx: ProbeContext, params: RolloutParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement


def resource_usage(ctx: ProbeContext, params: ResourceUsageParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement


def hpa(ctx: ProbeContext, params: HpaParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement


def endpoints(ctx: ProbeContext, params: EndpointsParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement


def network_policies(ctx: ProbeContext, params: NetworkPoliciesParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement


def ingress(ctx: ProbeContext, params: IngressParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement


def certificate(ctx: ProbeContext, params: CertificateParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement


def nodes(ctx: ProbeContext, params: NodesParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement


def configmap(ctx: ProbeContext, params: ConfigMapParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement
