"""A simulated Kubernetes API server serving a scenario's objects at the REST paths the official client calls.

Reads: `GET /api/v1/...` and `GET /apis/<group>/<version>/...`, lists (labelSelector, fieldSelector, limit),
single objects, `pods/<name>/log` (container, previous, tailLines, sinceSeconds) and `deployments/<name>/scale`.
Writes, with the API's semantics (sandbox.kube_store): POST (create), PUT (replace), PATCH in the three
patch content types (415 for others), DELETE; `?dryRun=All` on any of them answers what would be stored
and changes nothing; the `/scale` subresource of Deployments (GET, PUT, PATCH); `coordination.k8s.io/v1`
Leases for leader election. A simulated deployment controller and kubelet (sandbox.kube_controller) roll
Deployments out one step per read of Deployments or pods, so tests never sleep.

Missing things get the API server's 404 Status; wrong bearer tokens 401; `fail()` forces an error; the
metrics API is read-only (405). Every request is recorded in `.requests` (method, path, query, body,
content type), so tests prove that diagnostics only read and an action sent exactly one write.
`.kubeconfig_path` is a kubeconfig whose context `fake` points here. Scenarios: sandbox.kube_scenario.
"""

from __future__ import annotations

import json
import re
import tempfile
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import yaml

from bot.clock import SYSTEM_CLOCK, Clock
from sandbox.kube_controller import Controller
from sandbox.kube_kubelet import Kubelet
from sandbox.kube_scenario import FIXTURES, fill_now, load_scenario
from sandbox.kube_selectors import fields_match, labels_match
from sandbox.kube_status import Reply, resource_name, status
from sandbox.kube_store import READ_ONLY_APIS, RESOURCES, Store, group_of, parse_body
from sandbox.serving import QuietServer, serve, stop

__all__ = ["CONTEXT", "FIXTURES", "NAMESPACE", "FakeKubeApi", "Recorded"]

NAMESPACE, DEPLOYMENT, CONTEXT, TOKEN = "arch-separation", "api-gateway", "fake", "fake-bot-token"
BOT_USER = "system:serviceaccount:chatops:chatops-bot"
CUSTOM_GROUPS = {
    "cert-manager.io"
}  # CRDs: list items keep apiVersion and kind, as the real server sends them
SUBRESOURCES = {("pods", "log"), ("deployments", "scale")}
VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
TICKS = {("apps/v1", "deployments"), ("v1", "pods")}  # reads that let the simulated controllers take a step


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    body: Any = None  # the JSON sent (the raw text when it is not JSON)
    content_type: str | None = None


