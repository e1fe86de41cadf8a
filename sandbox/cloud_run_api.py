"""A local Cloud Run Admin API v2 speaking the REST protocol of the official client (`google-cloud-run`).

Routes (under /v2/projects/{p}/locations/{r}/):

    GET   services/{s}                   the Service
    GET   services/{s}/revisions         its Revisions (ListRevisionsResponse, one page)
    GET   services/{s}/revisions/{rev}   one Revision
    PATCH services/{s}?updateMask=...    UpdateService: a long-running Operation
    GET   operations/{op}                the Operation, done after `operation_polls` reads (0: at once)

Behaviour, as Cloud Run answers: a body `etag` other than the service's is 409 ABORTED; traffic whose percents
do not sum to 100, or that names a revision that does not exist or is not ready, is 400 INVALID_ARGUMENT; only
the updateMask's paths change (all writable fields without one); `validateOnly` changes nothing. A template
change makes a new revision `<service>-000NN-xyz` (NN: the new generation) unless the template names one (an
existing name is 409 "with different configuration already exists"). It becomes ready when its operation is
done (`rollout="ready"`), or fails at once, Cloud Run still retrying, and its operation ends with the
revision's error (`rollout="failed"`). Traffic statuses follow when the operation is done. Answers honour the
client's `$alt=json;enum-encoding=int`; errors are Google's JSON error. Every request is recorded (method,
path, query, body, Authorization) so tests can prove probes only read and an approved action sent one PATCH.

It serves one service, imgstream-production in imgstream-prod / us-central1, in one of the STATES below. The
sandbox (`chatops shell --sandbox`) serves the state its scenario names (`scenario_fixture`), dated from the
scenario's now, and a `clock` dates the revisions updates create.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any, Literal
from urllib.parse import parse_qs, urlsplit

from google.cloud import run_v2
from google.protobuf import json_format

from bot.clock import Clock
from sandbox.kube_scenario import fill_now, load_scenario
from sandbox.serving import QuietServer, google_error, reply_json, serve, stop

PROJECT, REGION, SERVICE = "imgstream-prod", "us-central1", "imgstream-production"
PARENT = f"projects/{PROJECT}/locations/{REGION}"
SERVICE_NAME = f"{PARENT}/services/{SERVICE}"
PREVIOUS, GOOD, BAD = f"{SERVICE}-00041-q7r", f"{SERVICE}-00042-xyz", f"{SERVICE}-00043-abc"
LATEST, REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"
IMAGE = f"us-central1-docker.pkg.dev/{PROJECT}/imgstream/api"
SERVICE_TYPE = "type.googleapis.com/google.cloud.run.v2.Service"
PORT_FAILURE = (
    "The user-provided container failed to start and listen on the port defined provided by the PORT=8080 "
    "environment variable. Logs for this revision might contain more information.\n\n"
    f"Logs URL: https://console.cloud.google.com/logs/viewer?project={PROJECT}&resource=cloud_run_revision/"
    f"service_name/{SERVICE}/revision_name/{BAD}\n"
    "For more troubleshooting guidance, see https://cloud.google.com/run/docs/troubleshooting#container-failed-to-start"
)
# What the server owns: left alone by an update, whatever the body says.
SERVER_OWNED = frozenset(
    {
        "name", "uid", "generation", "createTime", "updateTime", "deleteTime", "expireTime", "creator",
        "lastModifier", "urls", "observedGeneration", "terminalCondition", "conditions", "latestReadyRevision",
        "latestCreatedRevision", "trafficStatuses", "uri", "satisfiesPzs", "reconciling", "etag",
    }
)  # fmt: skip
Fixture = tuple[dict[str, Any], list[dict[str, Any]]]


def _condition(
    kind: str, state: str = "CONDITION_SUCCEEDED", message: str = "", **extra: str
) -> dict[str, Any]:
    condition = {"type": kind, "state": state, "lastTransitionTime": "2025-03-14T13:58:02.118Z", **extra}
    return {**condition, "message": message} if message else condition


def _template(version: str, **changes: Any) -> dict[str, Any]:
    """A revision template as the API returns it (the server fills in cpu, memory, timeout, concurrency)."""
    container = {
        "image": f"{IMAGE}:{version}",
        "ports": [{"name": "http1", "containerPort": 8080}],
        "env": [{"name": "ENVIRONMENT", "value": "production"}],
        "resources": {"limits": {"cpu": "1000m", "memory": "512Mi"}, "cpuIdle": True},
    }
    return {
        "scaling": {"maxInstanceCount": 100},
        "timeout": "300s",
        "serviceAccount": f"imgstream-cloud-run-production@{PROJECT}.iam.gserviceaccount.com",
        "containers": [container],
        "maxInstanceRequestConcurrency": 80,
        **changes,
    }


def _revision(
    short: str, created: str, template: dict[str, Any], *conditions: dict[str, Any]
) -> dict[str, Any]:
    spec = {key: value for key, value in template.items() if key != "revision"}
    return {
        "name": f"{SERVICE_NAME}/revisions/{short}",
        "service": SERVICE,
        "generation": "1",
        "createTime": created,
        **copy.deepcopy(spec),
        "conditions": list(conditions),
        "logUri": f"https://console.cloud.google.com/logs/viewer?project={PROJECT}&resource=cloud_run_revision/"
        f"service_name/{SERVICE}/revision_name/{short}",
        "observedGeneration": "1",
    }


def _ready_revision(short: str, created: str, template: dict[str, Any]) -> dict[str, Any]:
    return _revision(short, created, template, _condition("Ready"), _condition("ContainerHealthy"))


def _failed_revision(short: str, created: str, template: dict[str, Any]) -> dict[str, Any]:
    reason = {"revisionReason": "HEALTH_CHECK_CONTAINER_ERROR"}
    return _revision(
        short,
        created,
        template,
        _condition("ResourcesAvailable"),
        _condition("ContainerHealthy", "CONDITION_FAILED", PORT_FAILURE, **reason),
        _condition("Ready", "CONDITION_FAILED", PORT_FAILURE, **reason),
    )


def healthy() -> Fixture:
    """Revision 00042 (image 1.8.2) ready and serving all traffic as latest; 00041 (1.8.1) before it."""
    service = {
        "name": SERVICE_NAME,
        "uid": "0b4f7c5e-8a51-4d4b-9c31-9c0e3a6e2d11",
        "generation": "42",
        "uri": "https://imgstream-production-3k2j4h5g6a-uc.a.run.app",
        "template": _template("1.8.2"),
        "latestCreatedRevision": f"{SERVICE_NAME}/revisions/{GOOD}",
        "latestReadyRevision": f"{SERVICE_NAME}/revisions/{GOOD}",
        "terminalCondition": _condition("Ready"),
        "conditions": [_condition("RoutesReady"), _condition("ConfigurationsReady")],
        "traffic": [{"type": LATEST, "percent": 100}],
        "trafficStatuses": [{"type": LATEST, "percent": 100}],
        "observedGeneration": "42",
        "etag": _etag(42),
    }
    return service, [
        _ready_revision(PREVIOUS, "2025-03-12T10:02:11.204Z", _template("1.8.1")),
        _ready_revision(GOOD, "2025-03-14T13:55:40.533Z", _template("1.8.2")),
    ]


def failed_latest_revision() -> Fixture:
    """Revision 00043 (image 1.9.0) never became ready (its container did not listen on PORT); 00042 serves."""
    service, revisions = healthy()
    not_ready = f"Revision '{BAD}' is not ready and cannot serve traffic. {PORT_FAILURE}"
    service.update(
        generation="43",
        observedGeneration="43",
        etag=_etag(43),
        template=_template("1.9.0"),
        latestCreatedRevision=f"{SERVICE_NAME}/revisions/{BAD}",
        terminalCondition=_condition("Ready", "CONDITION_FAILED", not_ready),
        conditions=[
            _condition("ConfigurationsReady", "CONDITION_FAILED", not_ready),
            _condition("RoutesReady"),
        ],
        trafficStatuses=[{"type": REVISION, "revision": GOOD, "percent": 100}],
    )
    return service, [*revisions, _failed_revision(BAD, "2025-03-14T13:57:12.090Z", _template("1.9.0"))]


def pinned_to_previous() -> Fixture:
    """Traffic rolled back to 00041 (all of it, by revision) while 00042 is the latest ready revision."""
    service, revisions = healthy()
    pinned = [{"type": REVISION, "revision": PREVIOUS, "percent": 100}]
    service.update(generation="43", observedGeneration="43", etag=_etag(43), traffic=pinned)
    service["trafficStatuses"] = copy.deepcopy(pinned)
    return service, revisions


STATES: dict[str, Callable[[], Fixture]] = {
    "healthy": healthy,
    "failed-latest-revision": failed_latest_revision,
    "pinned-to-previous": pinned_to_previous,
}


def dated(fixture: Fixture, newest: datetime) -> Fixture:
    """The fixture moved in time, every timestamp alike, so that its newest revision was created at `newest`."""
    service, revisions = copy.deepcopy(fixture)
    shift = newest - max(datetime.fromisoformat(r["createTime"]) for r in revisions)
    return _shifted(service, shift), [_shifted(r, shift) for r in revisions]


def scenario_fixture(scenario: str, now: datetime) -> Fixture:
    """The state a scenario of the sandbox picks (its `cloud_run: {state, newest}`), dated from `now`."""
    picked = fill_now(load_scenario(scenario), now)["cloud_run"]
    if picked is None or picked.get("state") not in STATES:
        raise ValueError(f"scenario {scenario} names no Cloud Run state of {', '.join(STATES)}")
    return dated(STATES[picked["state"]](), datetime.fromisoformat(picked["newest"]))


def _shifted(resource: Any, shift: timedelta) -> Any:
    if isinstance(resource, dict):
        return {
            key: _timestamp(datetime.fromisoformat(value) + shift)
            if key.endswith("Time") and isinstance(value, str)
            else _shifted(value, shift)
            for key, value in resource.items()
        }
    if isinstance(resource, list):
        return [_shifted(value, shift) for value in resource]
    return resource


def _timestamp(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _etag(generation: int) -> str:
    return f'"CPeZ2r4GEKjN0pMB/{generation:04d}cHJvamVjdHMvaW1nc3RyZWFt"'


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: str
    authorization: str | None
    body: dict[str, Any] | None = None

    @property
    def params(self) -> dict[str, str]:
        return {key: values[-1] for key, values in parse_qs(self.query).items()}


@dataclass
class _Operation:
    name: str
    service: str
    polls_left: int
    finish: Any  # () -> error dict | None, run once when the operation completes
    error: dict[str, Any] | None = None
    done: bool = False


class _ApiError(Exception):
    def __init__(self, code: int, message: str, status: str) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


@dataclass
class FakeCloudRun:
    """Serves services and their revisions; `status` forces an error answer for every request."""

    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    revisions: dict[str, dict[str, Any]] = field(default_factory=dict)
    operations: dict[str, _Operation] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    status: tuple[int, str, str] | None = None  # (code, message, status) of a forced error
    operation_polls: int = 0  # reads of an operation before it is done (0: done in the PATCH answer)
    rollout: Literal["ready", "failed"] = "ready"  # what becomes of a revision an update creates
    clock: Clock | None = None  # dates the revisions updates create (None: the fixtures' 2025-03-14)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: QuietServer | None = None

    def serve(self, fixture: Fixture) -> FakeCloudRun:
        service, revisions = copy.deepcopy(fixture)
        self.services = {service["name"]: service}
        self.revisions = {r["name"]: r for r in revisions}
        return self

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def only_reads(self) -> bool:
        return all(r.method == "GET" for r in self.requests)

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method != "GET"]

    def service(self, name: str = SERVICE_NAME) -> dict[str, Any]:
        return self.services[name]

    def __enter__(self) -> FakeCloudRun:
        self._server = serve(self._serve)
        return self

    def __exit__(self, *exc: object) -> None:
        stop(self._server)

    # --- the protocol ------------------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length).decode() if length else ""
        body = json.loads(raw) if raw else None
        self.requests.append(
            Recorded(handler.command, parts.path, parts.query, handler.headers.get("Authorization"), body)
        )
        query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        ints = "enum-encoding=int" in query.get("$alt", "")
        try:
            if self.status is not None:
                raise _ApiError(*self.status)
            with self._lock:
                answer = self._route(handler.command, parts.path.removeprefix("/v2/"), query, raw)
        except _ApiError as err:
            return reply_json(handler, err.code, google_error(err.code, err.message, err.status))
        kind, resource = answer
        reply_json(handler, 200, _wire(kind, resource, ints))

    def _route(self, method: str, name: str, query: dict[str, str], raw: str) -> tuple[Any, dict[str, Any]]:
        if method == "GET" and "/operations/" in name:
            return "operation", self._poll(name)
        if method == "GET" and name.endswith("/revisions"):
            service = self._service(name.removesuffix("/revisions"))
            revisions = [r for r in self.revisions.values() if r["name"].startswith(f"{service['name']}/")]
            newest_first = sorted(revisions, key=lambda r: r["createTime"], reverse=True)
            return run_v2.ListRevisionsResponse, {"revisions": newest_first}
        if method == "GET" and "/revisions/" in name:
            return run_v2.Revision, self._revision(name)
        if method == "GET":
            return run_v2.Service, self._service(name)
        if method == "PATCH" and "/revisions/" not in name:
            return "operation", self._patch(name, query, raw)
        raise _ApiError(405, f"Method {method} is not allowed on '{name}'.", "METHOD_NOT_ALLOWED")

    def _service(self, name: str) -> dict[str, Any]:
        if name not in self.services:
            raise _not_found("SERVICE", name)
        return self.services[name]

    def _revision(self, name: str) -> dict[str, Any]:
        if name not in self.revisions:
            raise _not_found("REVISION", name)
        return self.revisions[name]

    def _patch(self, name: str, query: dict[str, str], raw: str) -> dict[str, Any]:
        current = self._service(name)
        try:
            sent = json_format.MessageToDict(json_format.Parse(raw or "{}", run_v2.Service.pb()()))
        except json_format.ParseError as err:
            raise _ApiError(400, f"Invalid JSON payload received. {err}", "INVALID_ARGUMENT") from None
        if sent.get("etag") and sent["etag"] != current["etag"]:
            raise _ApiError(
                409,
                f"Resource '{current['name']}' has changed: the request's etag {sent['etag']} is not the "
                f"current etag {current['etag']}.",
                "ABORTED",
            )
        updated = _apply(current, sent, query.get("updateMask"))
        self._check_traffic(updated)
        new_revision = self._new_revision_name(current, updated)
        if query.get("validateOnly") == "true":
            return self._operation(updated, polls=0, finish=lambda: None)
        generation = int(current["generation"]) + 1
        updated.update(generation=str(generation), etag=_etag(generation), reconciling=True)
        updated["terminalCondition"] = _condition("Ready", "CONDITION_RECONCILING")
        self.services[name] = updated
        finish = self._finish_traffic
        if new_revision:
            finish = self._create_revision(updated, new_revision, generation)
        return self._operation(updated, self.operation_polls, lambda: finish(updated))

    def _check_traffic(self, service: dict[str, Any]) -> None:
        traffic = service.get("traffic") or []
        total = sum(t.get("percent", 0) for t in traffic)
        if traffic and total != 100:
            raise _ApiError(400, f"Traffic percents must add up to 100, not {total}.", "INVALID_ARGUMENT")
        for target in traffic:
            if target.get("type") != REVISION:
                continue
            revision = self.revisions.get(f"{service['name']}/revisions/{target.get('revision')}")
            if revision is None:
                message = f"Revision named '{target.get('revision')}' referenced in traffic does not exist."
                raise _ApiError(400, message, "INVALID_ARGUMENT")
            if target.get("percent", 0) and not _is_ready(revision):
                message = f"Revision '{target['revision']}' is not ready and cannot serve traffic."
                raise _ApiError(400, message, "INVALID_ARGUMENT")

    def _new_revision_name(self, current: dict[str, Any], updated: dict[str, Any]) -> str | None:
        """The revision a template change creates (None: no change); a name taken already is a conflict."""
        before, after = current.get("template") or {}, updated.get("template") or {}
        named = after.get("revision")
        changed = {k: v for k, v in before.items() if k != "revision"} != {
            k: v for k, v in after.items() if k != "revision"
        }
        if not changed and named == before.get("revision"):
            return None
        short = named or f"{current['name'].rsplit('/', 1)[-1]}-{int(current['generation']) + 1:05d}-xyz"
        if f"{current['name']}/revisions/{short}" in self.revisions:
            message = f"Revision named '{short}' with different configuration already exists."
            raise _ApiError(409, message, "ALREADY_EXISTS")
        return short

    def _create_revision(self, service: dict[str, Any], short: str, generation: int) -> Any:
        """Add the revision as deploying (or failing), and return what completes its operation."""
        created = _timestamp(self.clock.now()) if self.clock else f"2025-03-14T14:{generation % 60:02d}:00Z"
        template = service["template"]
        if self.rollout == "failed":
            revision = _failed_revision(short, created, template)
        else:
            revision = _revision(short, created, template, _condition("Ready", "CONDITION_RECONCILING"))
        self.revisions[revision["name"]] = revision
        service["latestCreatedRevision"] = revision["name"]

        def finish(service: dict[str, Any]) -> dict[str, Any] | None:
            if self.rollout == "failed":
                not_ready = f"Revision '{short}' is not ready and cannot serve traffic. {PORT_FAILURE}"
                service.update(
                    reconciling=False,
                    observedGeneration=service["generation"],
                    terminalCondition=_condition("Ready", "CONDITION_FAILED", not_ready),
                )
                return {"code": 9, "message": not_ready}
            revision["conditions"] = [_condition("Ready"), _condition("ContainerHealthy")]
            service["latestReadyRevision"] = revision["name"]
            self._finish_traffic(service)
            return None

        return finish

    def _finish_traffic(self, service: dict[str, Any]) -> None:
        statuses = []
        for target in service.get("traffic") or [{"type": LATEST, "percent": 100}]:
            status = {key: target[key] for key in ("type", "revision", "percent", "tag") if key in target}
            statuses.append(status)
        service.update(
            reconciling=False,
            observedGeneration=service["generation"],
            terminalCondition=_condition("Ready"),
            trafficStatuses=statuses,
        )

    def _operation(self, service: dict[str, Any], polls: int, finish: Any) -> dict[str, Any]:
        parent = service["name"].split("/services/")[0]
        name = f"{parent}/operations/6f1d2c3b-0000-4000-8000-{len(self.operations):012d}"
        operation = _Operation(name, service["name"], polls, finish)
        self.operations[name] = operation
        if polls == 0:
            self._complete(operation)
        return self._operation_json(operation, service)

    def _poll(self, name: str) -> dict[str, Any]:
        operation = self.operations.get(name)
        if operation is None:
            raise _ApiError(404, f"Operation '{name}' not found.", "NOT_FOUND")
        if not operation.done:
            operation.polls_left -= 1
            if operation.polls_left <= 0:
                self._complete(operation)
        return self._operation_json(operation, self.services[operation.service])

    def _complete(self, operation: _Operation) -> None:
        operation.error = operation.finish()
        operation.done = True

    def _operation_json(self, operation: _Operation, service: dict[str, Any]) -> dict[str, Any]:
        answer: dict[str, Any] = {"name": operation.name, "metadata": service, "done": operation.done}
        if operation.done:
            answer.update({"error": operation.error} if operation.error else {"response": service})
        return answer


def _apply(current: dict[str, Any], sent: dict[str, Any], mask: str | None) -> dict[str, Any]:
    """The service after the update: the mask's paths taken from the body (all writable fields if none)."""
    updated = copy.deepcopy(current)
    paths = [p for p in (mask or "").split(",") if p] or [
        f.camelcase_name
        for f in run_v2.Service.pb().DESCRIPTOR.fields
        if f.camelcase_name not in SERVER_OWNED
    ]
    for path in paths:
        *parents, leaf = path.split(".")
        _check_path(path)
        source: Any = sent
        target = updated
        for key in parents:
            source = (source or {}).get(key)
            target = target.setdefault(key, {})
        if source and leaf in source:
            target[leaf] = copy.deepcopy(source[leaf])
        else:
            target.pop(leaf, None)
    return updated


