"""Cloud Run probe (read-only Admin API v2): latest revision readiness, conditions and traffic split."""

from __future__ import annotations

import threading
from typing import Any

import google.auth
import httpx
from google.auth import exceptions as auth_errors
from google.auth.transport.requests import Request

from bot.findings import ProbeResult
from bot.params import Params
from bot.probes.base import Clients, ProbeContext, ProbeFailure
from bot.severity import Status

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
FAILED = "CONDITION_FAILED"
IN_PROGRESS = ("CONDITION_PENDING", "CONDITION_RECONCILING")
_CACHE_LOCK = threading.Lock()


class CloudRunServiceParams(Params):
    """The Cloud Run service's conditions, latest created vs. ready revision, and where traffic goes."""

    project: str = "{project}"
    region: str = "{region}"
    service: str = "{cloud_run_service}"


def service(ctx: ProbeContext, params: CloudRunServiceParams) -> ProbeResult:
    ctx.render(f"{params.project} {params.region} {params.service}")  # a skip names every missing value
    project, region, name = ctx.render(params.project), ctx.render(params.region), ctx.render(params.service)
    base = ctx.clients.cloud_run_endpoint.rstrip("/")
    what = f"service '{name}' in project {project}, region {region}"
    with httpx.Client(verify=ctx.clients.tls(), timeout=ctx.remaining()) as http:
        svc = _get(ctx, http, f"{base}/v2/projects/{project}/locations/{region}/services/{name}", what)
        created, ready = svc.get("latestCreatedRevision") or "", svc.get("latestReadyRevision") or ""
        revision = None
        if created and created != ready:  # the newest revision is not serving: its conditions say why
            try:
                revision = _get(ctx, http, f"{base}/v2/{created}", f"revision {_short(created)}")
            except ProbeFailure:
                revision = None  # the service's own conditions still tell the story
    status, summary = assess(svc, revision)
    return ProbeResult(status, summary, _evidence(svc, revision), _data(svc))


def assess(svc: dict[str, Any], revision: dict[str, Any] | None = None) -> tuple[Status, str]:
    """Status and one-line summary from the service (and its not-ready newest revision, if fetched)."""
    created, ready = _short(svc.get("latestCreatedRevision")), _short(svc.get("latestReadyRevision"))
    terminal = svc.get("terminalCondition") or {}
    traffic = _traffic(svc)
    if created and created != ready:
        why = _failure_message([*_conditions(revision), terminal])
        deploying = terminal.get("state") in IN_PROGRESS or svc.get("reconciling")
        if deploying and not why:
            return Status.WARN, f"revision {created} is still deploying (not ready yet); traffic: {traffic}"
        fallback = f"; the last ready revision is {ready}" if ready else "; no revision has ever been ready"
        return (
            Status.CRITICAL,
            f"revision {created} failed: {why or 'not ready'}{fallback}; traffic: {traffic}",
        )
    if not ready:
        why = _failure_message([terminal]) or "no ready revision"
        return Status.CRITICAL, f"service {_short(svc.get('name'))} is not serving: {why}"
    failed = [c for c in [terminal, *svc.get("conditions", [])] if c.get("state") == FAILED]
    if failed:
        worst = Status.CRITICAL if any(_is_error(c, terminal) for c in failed) else Status.WARN
        detail = "; ".join(f"{c.get('type', '?')}: {_one_line(c.get('message', ''))}" for c in failed[:2])
        return worst, f"condition failed: {detail}; traffic: {traffic}"
    if terminal.get("state") in IN_PROGRESS or svc.get("reconciling"):
        return (
            Status.WARN,
            f"service is reconciling ({_one_line(terminal.get('message', '')) or 'in progress'}); traffic: {traffic}",
        )
    return Status.OK, f"ready; latest revision {ready}; traffic: {traffic}"


# --- reading -----------------------------------------------------------------------------------------------


def _get(ctx: ProbeContext, http: httpx.Client, url: str, what: str) -> dict[str, Any]:
    """One authorized, read-only GET with errors turned into short reasons (`what` names it on a 404)."""
    base = ctx.clients.cloud_run_endpoint.rstrip("/")
    budget = ctx.remaining()
    try:
        response = http.get(url, headers=_auth_headers(ctx, url), timeout=budget)
    except httpx.TimeoutException:
        raise ProbeFailure(f"Cloud Run API at {base} did not answer within {_seconds(budget)}") from None
    except httpx.ConnectError as err:
        how = "refused the connection" if "refused" in str(err).lower() else "could not be reached"
        raise ProbeFailure(f"Cloud Run API at {base} {how}") from None
    except httpx.HTTPError as err:
        raise ProbeFailure(f"Cloud Run API at {base} failed: {type(err).__name__}") from None
    if response.status_code == 200:
        body = response.json()
        return body if isinstance(body, dict) else {}
    message = _error_message(response)
    if response.status_code == 404:
        raise ProbeFailure(f"Cloud Run has no {what} (404 Not Found)")
    if response.status_code in (401, 403):
        raise ProbeFailure(f"Cloud Run API denied access ({response.status_code}): {message}")
    raise ProbeFailure(f"Cloud Run API answered {response.status_code}: {message}")


