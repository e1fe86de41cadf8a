"""The explicit registry of probes (read-only) and actions (mutating): name in YAML -> parameter model.

Playbooks name probes and actions by these keys; their parameters are validated against the models when a
playbook loads, so a typo fails `chatops playbooks lint` and start-up rather than the incident.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from bot.actions import cloud_run as cloud_run_actions
from bot.actions import kubernetes as k8s_actions
from bot.actions.base import ActionSpec
from bot.params import Params
from bot.probes import (
    cloud_logging,
    cloud_run,
    cloud_run_revisions,
    http,
    kube_client,
    kubernetes,
    network,
    prometheus,
)


@dataclass(frozen=True)
class Spec:
    """A registered probe or action: its YAML name, parameter model and the function that does it."""

    name: str
    params: type[Params]
    run: Callable[..., Any] | None = None

    @property
    def summary(self) -> str:
        return (self.params.__doc__ or "").strip().splitlines()[0]


def _specs(*entries: tuple[Any, ...]) -> dict[str, Spec]:
    return {entry[0]: Spec(*entry) for entry in entries}


PROBES: dict[str, Spec] = _specs(
    ("k8s.pods", kubernetes.PodsParams, kubernetes.pods),
    ("k8s.logs", kubernetes.LogsParams, kubernetes.logs),
    ("k8s.events", kubernetes.EventsParams, kubernetes.events),
    ("k8s.rollout", kubernetes.RolloutParams, kubernetes.rollout),
    ("k8s.resource_usage", kubernetes.ResourceUsageParams, kubernetes.resource_usage),
    ("k8s.hpa", kubernetes.HpaParams, kubernetes.hpa),
    ("k8s.endpoints", kubernetes.EndpointsParams, kubernetes.endpoints),
    ("k8s.network_policies", kubernetes.NetworkPoliciesParams, kubernetes.network_policies),
    ("k8s.ingress", kubernetes.IngressParams, kubernetes.ingress),
    ("k8s.certificate", kubernetes.CertificateParams, kubernetes.certificate),
    ("k8s.nodes", kubernetes.NodesParams, kubernetes.nodes),
    ("k8s.configmap", kubernetes.ConfigMapParams, kubernetes.configmap),
    ("http.check", http.HttpCheckParams, http.check),
    ("prometheus.query", prometheus.PromQueryParams, prometheus.query),
    ("prometheus.targets", prometheus.PromTargetsParams, prometheus.targets),
    ("alertmanager.alerts", prometheus.AlertsParams, prometheus.alerts),
    ("cloud_logging.query", cloud_logging.CloudLoggingParams, cloud_logging.query),
    ("cloud_run.service", cloud_run.CloudRunServiceParams, cloud_run.service),
    ("cloud_run.revisions", cloud_run_revisions.CloudRunRevisionsParams, cloud_run_revisions.revisions),
    ("dns.resolve", network.DnsParams, network.resolve),
    ("tcp.connect", network.TcpParams, network.connect),
    ("tls.certificate", network.TlsParams, network.certificate),
)

# Clients whose import takes long enough to matter: loaded before a run's deadlines start, never at start-up.
WARM_UP: dict[str, Callable[[], Any]] = {"k8s": kube_client.warm}


def warm_up(probe_names: Iterable[str]) -> None:
    """Import the clients these probes use (once per process)."""
    for family in {name.split(".")[0] for name in probe_names}:
        if family in WARM_UP:
            WARM_UP[family]()


ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        ActionSpec(
            "k8s.rollout_undo",
            k8s_actions.RolloutUndoParams,
            k8s_actions.rollout_undo_preview,
            k8s_actions.rollout_undo_execute,
            k8s_actions.rollout_verify,
        ),
        ActionSpec(
            "k8s.rollout_restart",
            k8s_actions.RolloutRestartParams,
            k8s_actions.rollout_restart_preview,
            k8s_actions.rollout_restart_execute,
            k8s_actions.rollout_verify,
        ),
        ActionSpec(
            "k8s.scale",
            k8s_actions.ScaleParams,
            k8s_actions.scale_preview,
            k8s_actions.scale_execute,
            k8s_actions.scale_verify,
            verify_timeout_s=180.0,
        ),
        ActionSpec(
            "k8s.set_env",
            k8s_actions.SetEnvParams,
            k8s_actions.set_env_preview,
            k8s_actions.set_env_execute,
            k8s_actions.rollout_verify,
        ),
        ActionSpec(
            "k8s.set_resources",
            k8s_actions.SetResourcesParams,
            k8s_actions.set_resources_preview,
            k8s_actions.set_resources_execute,
            k8s_actions.rollout_verify,
        ),
        ActionSpec(
            "k8s.delete_pod",
            k8s_actions.DeletePodParams,
            k8s_actions.delete_pod_preview,
            k8s_actions.delete_pod_execute,
            k8s_actions.delete_pod_verify,
            verify_timeout_s=120.0,
        ),
        ActionSpec(
            "cloud_run.traffic_rollback",
            cloud_run_actions.TrafficRollbackParams,
            cloud_run_actions.preview_traffic_rollback,
            cloud_run_actions.execute,
            cloud_run_actions.verify_traffic,
            verify_timeout_s=120.0,
        ),
        ActionSpec(
            "cloud_run.traffic_to_latest",
            cloud_run_actions.TrafficToLatestParams,
            cloud_run_actions.preview_traffic_to_latest,
            cloud_run_actions.execute,
            cloud_run_actions.verify_traffic,
            verify_timeout_s=120.0,
        ),
        ActionSpec(
            "cloud_run.update_resources",
            cloud_run_actions.UpdateResourcesParams,
            cloud_run_actions.preview_update_resources,
            cloud_run_actions.execute,
            cloud_run_actions.verify_rollout,
        ),
        ActionSpec(
            "cloud_run.scale",
            cloud_run_actions.ScaleInstancesParams,
            cloud_run_actions.preview_scale,
            cloud_run_actions.execute,
            cloud_run_actions.verify_rollout,
        ),
        ActionSpec(
            "cloud_run.set_env",
            cloud_run_actions.CloudRunSetEnvParams,
            cloud_run_actions.preview_set_env,
            cloud_run_actions.execute,
            cloud_run_actions.verify_rollout,
        ),
        ActionSpec(
            "cloud_run.redeploy",
            cloud_run_actions.RedeployParams,
            cloud_run_actions.preview_redeploy,
            cloud_run_actions.execute,
            cloud_run_actions.verify_rollout,
        ),
    )
}
