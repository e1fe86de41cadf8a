"""The explicit registry of probes (read-only) and actions (mutating): name in YAML -> parameter model.

Playbooks name probes and actions by these keys; their parameters are validated against the models when a
playbook loads, so a typo fails `chatops playbooks lint` and start-up rather than the incident.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.actions import cloud_run as cloud_run_actions
from bot.actions import kubernetes as k8s_actions
from bot.params import Params
from bot.probes import cloud_logging, cloud_run, http, kubernetes, network, prometheus


@dataclass(frozen=True)
class Spec:
    """A registered probe or action: its YAML name, parameter model and what it does."""

    name: str
    params: type[Params]

    @property
    def summary(self) -> str:
        return (self.params.__doc__ or "").strip().splitlines()[0]


def _specs(*pairs: tuple[str, type[Params]]) -> dict[str, Spec]:
    return {name: Spec(name, model) for name, model in pairs}


PROBES: dict[str, Spec] = _specs(
    ("k8s.pods", kubernetes.PodsParams),
    ("k8s.logs", kubernetes.LogsParams),
    ("k8s.events", kubernetes.EventsParams),
    ("k8s.rollout", kubernetes.RolloutParams),
    ("k8s.resource_usage", kubernetes.ResourceUsageParams),
    ("k8s.hpa", kubernetes.HpaParams),
    ("k8s.endpoints", kubernetes.EndpointsParams),
    ("k8s.network_policies", kubernetes.NetworkPoliciesParams),
    ("k8s.ingress", kubernetes.IngressParams),
    ("k8s.certificate", kubernetes.CertificateParams),
    ("k8s.nodes", kubernetes.NodesParams),
    ("k8s.configmap", kubernetes.ConfigMapParams),
    ("http.check", http.HttpCheckParams),
    ("prometheus.query", prometheus.PromQueryParams),
    ("prometheus.targets", prometheus.PromTargetsParams),
    ("alertmanager.alerts", prometheus.AlertsParams),
    ("cloud_logging.query", cloud_logging.CloudLoggingParams),
    ("cloud_run.service", cloud_run.CloudRunServiceParams),
    ("dns.resolve", network.DnsParams),
    ("tcp.connect", network.TcpParams),
    ("tls.certificate", network.TlsParams),
)

ACTIONS: dict[str, Spec] = _specs(
    ("k8s.rollout_undo", k8s_actions.RolloutUndoParams),
    ("k8s.rollout_restart", k8s_actions.RolloutRestartParams),
    ("k8s.scale", k8s_actions.ScaleParams),
    ("k8s.set_env", k8s_actions.SetEnvParams),
    ("k8s.set_resources", k8s_actions.SetResourcesParams),
    ("cloud_run.traffic_rollback", cloud_run_actions.TrafficRollbackParams),
    ("cloud_run.update_resources", cloud_run_actions.UpdateResourcesParams),
    ("cloud_run.scale", cloud_run_actions.ScaleInstancesParams),
    ("cloud_run.set_env", cloud_run_actions.CloudRunSetEnvParams),
    ("cloud_run.redeploy", cloud_run_actions.RedeployParams),
)
