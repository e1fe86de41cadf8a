"""The sandbox: a simulated cluster (sandbox.kube_api) so the bot can be seen working with no real systems.

Used by `chatops demo` (and the tests): the catalogue's service is pointed at the simulated cluster, and
its other systems are left out, so their probes report `skipped` instead of waiting on hosts that do not exist.
"""

from __future__ import annotations

from bot.config import Service
from sandbox.kube_api import CONTEXT, DEPLOYMENT, FIXTURES, NAMESPACE, FakeKubeApi

__all__ = ["FakeKubeApi", "config_yaml", "sandboxed", "scenarios"]

_CONFIG = """
services:
  api-gateway:
    guide: ai-platform
    team: platform
    kubernetes: {{context: fake, namespace: arch-separation, deployment: api-gateway, certificate: api-gateway-tls}}
teams:
  platform:
    oncall: {{slack: S0ONCALL}}
    approvers: [S0ONCALL]
store:
  path: {store}
"""


def config_yaml(store_path: str) -> str:
    """A chatops.yaml whose one service lives in the simulated cluster (for a `chatops serve` run)."""
    return _CONFIG.format(store=store_path)


def scenarios() -> list[str]:
    """The simulated cluster's scenarios (sandbox/scenarios/*.yaml)."""
    return sorted(path.stem for path in FIXTURES.glob("*.yaml"))


SIMULATED_WORKLOAD = {"context": CONTEXT, "namespace": NAMESPACE, "deployment": DEPLOYMENT, "selector": None,
                      "service": None, "container": None}  # fmt: skip
APPROVERS = "S0ONCALL"  # the stand-in Slack's on-call group: alice and bob


def sandboxed(service: Service) -> Service:
    """The service as the sandbox sees it: its Kubernetes workload is the simulated cluster's one deployment
    (whatever the config calls it), no other systems, and the sandbox's people (the on-call group) as its
    approvers."""
    kubernetes = service.kubernetes.model_copy(update=SIMULATED_WORKLOAD) if service.kubernetes else None
    return service.model_copy(
        update={
            "kubernetes": kubernetes,
            "cloud_run": None,
            "cloud_logging": None,
            "health_url": None,
            "readiness_url": None,
            "prometheus_url": None,
            "alertmanager_url": None,
            "postgres": None,
            "redis": None,
            "approvers": [APPROVERS],
            "actions": {},
        }
    )
