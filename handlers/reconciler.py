"""The reconciler: every few seconds, on the leading replica only, what is due gets done: escalation steps,
pages in the outbox, expired fix requests, alert deliveries a stopped worker left. Everything it does is a
conditional write in the store, so even two of them at once (a leader change in progress) do each thing once.
"""

from __future__ import annotations

import logging
import socket
import threading

from bot.incident.intake import RETAKE_AFTER
from bot.incident.requests import AlertsReceived
from bot.leader import AlwaysLeader, Leadership
from bot.settings import Settings
from handlers.deps import Deps, Runtime

log = logging.getLogger("chatops")
INTERVAL_S = 5.0


class Reconciler:
    def __init__(
        self, runtime: Runtime, deps: Deps, leader: Leadership, interval: float = INTERVAL_S
    ) -> None:
        self.runtime, self.deps, self.leader, self.interval = runtime, deps, leader, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="chatops-reconciler", daemon=True)

    def tick(self) -> None:
        """One round, now (the shell and the tests call it after moving the clock)."""
        self.runtime.flows.tick(self.runtime.view)
        for intake_id in self.deps.store.unhandled_alerts(RETAKE_AFTER):
            self.deps.later(AlertsReceived(intake_id))

    def start(self) -> Reconciler:
        self.leader.start()
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(self.interval + 5)
        self.leader.stop()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            if not self.leader.is_leader:
                continue
            try:
                self.tick()
            except Exception:  # the next round tries again; a bug must not stop escalations for good
                log.exception("the reconciler's round failed")


def leadership(settings: Settings) -> Leadership:
    """A Lease when replicas share PostgreSQL and run in Kubernetes; with one replica (SQLite), always this one."""
    replica = settings.replica
    if not settings.store_url.startswith("postgres") or not (replica.identity and replica.namespace):
        return AlwaysLeader(replica.identity or socket.gethostname())  # a container's hostname: its name
    from kubernetes import client, config

    from bot.leader import LeaseElector

    if settings.endpoints.kubeconfig:
        api = config.new_client_from_config(settings.endpoints.kubeconfig)
    else:
        config.load_incluster_config()
        api = client.ApiClient()
    return LeaseElector(
        client.CoordinationV1Api(api), replica.identity, replica.namespace, replica.lease_name,
        lease_duration=replica.lease_duration_s, renew_deadline=replica.renew_deadline_s,
        retry_period=replica.retry_period_s,
    )  # fmt: skip