def _auth_headers(ctx: ProbeContext, url: str) -> dict[str, str]:
    """A bearer token from the credentials (refreshed when needed); anonymous credentials add none."""
    headers: dict[str, str] = {}
    try:
        credentials = _credentials(ctx.clients)
        credentials.before_request(_TimedRequest(ctx.remaining()), "GET", url, headers)
    except auth_errors.DefaultCredentialsError:
        raise ProbeFailure(
            "no Google credentials for the Cloud Run API (Application Default Credentials)"
        ) from None
    except auth_errors.GoogleAuthError as err:
        raise ProbeFailure(
            f"could not get a Google access token for Cloud Run: {_one_line(str(err))}"
        ) from None
    return headers


def _credentials(clients: Clients) -> Any:
    """The configured credentials, else Application Default Credentials, found once per Clients."""
    if clients.google_credentials is not None:
        return clients.google_credentials
    with _CACHE_LOCK:
        found = getattr(clients, "_cloud_run_credentials", None)
        if found is None:
            found, _ = google.auth.default(scopes=[SCOPE])
            setattr(clients, "_cloud_run_credentials", found)  # noqa: B010 (no slot in base.py's Clients)
        return found


class _TimedRequest(Request):
    """Token refreshes bounded by the probe's remaining time (google-auth's default is 120 s)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def __call__(
        self,
        url: Any,
        method: Any = "GET",
        body: Any = None,
        headers: Any = None,
        timeout: Any = None,
        **kwargs: Any,
    ) -> Any:
        return super().__call__(url, method, body, headers, timeout=self.timeout, **kwargs)


def _error_message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        return _one_line(str(error.get("message") or response.reason_phrase))
    except (ValueError, AttributeError):
        return _one_line(response.text or response.reason_phrase)


# --- presentation ----------------------------------------------------------------------------------------


def _conditions(resource: dict[str, Any] | None) -> list[dict[str, Any]]:
    if not resource:
        return []
    return [c for c in [resource.get("terminalCondition"), *resource.get("conditions", [])] if c]


def _failure_message(conditions: list[dict[str, Any]]) -> str:
    """The message of the first failed condition, preferring the container's own over 'Ready'."""
    failed = [c for c in conditions if c.get("state") == FAILED and c.get("message")]
    failed.sort(key=lambda c: c.get("type") == "Ready")
    return _one_line(failed[0]["message"]).rstrip(".") if failed else ""


def _is_error(condition: dict[str, Any], terminal: dict[str, Any]) -> bool:
    return condition is terminal or condition.get("severity", "ERROR") == "ERROR"


def _traffic(svc: dict[str, Any]) -> str:
    """Where requests go, e.g. "100% imgstream-00041-abc" or "90% latest (imgstream-00042-xyz), 10% ..."."""
    parts = []
    for target in svc.get("trafficStatuses") or []:
        percent = target.get("percent", 0)
        if target.get("type") == "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST" and not target.get("revision"):
            name = f"latest ({_short(svc.get('latestReadyRevision')) or 'none ready'})"
        else:
            name = _short(target.get("revision")) or "?"
        parts.append(f"{percent}% {name}" + (f" (tag {target['tag']})" if target.get("tag") else ""))
    return ", ".join(parts) or "none reported"


def _evidence(svc: dict[str, Any], revision: dict[str, Any] | None) -> str:
    lines = [
        f"Service: {svc.get('name', '?')}",
        f"URL: {svc.get('uri', '?')}",
        f"Latest created revision: {_short(svc.get('latestCreatedRevision')) or '-'}",
        f"Latest ready revision:   {_short(svc.get('latestReadyRevision')) or '-'}",
        f"Traffic: {_traffic(svc)}",
        "Conditions:",
    ]
    lines += _condition_lines(svc)
    if revision:
        lines.append(f"Revision {_short(revision.get('name'))} conditions:")
        lines += _condition_lines(revision)
        if revision.get("logUri"):
            lines.append(f"Revision logs: {revision['logUri']}")
    return "\n".join(lines)


def _condition_lines(resource: dict[str, Any]) -> list[str]:
    return [
        f"  {c.get('type', '?'):<20} {c.get('state', '?'):<22} {_one_line(c.get('message', ''), 400)}".rstrip()
        for c in _conditions(resource)
    ]


def _data(svc: dict[str, Any]) -> dict[str, Any]:
    return {
        "latest_created_revision": _short(svc.get("latestCreatedRevision")),
        "latest_ready_revision": _short(svc.get("latestReadyRevision")),
        "traffic": [
            {"revision": _short(t.get("revision")), "percent": t.get("percent", 0), "type": t.get("type")}
            for t in svc.get("trafficStatuses") or []
        ],
        "conditions": [
            {
                "type": c.get("type"),
                "state": c.get("state"),
                "reason": c.get("reason") or c.get("revisionReason"),
            }
            for c in _conditions(svc)
        ],
    }


def _short(name: Any) -> str:
    """The last segment of a resource name: projects/.../revisions/imgstream-00042-xyz -> imgstream-00042-xyz."""
    return str(name).rsplit("/", 1)[-1] if name else ""


def _one_line(text: str, limit: int = 200) -> str:
    """The first part of a condition message, before Cloud Run's "Logs URL" trailer, on one line."""
    text = text.split("Logs for this revision might contain more information.")[0]
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 1 else f"{value:.0f} s"
