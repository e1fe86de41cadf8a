"""A local Cloud Run Admin API v2 (read side) with fixtures shaped like the real Service and Revision JSON.

`GET /v2/projects/{p}/locations/{r}/services/{s}` returns a Service, `GET .../revisions/{rev}` a Revision and
`GET .../services/{s}/revisions` the list; anything unknown is the API's 404 error, and any method but GET is
refused (and recorded, so tests can assert the probe only read).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from sandbox.serving import QuietServer, google_error, reply_json, serve, stop

PROJECT, REGION, SERVICE = "imgstream-prod", "us-central1", "imgstream-production"
SERVICE_NAME = f"projects/{PROJECT}/locations/{REGION}/services/{SERVICE}"
GOOD, BAD = f"{SERVICE}-00042-xyz", f"{SERVICE}-00043-abc"
PORT_FAILURE = (
    "The user-provided container failed to start and listen on the port defined provided by the PORT=8080 "
    "environment variable. Logs for this revision might contain more information.\n\n"
    f"Logs URL: https://console.cloud.google.com/logs/viewer?project={PROJECT}&resource=cloud_run_revision/"
    f"service_name/{SERVICE}/revision_name/{BAD}\n"
    "For more troubleshooting guidance, see https://cloud.google.com/run/docs/troubleshooting#container-failed-to-start"
)


def _condition(
    kind: str, state: str = "CONDITION_SUCCEEDED", message: str = "", **extra: str
) -> dict[str, Any]:
    condition = {"type": kind, "state": state, "lastTransitionTime": "2025-03-14T13:58:02.118Z", **extra}
    return {**condition, "message": message} if message else condition


def _revision(short: str, *conditions: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"{SERVICE_NAME}/revisions/{short}",
        "service": SERVICE,
        "generation": "1",
        "createTime": "2025-03-14T13:55:40.533Z",
        "conditions": list(conditions),
        "logUri": f"https://console.cloud.google.com/logs/viewer?project={PROJECT}&resource=cloud_run_revision/"
        f"service_name/{SERVICE}/revision_name/{short}",
        "observedGeneration": "1",
    }


def healthy() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Latest revision ready and serving all traffic."""
    service = {
        "name": SERVICE_NAME,
        "uid": "0b4f7c5e-8a51-4d4b-9c31-9c0e3a6e2d11",
        "generation": "42",
        "uri": "https://imgstream-production-3k2j4h5g6a-uc.a.run.app",
        "latestCreatedRevision": f"{SERVICE_NAME}/revisions/{GOOD}",
        "latestReadyRevision": f"{SERVICE_NAME}/revisions/{GOOD}",
        "terminalCondition": _condition("Ready"),
        "conditions": [_condition("RoutesReady"), _condition("ConfigurationsReady")],
        "traffic": [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}],
        "trafficStatuses": [{"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST", "percent": 100}],
        "observedGeneration": "42",
        "etag": '"CPeZ2r4GEKjN0pMB/cHJvamVjdHMvaW1nc3RyZWFt"',
    }
    return service, [_revision(GOOD, _condition("Ready"), _condition("ContainerHealthy"))]


def failed_latest_revision() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Revision 00043 never became ready (its container did not listen on PORT); 00042 still serves."""
    service, revisions = healthy()
    not_ready = f"Revision '{BAD}' is not ready and cannot serve traffic. {PORT_FAILURE}"
    service.update(
        generation="43",
        observedGeneration="43",
        latestCreatedRevision=f"{SERVICE_NAME}/revisions/{BAD}",
        terminalCondition=_condition("Ready", "CONDITION_FAILED", not_ready),
        conditions=[
            _condition("ConfigurationsReady", "CONDITION_FAILED", not_ready),
            _condition("RoutesReady"),
        ],
        trafficStatuses=[
            {"type": "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION", "revision": GOOD, "percent": 100}
        ],
    )
    failed = _revision(
        BAD,
        _condition("ResourcesAvailable"),
        _condition(
            "ContainerHealthy",
            "CONDITION_FAILED",
            PORT_FAILURE,
            revisionReason="HEALTH_CHECK_CONTAINER_ERROR",
        ),
        _condition("Ready", "CONDITION_FAILED", PORT_FAILURE, revisionReason="HEALTH_CHECK_CONTAINER_ERROR"),
    )
    return service, [*revisions, failed]


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: str
    authorization: str | None


@dataclass
class FakeCloudRun:
    """Serves one service and its revisions; `status` forces an error answer for every request."""

    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    status: tuple[int, str, str] | None = None  # (code, message, status) of a forced error
    _server: QuietServer | None = None

    def serve(self, fixture: tuple[dict[str, Any], list[dict[str, Any]]]) -> FakeCloudRun:
        service, revisions = fixture
        self.resources = {f"/v2/{r['name']}": r for r in [service, *revisions]}
        self.resources[f"/v2/{service['name']}/revisions"] = {"revisions": revisions}
        return self

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def only_reads(self) -> bool:
        return all(r.method == "GET" for r in self.requests)

    def __enter__(self) -> FakeCloudRun:
        self._server = serve(self._serve)
        return self

    def __exit__(self, *exc: object) -> None:
        stop(self._server)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        self.requests.append(
            Recorded(handler.command, parts.path, parts.query, handler.headers.get("Authorization"))
        )
        if handler.command != "GET":
            return reply_json(handler, 405, google_error(405, "read-only fake", "METHOD_NOT_ALLOWED"))
        if self.status is not None:
            return reply_json(handler, self.status[0], google_error(*self.status))
        found = self.resources.get(parts.path)
        if found is None:
            kind = "REVISION" if "/revisions/" in parts.path else "SERVICE"
            name = parts.path.rsplit("/", 1)[-1]
            message = f"Resource '{name}' of kind '{kind}' in region '{REGION}' in project '{PROJECT}' does not exist."
            return reply_json(handler, 404, google_error(404, message, "NOT_FOUND"))
        reply_json(handler, 200, found)
