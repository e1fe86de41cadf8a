"""A simulated Kubernetes API server (read side) serving a scenario's objects at the REST paths the official client calls.

A scenario is `sandbox/scenarios/<name>.yaml`: Kubernetes objects as YAML, pod logs (current and previous
container) and an optional `delay_s` before every response. `base: <scenario>` starts from another scenario;
objects replace the base's object of the same kind and name, `patches` deep-merge into base objects (by
kind and name), `remove` drops some. Any string may hold
`{now-7m}` / `{now+60d}` (s, m, h, d): replaced by that UTC time at load, so "minutes ago" stays true.

Served: `GET /api/v1/...` and `GET /apis/<group>/<version>/...`, lists (labelSelector, fieldSelector, limit),
single objects, and `pods/<name>/log` (container, previous, tailLines, sinceSeconds). Missing things get the
API server's 404 Status; wrong bearer tokens 401; `fail()` forces an error; anything but GET is refused.
Every request is recorded in `.requests`; `.kubeconfig_path` is a kubeconfig whose context `fake` points here.
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

from sandbox.serving import QuietServer, serve, stop

FIXTURES = Path(__file__).resolve().parent / "scenarios"
NAMESPACE, DEPLOYMENT, CONTEXT, TOKEN = "arch-separation", "api-gateway", "fake", "fake-bot-token"
BOT_USER = "system:serviceaccount:chatops:chatops-bot"
RESOURCES = {  # (apiVersion, plural) -> kind: what the fake serves
    ("v1", "pods"): "Pod", ("v1", "events"): "Event", ("v1", "services"): "Service",
    ("v1", "endpoints"): "Endpoints", ("v1", "configmaps"): "ConfigMap", ("v1", "nodes"): "Node",
    ("v1", "secrets"): "Secret", ("apps/v1", "deployments"): "Deployment", ("apps/v1", "replicasets"): "ReplicaSet",
    ("metrics.k8s.io/v1beta1", "pods"): "PodMetrics",
    ("autoscaling/v2", "horizontalpodautoscalers"): "HorizontalPodAutoscaler",
    ("networking.k8s.io/v1", "networkpolicies"): "NetworkPolicy", ("networking.k8s.io/v1", "ingresses"): "Ingress",
    ("cert-manager.io/v1", "certificates"): "Certificate",
}  # fmt: skip
CUSTOM_GROUPS = {
    "cert-manager.io"
}  # CRDs: list items keep apiVersion and kind, as the real server sends them
_NOW = re.compile(r"\{now(?:([+-]\d+)([smhd]))?\}")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]


class Reply(Exception):
    """An answer other than 200 JSON: raised by the routing code, written by the handler."""

    def __init__(self, code: int, body: Any, content_type: str = "application/json") -> None:
        super().__init__(code)
        self.code, self.body, self.content_type = code, body, content_type


def status(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> Reply:
    """The API server's Status object for a failed request."""
    body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message}
    return Reply(code, {**body, "reason": reason, "details": details or {}, "code": code})