@dataclass
class FakeKubeApi:
    """`with FakeKubeApi("crashloop-oom") as fake:` serves that scenario until the block ends.

    `clock` dates what the simulated cluster does (new pods, events, progress deadlines); pass the
    ManualClock a test verifies with, so "600 s without progress" takes no time.
    """

    scenario: str
    clock: Clock = SYSTEM_CLOCK
    now: datetime | None = None  # the scenario's `{now}`; the clock's time when not given
    requests: list[Recorded] = field(default_factory=list)
    missing_apis: set[str] = field(default_factory=set)  # e.g. {"metrics.k8s.io/v1beta1"}: not installed
    failures: dict[tuple[str, str], int] = field(default_factory=dict)  # (plural, verb), "*" = any -> code
    delay_s: float = 0.0
    objects: list[dict[str, Any]] = field(default_factory=list)
    logs: dict[str, dict[str, str]] = field(default_factory=dict)
    _server: QuietServer | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _dir: tempfile.TemporaryDirectory[str] | None = None

    def __post_init__(self) -> None:
        self.now = self.now or self.clock.now().replace(microsecond=0)
        doc = fill_now(load_scenario(self.scenario), self.now)
        self.objects, self.logs, self.delay_s = doc["objects"], doc["logs"], float(doc.get("delay_s") or 0)
        self.store = Store(self.objects, self.clock)
        kubelet = Kubelet(self.store, self.clock, self.logs, doc["bad_images"], doc["node_free_memory"])
        self.controller = Controller(self.store, kubelet, self.clock)
        self.store.on_change = self.controller.touched

    # --- what a test uses ---

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def kubeconfig_path(self) -> str:
        assert self._dir is not None, "start the fake first"
        return str(Path(self._dir.name) / "kubeconfig")

    def fail(self, code: int, resource: str = "*", verb: str = "*") -> None:
        """Answer requests for `resource` (a plural such as "pods", or "*") with this HTTP error.

        `verb` narrows it to one of get, list, create, update, patch, delete (e.g. RBAC that allows reads).
        """
        self.failures[(resource, verb)] = code

    def get(self, kind: str, name: str) -> dict[str, Any]:
        """A served object as stored now (writes replace objects: fetch it again after one)."""
        return next(o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name)

    def writes(self) -> list[Recorded]:
        """The requests that asked for a change (dry runs included)."""
        return [r for r in self.requests if r.method != "GET"]

    def __enter__(self) -> FakeKubeApi:
        self._server = serve(self._serve)
        self._dir = tempfile.TemporaryDirectory(prefix="fake-kube-")
        Path(self.kubeconfig_path).write_text(yaml.safe_dump(self.kubeconfig()))
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()  # release delayed responses
        stop(self._server)
        if self._dir is not None:
            self._dir.cleanup()

    def kubeconfig(self, token: str = TOKEN) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": "fake-cluster", "cluster": {"server": self.url}}],
            "users": [{"name": "chatops-bot", "user": {"token": token}}],
            "contexts": [
                {
                    "name": CONTEXT,
                    "context": {"cluster": "fake-cluster", "user": "chatops-bot", "namespace": NAMESPACE},
                }
            ],
            "current-context": CONTEXT,
        }

    # --- serving ---

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        query = dict(parse_qsl(parts.query))
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        content_type = (handler.headers.get("Content-Type") or "").split(";")[0].strip() or None
        try:
            shown: Any = json.loads(raw) if raw else None
        except ValueError:
            shown = raw.decode(errors="replace")
        self.requests.append(
            Recorded(handler.command, parts.path, query, shown, content_type if raw else None)
        )
        if self.delay_s:
            self._stop.wait(self.delay_s)
        try:
            if handler.headers.get("Authorization") != f"Bearer {TOKEN}":
                raise status(401, "Unauthorized", "Unauthorized")
            with self._lock:  # probes run concurrently; the controllers and writes see one state
                code, body = self._route(handler.command, parts.path, query, raw, content_type)
            reply = Reply(code, body)
        except Reply as answer:
            reply = answer
        text = reply.body if isinstance(reply.body, str) else json.dumps(reply.body)
        data = text.encode()
        try:
            handler.send_response(reply.code)
            handler.send_header("Content-Type", reply.content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:  # the client timed out and closed the connection
            pass

    def _route(
        self, method: str, path: str, query: dict[str, str], raw: bytes, content_type: str | None
    ) -> tuple[int, Any]:
        parts = path.strip("/").split("/")
        if parts[:2] == ["api", "v1"]:
            api_version, rest = "v1", parts[2:]
        elif parts[0] == "apis" and len(parts) >= 4:
            api_version, rest = f"{parts[1]}/{parts[2]}", parts[3:]
        else:
            raise status(404, "NotFound", "the server could not find the requested resource")
        if api_version in self.missing_apis:  # an API group that is not installed
            raise Reply(404, "404 page not found\n", "text/plain; charset=utf-8")
        namespace = None
        if rest[:1] == ["namespaces"] and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        plural, name, sub = ([*rest, None, None])[:3]
        if (
            plural is None
            or (api_version, plural) not in RESOURCES
            or len(rest) > 3
            or (sub is not None and (plural, sub) not in SUBRESOURCES)
        ):
            raise status(404, "NotFound", "the server could not find the requested resource")
        verb = VERBS.get(method, "get" if name else "list")
        self._forced_failure(api_version, plural, name, namespace, verb)
        if method == "GET":
            if (api_version, plural) in TICKS and sub is None:
                self.controller.tick()
            return 200, self._read(api_version, plural, namespace, name, sub, query)
        if method not in VERBS or api_version in READ_ONLY_APIS or sub == "log":
            raise _not_allowed()
        dry_run, body, store = _dry_run(query), parse_body(raw), self.store
        if method in ("POST", "PUT") and content_type not in (None, "application/json"):
            message = "the body of the request was in an unknown format - accepted media types include: application/json"
            raise status(415, "UnsupportedMediaType", message)
        if method == "POST":
            if name is not None:
                raise _not_allowed()
            return 201, store.create(api_version, plural, namespace, body, dry_run)
        if name is None:  # collections are created into, not replaced, patched or (here) deleted
            raise _not_allowed()
        if sub == "scale":
            if method == "DELETE":
                raise _not_allowed()
            patch_type = content_type or "" if method == "PATCH" else None
            return 200, store.write_scale(namespace, name, body, dry_run, patch_type)
        if method == "PUT":
            return 200, store.replace(api_version, plural, namespace, name, body, dry_run)
        if method == "PATCH":
            return 200, store.patch(api_version, plural, namespace, name, content_type or "", body, dry_run)
        return 200, store.delete(api_version, plural, namespace, name, body, dry_run)

    def _read(
        self, api_version: str, plural: str, namespace: str | None, name: str | None, sub: str | None,
        query: dict[str, str],
    ) -> Any:  # fmt: skip
        if name is None:
            return self._list(api_version, plural, namespace, query)
        found = self.store.find(api_version, plural, namespace, name)
        if sub == "log":
            raise Reply(200, self._log(found, query), "text/plain")
        if sub == "scale":
            return self.store.scale_of(found)
        return found

    def _forced_failure(
        self, api_version: str, plural: str, name: str | None, namespace: str | None, verb: str
    ) -> None:
        codes = [self.failures.get(key) for key in ((plural, verb), (plural, "*"), ("*", verb), ("*", "*"))]
        code = next((c for c in codes if c is not None), None)
        if code is None:
            return
        group = group_of(api_version)
        if code == 403:
            target = f'{resource_name(plural, group)} "{name}"' if name else resource_name(plural, group)
            scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            message = (
                f'{target} is forbidden: User "{BOT_USER}" cannot {verb} resource "{plural}" '
                f'in API group "{group}" {scope}'
            )
            raise status(403, "Forbidden", message, {"name": name or "", "group": group, "kind": plural})
        reasons = {401: "Unauthorized", 404: "NotFound", 500: "InternalError", 503: "ServiceUnavailable"}
        raise status(code, reasons.get(code, "Unknown"), reasons.get(code, "error"))

    def _list(
        self, api_version: str, plural: str, namespace: str | None, query: dict[str, str]
    ) -> dict[str, Any]:
        items = [
            o for o in self.store.matching(api_version, plural, namespace)
            if labels_match(query.get("labelSelector", ""), o["metadata"].get("labels") or {})
            and fields_match(query.get("fieldSelector", ""), o)
        ]  # fmt: skip
        limit = int(query.get("limit") or 0)
        metadata: dict[str, Any] = {"resourceVersion": self.store.version}
        if limit and len(items) > limit:
            items, metadata = items[:limit], {**metadata, "continue": "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ"}
        if group_of(api_version) not in CUSTOM_GROUPS:
            items = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in items]
        kind = RESOURCES[(api_version, plural)]
        return {"kind": f"{kind}List", "apiVersion": api_version, "metadata": metadata, "items": items}

    def _log(self, pod: dict[str, Any], query: dict[str, str]) -> str:
        name = pod["metadata"]["name"]
        containers = [c["name"] for c in pod["spec"]["containers"]]
        container = query.get("container") or (containers[0] if len(containers) == 1 else None)
        if container not in containers:
            raise status(400, "BadRequest", f"container {container} is not valid for pod {name}")
        previous = query.get("previous") == "true"
        text = self.logs.get(name, {}).get("previous" if previous else "current")
        if text is None and previous:
            message = f'previous terminated container "{container}" in pod "{name}" not found'
            raise status(400, "BadRequest", message)
        if text is None and not _ever_started(pod):
            message = f'container "{container}" in pod "{name}" is waiting to start: ContainerCreating'
            raise status(400, "BadRequest", message)
        lines = (text or "").splitlines()
        if query.get("sinceSeconds"):
            lines = _since(lines, self.clock.now() - timedelta(seconds=int(query["sinceSeconds"])))
        if query.get("tailLines"):
            lines = lines[-int(query["tailLines"]) :]
        return "".join(line + "\n" for line in lines)


def _not_allowed() -> Reply:
    return status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")


def _dry_run(query: dict[str, str]) -> bool:
    value = query.get("dryRun")
    if value not in (None, "All"):
        raise status(400, "BadRequest", f'dryRun: Unsupported value: "{value}": supported values: "All"')
    return value == "All"


def _since(lines: list[str], start: datetime) -> list[str]:
    """Lines written at or after `start`; a line without a timestamp belongs to the one before it."""
    kept, keep = [], True
    for line in lines:
        stamp = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)", line)
        if stamp:
            keep = datetime.strptime(stamp.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) >= start
        if keep:
            kept.append(line)
    return kept


def _ever_started(pod: dict[str, Any]) -> bool:
    """Whether a pod's first container has run (so the kubelet has logs for it)."""
    statuses = pod.get("status", {}).get("containerStatuses") or [{}]
    return "running" in statuses[0].get("state", {}) or "terminated" in statuses[0].get("lastState", {})
