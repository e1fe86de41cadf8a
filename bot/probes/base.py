"""What every probe gets: the service's context, shared clients and a deadline (`Skip` and `ProbeFailure`, in
bot.errors, are how it says it cannot run)."""

from __future__ import annotations

import ssl
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import certifi

from bot.clock import SYSTEM_CLOCK, Clock
from bot.config import Service
from bot.errors import ProbeFailure, Skip
from bot.templating import render

if TYPE_CHECKING:
    from bot.settings import Settings

DEADLINE_MARGIN_S = 0.5
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"


@dataclass
class Clients:
    """Connections to the systems, created on first use and shared by the probes of a run.

    Endpoints are overridable so tests (and air-gapped installs) point the official clients at local servers.
    """

    kubeconfig: str | None = None
    cloud_logging_endpoint: str | None = None
    cloud_run_endpoint: str = "https://run.googleapis.com"
    google_credentials: Any = None
    http_verify: bool | str = True
    _kube: dict[str | None, Any] = field(default_factory=dict, repr=False)
    _tls: ssl.SSLContext | None = field(default=None, repr=False)
    _cloud_run: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    _cloud_run_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def tls(self) -> ssl.SSLContext | bool:
        """One TLS context for every HTTPS call: building one per request costs tens of milliseconds."""
        if self.http_verify is False:
            return False
        if self._tls is None:
            cafile = self.http_verify if isinstance(self.http_verify, str) else certifi.where()
            self._tls = ssl.create_default_context(cafile=cafile)
        return self._tls

    @classmethod
    def from_settings(cls, settings: Settings) -> Clients:
        """Clients reaching the systems where the settings say (KUBECONFIG, the Google endpoints)."""
        endpoints = settings.endpoints
        return cls(
            kubeconfig=endpoints.kubeconfig,
            cloud_logging_endpoint=endpoints.cloud_logging,
            cloud_run_endpoint=endpoints.cloud_run,
        )

    def cloud_run(self, kind: Literal["services", "revisions"]) -> Any:
        """The official Cloud Run Admin API v2 client (`run_v2.ServicesClient` or `RevisionsClient`, REST).

        Made on first use, one of each per Clients, both on the same credentials (the configured ones, else
        Application Default Credentials, looked up once). The library is imported here rather than at start-up
        because it takes over half a second to load. Raises google.auth's DefaultCredentialsError.
        """
        with self._cloud_run_lock:
            if not self._cloud_run:
                from google.cloud import run_v2

                credentials = self.google_credentials
                if credentials is None:
                    import google.auth

                    credentials, _ = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
                options = {"api_endpoint": self.cloud_run_endpoint}
                self._cloud_run = {
                    "services": run_v2.ServicesClient(
                        transport="rest", client_options=options, credentials=credentials
                    ),
                    "revisions": run_v2.RevisionsClient(
                        transport="rest", client_options=options, credentials=credentials
                    ),
                }
            return self._cloud_run[kind]

    def kubernetes(self, context: str | None) -> Any:
        """An ApiClient for a kubeconfig context (in-cluster config when no context and no kubeconfig)."""
        if context not in self._kube:
            from kubernetes import client, config

            configuration = client.Configuration()
            try:
                if context is None and self.kubeconfig is None:
                    config.load_incluster_config(client_configuration=configuration)
                else:
                    config.load_kube_config(
                        config_file=self.kubeconfig, context=context, client_configuration=configuration
                    )
            except config.ConfigException as err:
                raise ProbeFailure(f"no usable Kubernetes config for context '{context}': {err}") from None
            configuration.retries = 0
            self._kube[context] = client.ApiClient(configuration)
        return self._kube[context]


@dataclass
class ProbeContext:
    """The service a probe looks at, the clients, and the time it has left."""

    service_name: str
    service: Service
    clients: Clients
    deadline: float  # time.monotonic() value
    values: dict[str, str | None] = field(default_factory=dict)
    clock: Clock = SYSTEM_CLOCK  # what "5 min ago" and "the last 60 min" count from

    def __post_init__(self) -> None:
        self.values = self.values or self.service.variables(self.service_name)

    def now(self) -> datetime:
        return self.clock.now()

    def remaining(self, cap: float = 30.0) -> float:
        """Seconds left for a client timeout: a margin before the deadline, so the probe's own reason
        ("kube-apiserver timed out after 3 s") arrives before the runner gives up on it."""
        return max(0.1, min(cap, self.deadline - time.monotonic() - DEADLINE_MARGIN_S))

    def render(self, template: str) -> str:
        """Fill a parameter template; a value the service lacks makes the probe skip, naming it."""
        text = render(template, self.values)
        missing = [name for name, value in self.values.items() if f"<{name}>" in text and not value]
        if missing:
            raise Skip(f"the service has no {', '.join(missing)} in chatops.yaml")
        return text