def _fill_now(value: Any, now: datetime) -> Any:
    """Replace `{now±N<unit>}` in every string of a loaded fixture with an RFC 3339 UTC time."""
    if isinstance(value, dict):
        return {k: _fill_now(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill_now(v, now) for v in value]
    if isinstance(value, str):

        def at(match: re.Match[str]) -> str:
            offset = (
                timedelta(**{_UNITS[match.group(2)]: int(match.group(1))}) if match.group(1) else timedelta()
            )
            return (now + offset).strftime("%Y-%m-%dT%H:%M:%SZ")

        return _NOW.sub(at, value)
    return value


def load_scenario(name: str) -> dict[str, Any]:
    """A scenario's raw YAML with its `base` chain applied (objects by kind+name, logs by pod)."""
    doc: dict[str, Any] = yaml.safe_load((FIXTURES / f"{name}.yaml").read_text())
    if "base" not in doc:
        return {"objects": [], "logs": {}, **doc}
    merged = load_scenario(doc["base"])
    key = lambda o: (o["kind"], o["metadata"]["name"])  # noqa: E731
    overrides = {key(o) for o in doc.get("objects", [])}
    drop = [(r["kind"], r.get("name")) for r in doc.get("remove", [])]
    kept = [
        o for o in merged["objects"]
        if key(o) not in overrides and not any(k == o["kind"] and n in (None, key(o)[1]) for k, n in drop)
    ]  # fmt: skip
    for patch in doc.get("patches", []):
        target = next(o for o in kept if key(o) == (patch["kind"], patch["metadata"]["name"]))
        _deep_merge(target, patch)
    logs = {p: v for p, v in merged["logs"].items() if ("Pod", None) not in drop}
    return {
        "objects": kept + doc.get("objects", []),
        "logs": {**logs, **doc.get("logs", {})},
        "delay_s": doc.get("delay_s", merged.get("delay_s", 0)),
    }


def _deep_merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(target.get(k), dict):
            target[k] = dict(target[k])  # YAML anchors share dicts: copy before changing
            _deep_merge(target[k], v)
        else:
            target[k] = v


@dataclass
class FakeKubeApi:
    """`with FakeKubeApi("crashloop-oom") as fake:` serves that scenario until the block ends."""

    scenario: str
    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    requests: list[Recorded] = field(default_factory=list)
    missing_apis: set[str] = field(default_factory=set)  # e.g. {"metrics.k8s.io/v1beta1"}: not installed
    failures: dict[str, int] = field(default_factory=dict)  # resource plural ("*" for all) -> forced code
    delay_s: float = 0.0
    objects: list[dict[str, Any]] = field(default_factory=list)
    logs: dict[str, dict[str, str]] = field(default_factory=dict)
    _server: QuietServer | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _dir: tempfile.TemporaryDirectory[str] | None = None

    def __post_init__(self) -> None:
        doc = _fill_now(load_scenario(self.scenario), self.now)
        self.objects, self.logs, self.delay_s = doc["objects"], doc["logs"], float(doc.get("delay_s") or 0)

    # --- what a test uses ---

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def kubeconfig_path(self) -> str:
        assert self._dir is not None, "start the fake first"
        return str(Path(self._dir.name) / "kubeconfig")

    def fail(self, code: int, resource: str = "*") -> None:
        """Answer every request for `resource` (a plural such as "pods", or "*") with this HTTP error."""
        self.failures[resource] = code

    def get(self, kind: str, name: str) -> dict[str, Any]:
        """A served object, to change it in a test."""
        return next(o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name)

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
        self.requests.append(Recorded(handler.command, parts.path, query))
        if self.delay_s:
            self._stop.wait(self.delay_s)
        try:
            if handler.command != "GET":
                raise status(405, "MethodNotAllowed", "the fake API server is read-only")
            if handler.headers.get("Authorization") != f"Bearer {TOKEN}":
                raise status(401, "Unauthorized", "Unauthorized")
            reply = Reply(200, self._route(parts.path, query))
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

    def _route(self, path: str, query: dict[str, str]) -> Any:
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
            or (sub is not None and (sub, plural) != ("log", "pods"))
        ):
            raise status(404, "NotFound", "the server could not find the requested resource")
        self._forced_failure(api_version, plural, name, namespace)
        if name is None:
            return self._list(api_version, plural, namespace, query)
        found = self._find(api_version, plural, namespace, name)
        if sub == "log":
            raise Reply(200, self._log(found, query), "text/plain")
        return found

    def _forced_failure(self, api_version: str, plural: str, name: str | None, namespace: str | None) -> None:
        code = self.failures.get(plural, self.failures.get("*"))
        if code is None:
            return
        group = api_version.rpartition("/")[0]
        if code == 403:
            verb, target = ("get", f'{plural} "{name}"') if name else ("list", plural)
            scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
            message = (
                f'{target} is forbidden: User "{BOT_USER}" cannot {verb} resource "{plural}" '
                f'in API group "{group}" {scope}'
            )
            raise status(403, "Forbidden", message, {"name": name or "", "group": group, "kind": plural})
        reasons = {401: "Unauthorized", 404: "NotFound", 500: "InternalError", 503: "ServiceUnavailable"}
        raise status(code, reasons.get(code, "Unknown"), reasons.get(code, "error"))

    def _matching(self, api_version: str, plural: str, namespace: str | None) -> list[dict[str, Any]]:
        kind = RESOURCES[(api_version, plural)]
        return [
            o for o in self.objects
            if (o["apiVersion"], o["kind"]) == (api_version, kind)
            and namespace in (None, o["metadata"].get("namespace"))
        ]  # fmt: skip

    def _list(
        self, api_version: str, plural: str, namespace: str | None, query: dict[str, str]
    ) -> dict[str, Any]:
        items = [
            o for o in self._matching(api_version, plural, namespace)
            if labels_match(query.get("labelSelector", ""), o["metadata"].get("labels") or {})
            and fields_match(query.get("fieldSelector", ""), o)
        ]  # fmt: skip
        limit = int(query.get("limit") or 0)
        metadata: dict[str, Any] = {"resourceVersion": "918273"}
        if limit and len(items) > limit:
            items, metadata = items[:limit], {**metadata, "continue": "eyJ2IjoibWV0YS5rOHMuaW8vdjEifQ"}
        if api_version.rpartition("/")[0] not in CUSTOM_GROUPS:
            items = [{k: v for k, v in o.items() if k not in ("apiVersion", "kind")} for o in items]
        kind = RESOURCES[(api_version, plural)]
        return {"kind": f"{kind}List", "apiVersion": api_version, "metadata": metadata, "items": items}

    def _find(self, api_version: str, plural: str, namespace: str | None, name: str) -> dict[str, Any]:
        for obj in self._matching(api_version, plural, namespace):
            if obj["metadata"]["name"] == name:
                return obj
        group = api_version.rpartition("/")[0]
        resource = f"{plural}.{group}" if group else plural
        details = {"name": name, "group": group, "kind": plural}
        raise status(404, "NotFound", f'{resource} "{name}" not found', details)

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
            lines = self._since(lines, self.now - timedelta(seconds=int(query["sinceSeconds"])))
        if query.get("tailLines"):
            lines = lines[-int(query["tailLines"]) :]
        return "".join(line + "\n" for line in lines)

    @staticmethod
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


