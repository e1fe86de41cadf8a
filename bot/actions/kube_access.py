"""The service's Kubernetes API as actions use it: objects as raw JSON, failures as ActionError.

Actions read and write raw JSON (`_preload_content=False`) rather than the client's typed models: a template
patched back into a Deployment must carry every field the server sent, including any this client version
does not model, as kubectl's own patch does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bot.actions.base import ActionContext, ActionError
from bot.probes.base import ProbeFailure
from bot.probes.kube_client import warm

if TYPE_CHECKING:
    from kubernetes.client.exceptions import ApiException

REQUEST_TIMEOUT_S = 10.0  # per API call; verification has its own, longer, timeout


class KubeApiError(ActionError):
    """The API server answered with an error Status; `str()` is its message, `code` its HTTP status."""

    def __init__(self, code: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.code, self.reason = code, reason


class Cluster:
    """The Kubernetes API of the service an action changes, in the service's namespace."""

    def __init__(self, ctx: ActionContext) -> None:
        target = ctx.service.kubernetes
        if target is None:
            raise ActionError("the service has no kubernetes settings in chatops.yaml")
        self.namespace = ctx.render("{namespace}")
        try:
            api_client = ctx.clients.kubernetes(target.context)
        except ProbeFailure as err:
            raise ActionError(str(err)) from None
        self.host: str = api_client.configuration.host
        api = warm()  # imported on first use: commands that change nothing never load the client
        self.apps = api.AppsV1Api(api_client)
        self.core = api.CoreV1Api(api_client)
        self.autoscaling = api.AutoscalingV2Api(api_client)

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """`fn(*args, **kwargs)` returning the response's JSON; API errors raise KubeApiError."""
        import urllib3  # the Kubernetes client's transport, loaded with it (only commands that act need it)

        try:
            response = fn(*args, _preload_content=False, _request_timeout=REQUEST_TIMEOUT_S, **kwargs)
        except warm().exceptions.ApiException as err:
            raise _api_error(err) from None
        except urllib3.exceptions.HTTPError as err:
            cause = err.reason if isinstance(err, urllib3.exceptions.MaxRetryError) and err.reason else err
            raise ActionError(f"kube-apiserver at {self.host} could not be reached: {cause}") from None
        return json.loads(response.data) if response.data else None

    def deployment(self, name: str) -> dict[str, Any]:
        return self.call(self.apps.read_namespaced_deployment, name, self.namespace)

    def replica_sets(self, deployment: dict[str, Any]) -> list[dict[str, Any]]:
        """The ReplicaSets the Deployment controls: its selector, and a controller reference to its uid."""
        listed = self.call(
            self.apps.list_namespaced_replica_set,
            self.namespace,
            label_selector=selector_query(deployment["spec"]["selector"]),
        )
        uid = deployment["metadata"].get("uid")
        return [
            rs
            for rs in listed.get("items") or []
            if any(
                o.get("controller") and o.get("uid") == uid
                for o in rs["metadata"].get("ownerReferences") or []
            )
        ]

    def pods(self, selector: str) -> list[dict[str, Any]]:
        listed = self.call(self.core.list_namespaced_pod, self.namespace, label_selector=selector)
        return list(listed.get("items") or [])


def _api_error(err: ApiException) -> KubeApiError:
    try:
        body = json.loads(err.body or "")
    except ValueError:
        body = None
    if isinstance(body, dict) and body.get("message"):
        return KubeApiError(err.status or 0, str(body.get("reason") or ""), str(body["message"]))
    text = (err.body or "").strip()[:200] or str(err.reason or "")
    return KubeApiError(
        err.status or 0, str(err.reason or ""), f"kube-apiserver answered {err.status}: {text}"
    )


def selector_query(selector: dict[str, Any]) -> str:
    """A LabelSelector object (matchLabels, matchExpressions) as a labelSelector query."""
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expr in selector.get("matchExpressions") or []:
        key, values = expr["key"], ",".join(expr.get("values") or [])
        terms.append(
            {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})", "Exists": key}.get(
                expr["operator"], f"!{key}"
            )
        )
    return ",".join(terms)