def _check_path(path: str) -> None:
    descriptor = run_v2.Service.pb().DESCRIPTOR
    for key in path.split("."):
        fields = {f.camelcase_name: f for f in descriptor.fields} if descriptor else {}
        if key not in fields:
            message = f"Invalid update mask: field '{path}' is not a field of Service."
            raise _ApiError(400, message, "INVALID_ARGUMENT")
        descriptor = fields[key].message_type


def _is_ready(revision: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("state") == "CONDITION_SUCCEEDED" for c in revision["conditions"]
    )


def _not_found(kind: str, name: str) -> _ApiError:
    short = name.rsplit("/", 1)[-1]
    message = (
        f"Resource '{short}' of kind '{kind}' in region '{REGION}' in project '{PROJECT}' does not exist."
    )
    return _ApiError(404, message, "NOT_FOUND")


def _wire(kind: Any, resource: dict[str, Any], ints: bool) -> dict[str, Any]:
    """The resource as the API sends it: through its proto type, so fixtures must be real Cloud Run JSON."""
    if kind == "operation":
        wired = dict(resource)
        for key in ("metadata", "response"):
            if key in resource:
                wired[key] = {"@type": SERVICE_TYPE, **_wire(run_v2.Service, resource[key], ints)}
        return wired
    message = json_format.ParseDict(resource, kind.pb()())
    return dict(json_format.MessageToDict(message, use_integers_for_enums=ints))
