"""The service's Kubernetes API access for probes: typed API objects on its context, bounded calls, and the
client library's exceptions turned into one-line reasons a person can act on."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.probes.base import ProbeContext, ProbeFailure, Skip

if TYPE_CHECKING:
    from kubernetes.client.exceptions import ApiException


def warm() -> Any:
    """The official client's API module, imported once. It takes most of a second, so commands that need no
    cluster never import it, and the runner calls this before a run's deadlines start."""
    import kubernetes.client

    return kubernetes.client


# Plural -> (singular, for "not found"; the API that serves it, for "not served").
RESOURCES: dict[str, tuple[str, str]] = {
    "pods": ("pod", "pods"),
    "pods/log": ("pod", "pod logs"),
    "events": ("event", "events"),
    "services": ("service", "services"),
    "endpoints": ("endpoints", "endpoints"),
    "configmaps": ("configmap", "configmaps"),
    "nodes": ("node", "nodes"),
    "deployments": ("deployment", "apps/v1 deployments"),
    "replicasets": ("replicaset", "apps/v1 replicasets"),
    "pods.metrics.k8s.io": ("pod metrics", "metrics.k8s.io (is metrics-server installed?)"),
    "horizontalpodautoscalers": ("horizontalpodautoscaler", "autoscaling/v2 horizontalpodautoscalers"),
    "networkpolicies": ("networkpolicy", "networking.k8s.io networkpolicies"),
    "ingresses": ("ingress", "networking.k8s.io ingresses"),
    "certificates.cert-manager.io": (
        "certificate",
        "cert-manager.io certificates (is cert-manager installed?)",
    ),
}
CLUSTER_SCOPED = {"nodes"}


class Kube:
    """The Kubernetes side of one probe run: API objects on the service's context, in its namespace."""

    def __init__(self, ctx: ProbeContext) -> None:
        target = ctx.service.kubernetes
        if target is None:
            raise Skip("the service has no kubernetes settings in chatops.yaml")
        self.ctx = ctx
        self.namespace = ctx.render("{namespace}")
        self.api_client = ctx.clients.kubernetes(target.context)
        self.host: str = self.api_client.configuration.host
        api = warm()
        self.core = api.CoreV1Api(self.api_client)
        self.apps = api.AppsV1Api(self.api_client)
        self.autoscaling = api.AutoscalingV2Api(self.api_client)
        self.networking = api.NetworkingV1Api(self.api_client)
        self.custom = api.CustomObjectsApi(self.api_client)

    def call(
        self,
        fn: Callable[..., Any],
        *args: Any,
        resource: str,
        name: str | None = None,
        tolerate: tuple[int, ...] = (),
        **kwargs: Any,
    ) -> Any:
        """`fn(*args, **kwargs)` bounded by the probe's deadline; failures become ProbeFailure with a reason.

        `resource` (a plural of RESOURCES) and `name` word the reason; statuses in `tolerate` return None
        (e.g. 404 for an optional object, 400 for a container that has no previous logs).
        """
        import urllib3  # the client's transport, loaded with it

        timeout = self.ctx.remaining()
        api_error = warm().exceptions.ApiException
        try:
            return fn(*args, _request_timeout=timeout, **kwargs)
        except api_error as err:
            if err.status in tolerate:
                return None
            raise ProbeFailure(self._api_reason(err, resource, name)) from None
        except urllib3.exceptions.HTTPError as err:
            raise ProbeFailure(self._transport_reason(err, timeout)) from None

    def _where(self, resource: str) -> str:
        return "in the cluster" if resource in CLUSTER_SCOPED else f"in {self.namespace}"

    def _api_reason(self, err: ApiException, resource: str, name: str | None) -> str:
        singular, api = RESOURCES.get(resource, (resource, resource))
        message = _status_message(err)
        if err.status == 0:  # the client's wrapper for TLS errors
            return f"kube-apiserver at {self.host}: {str(err.reason).splitlines()[-1]}"
        if err.status == 401:
            return f"kube-apiserver at {self.host} rejected the bot's credentials (401 Unauthorized)"
        if err.status == 403:
            user = re.search(r'User "([^"]+)"', message)
            who = (
                "the bot's ServiceAccount"
                if not user or user.group(1).startswith("system:serviceaccount:")
                else f"user {user.group(1)}"
            )
            verb = f"get {singular} '{name}'" if name else f"list {resource}"
            if resource == "pods/log":
                verb = f"read the logs of pod '{name}'"
            return f"forbidden: {who} may not {verb} {self._where(resource)}"
        if err.status == 404 and name:
            if "could not find the requested resource" in message or "page not found" in message:
                return f"the API server does not serve {api}"
            return f"{singular} '{name}' not found {self._where(resource)}"
        if err.status == 404:
            return f"the API server does not serve {api}"
        detail = f": {message}" if message else ""
        return f"kube-apiserver at {self.host} answered {err.status} {err.reason or ''}{detail}".strip()

    def _transport_reason(self, err: Exception, timeout: float) -> str:
        import urllib3

        cause = err.reason if isinstance(err, urllib3.exceptions.MaxRetryError) and err.reason else err
        if isinstance(cause, urllib3.exceptions.NewConnectionError):  # (a ConnectTimeoutError subclass)
            if "refused" in str(cause).lower():
                return f"kube-apiserver at {self.host} refused the connection"
            return f"kube-apiserver at {self.host} is unreachable: {str(cause).rsplit(': ', 1)[-1]}"
        if isinstance(cause, urllib3.exceptions.TimeoutError):
            return f"kube-apiserver at {self.host} timed out after {_seconds(timeout)}"
        if isinstance(cause, urllib3.exceptions.SSLError):
            return f"kube-apiserver at {self.host}: TLS error: {cause}"
        return f"kube-apiserver at {self.host} failed: {type(cause).__name__}"


def _status_message(err: ApiException) -> str:
    """The `message` of the Status object in an error body (or the body text when it is not one)."""
    try:
        body = json.loads(err.body or "")
    except ValueError:
        return (err.body or "").strip()[:200]
    return str(body.get("message", "")) if isinstance(body, dict) else ""


def _seconds(value: float) -> str:
    return f"{value:.0f} s" if value >= 0.95 else f"{value:.1f} s"
