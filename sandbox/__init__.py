"""The sandbox: a simulated cluster (sandbox.kube_api) and Cloud Run service (sandbox.cloud_run_api) so the bot
can be seen working with no real systems.

Used by `chatops demo` (and the tests): the catalogue's services are pointed at the simulated cluster and Cloud
Run service (`simulation` starts both in a scenario's state), and their other systems are left out, so their
probes report `skipped` instead of waiting on hosts that do not exist.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.clock import SYSTEM_CLOCK, Clock
from bot.config import Service
from bot.probes.base import Clients
from sandbox.kube_api import CONTEXT, DEPLOYMENT, FIXTURES, NAMESPACE, FakeKubeApi

if TYPE_CHECKING:
    from sandbox.cloud_run_api import FakeCloudRun

__all__ = ["FakeKubeApi", "Simulation", "config_yaml", "sandboxed", "scenarios", "simulation"]

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
    """The service as the sandbox sees it: its Kubernetes workload is the simulated cluster's one deployment and
    its Cloud Run service the simulated one (whatever the config calls them), no other systems, and the
    sandbox's people (the on-call group) as its approvers."""
    kubernetes = service.kubernetes.model_copy(update=SIMULATED_WORKLOAD) if service.kubernetes else None
    cloud_run = service.cloud_run.model_copy(update=_simulated_cloud_run()) if service.cloud_run else None
    return service.model_copy(
        update={
            "kubernetes": kubernetes,
            "cloud_run": cloud_run,
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


def _simulated_cloud_run() -> dict[str, str]:
    # The stand-in's module loads google-cloud-run: only for a service on Cloud Run.
    from sandbox.cloud_run_api import PROJECT, REGION, SERVICE

    return {"project": PROJECT, "region": REGION, "service": SERVICE}


@dataclass(frozen=True)
class Simulation:
    """The systems of a scenario, serving: the simulated cluster and the simulated Cloud Run service."""

    cluster: FakeKubeApi
    cloud_run: FakeCloudRun

    def clients(self) -> Clients:
        """Clients reaching both, as the bot reaches the real ones (the stand-in takes no Google token)."""
        from google.auth.credentials import AnonymousCredentials

        return Clients(
            kubeconfig=self.cluster.kubeconfig_path,
            cloud_run_endpoint=self.cloud_run.url,
            google_credentials=AnonymousCredentials(),
        )


@contextmanager
def simulation(scenario: str, clock: Clock = SYSTEM_CLOCK) -> Iterator[Simulation]:
    """`with simulation("bad-deploy", clock) as sim:` serves the scenario's cluster and Cloud Run state until
    the block ends, both dated from the same now."""
    from sandbox.cloud_run_api import FakeCloudRun, scenario_fixture  # loads in over half a second

    with FakeKubeApi(scenario, clock=clock) as cluster, FakeCloudRun(clock=clock) as cloud_run:
        assert cluster.now is not None
        cloud_run.serve(scenario_fixture(scenario, cluster.now))
        yield Simulation(cluster, cloud_run)