def labels_match(selector: str, labels: dict[str, str]) -> bool:
    """A label selector (`a=b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, comma-separated) against labels."""
    for term in filter(None, (t.strip() for t in re.split(r",(?![^(]*\))", selector))):
        if match := re.fullmatch(r"(\S+)\s+(in|notin)\s+\((.*)\)", term):
            key, op, values = match.group(1), match.group(2), {v.strip() for v in match.group(3).split(",")}
            if (labels.get(key) in values) != (op == "in"):
                return False
        elif match := re.fullmatch(r"([^!=\s]+)\s*(==|=|!=)\s*(\S*)", term):
            key, op, value = match.groups()
            if (labels.get(key) == value) != (op != "!="):
                return False
        elif (term.startswith("!") and term[1:] in labels) or (
            not term.startswith("!") and term not in labels
        ):
            return False
    return True


def fields_match(selector: str, obj: dict[str, Any]) -> bool:
    """A field selector (`type=Warning`, `involvedObject.name=x`, `status.phase!=Running`) against an object."""
    for term in filter(None, (t.strip() for t in selector.split(","))):
        path, op, value = re.fullmatch(r"([\w.]+)\s*(==|=|!=)\s*(.*)", term).groups()  # type: ignore[union-attr]
        found: Any = obj
        for part in path.split("."):
            found = found.get(part) if isinstance(found, dict) else None
        if (str(found or "") == value) != (op != "!="):
            return False
    return True
