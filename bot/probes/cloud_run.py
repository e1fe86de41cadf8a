"""Cloud Run probe (read-only Admin API v2): latest revision readiness, conditions and traffic split.

Also the one way the bot reads Cloud Run, shared with bot.actions.cloud_run: `call` makes one request through
the official client (`Clients.cloud_run`) and turns its failures into `CloudRunError`; `as_json` gives a
message the REST resource's JSON shape (camelCase, enum names), which is what the guides and people read.
"""

from __future__ import annotations

from typing import Any, Literal

from bot.findings import ProbeResult
from bot.params import Params
from bot.probes.base import Clients, ProbeContext, ProbeFailure
from bot.severity import Status

FAILED = "CONDITION_FAILED"
IN_PROGRESS = ("CONDITION_PENDING", "CONDITION_RECONCILING")
LATEST = "TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST"
REVISION = "TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION"


class CloudRunServiceParams(Params):
    """The Cloud Run service's conditions, latest created vs. ready revision, and where traffic goes."""

    project: str = "{project}"
    region: str = "{region}"
    service: str = "{cloud_run_service}"


def service(ctx: ProbeContext, params: CloudRunServiceParams) -> ProbeResult:
    ctx.render(f"{params.project} {params.region} {params.service}")  # a skip names every missing value
    project, region, name = ctx.render(params.project), ctx.render(params.region), ctx.render(params.service)
    what = f"service '{name}' in project {project}, region {region}"
    full_name = f"projects/{project}/locations/{region}/services/{name}"
    try:
        svc = as_json(call(ctx.clients, "services", "get_service", ctx.remaining(), name=full_name))
    except CloudRunError as err:
        raise ProbeFailure(err.reason(what)) from None
    created, ready = svc.get("latestCreatedRevision") or "", svc.get("latestReadyRevision") or ""
    revision = None
    if created and created != ready:  # the newest revision is not serving: its conditions say why
        try:
            revision = as_json(call(ctx.clients, "revisions", "get_revision", ctx.remaining(), name=created))
        except CloudRunError:
            revision = None  # the service's own conditions still tell the story
    status, summary = assess(svc, revision)
    return ProbeResult(status, summary, _evidence(svc, revision), _data(svc))


def assess(svc: dict[str, Any], revision: dict[str, Any] | None = None) -> tuple[Status, str]:
    """Status and one-line summary from the service (and its not-ready newest revision, if fetched)."""
    created, ready = short_name(svc.get("latestCreatedRevision")), short_name(svc.get("latestReadyRevision"))
    terminal = svc.get("terminalCondition") or {}
    traffic = traffic_text(svc)
    if created and created != ready:
        why = failure_message([*all_conditions(revision), terminal])
        deploying = terminal.get("state") in IN_PROGRESS or svc.get("reconciling")
        if deploying and not why:
            return Status.WARN, f"revision {created} is still deploying (not ready yet); traffic: {traffic}"
        fallback = f"; the last ready revision is {ready}" if ready else "; no revision has ever been ready"
        return (
            Status.CRITICAL,
            f"revision {created} failed: {why or 'not ready'}{fallback}; traffic: {traffic}",
        )
    if not ready:
        why = failure_message([terminal]) or "no ready revision"
        return Status.CRITICAL, f"service {short_name(svc.get('name'))} is not serving: {why}"
    failed = [c for c in [terminal, *svc.get("conditions", [])] if c.get("state") == FAILED]
    if failed:
        worst = Status.CRITICAL if any(_is_error(c, terminal) for c in failed) else Status.WARN
        detail = "; ".join(f"{c.get('type', '?')}: {one_line(c.get('message', ''))}" for c in failed[:2])
        return worst, f"condition failed: {detail}; traffic: {traffic}"
    if terminal.get("state") in IN_PROGRESS or svc.get("reconciling"):
        return (
            Status.WARN,
            f"service is reconciling ({one_line(terminal.get('message', '')) or 'in progress'}); traffic: {traffic}",
        )
    return Status.OK, f"ready; latest revision {ready}; traffic: {traffic}"


# --- reading -----------------------------------------------------------------------------------------------


class CloudRunError(Exception):
    """A Cloud Run request that failed: the HTTP code and Google's status and message (code 0: no answer)."""

    def __init__(self, message: str, code: int = 0, status: str = "") -> None:
        super().__init__(message)
        self.message, self.code, self.status = message, code, status

    def reason(self, what: str = "such resource") -> str:
        """What a person reads: Google's own message, or why the API could not be asked."""
        if self.code == 404:
            return f"Cloud Run has no {what} (404 Not Found)"
        if self.code in (401, 403):
            return f"Cloud Run API denied access ({self.code}): {self.message}"
        if self.code:
            return f"Cloud Run API answered {self.code}: {self.message}"
        return self.message


def call(
    clients: Clients, kind: Literal["services", "revisions"], method: str, timeout: float, **request: Any
) -> Any:
    """One request through the official client, without its retries (a probe has a deadline, an action its
    own polling) and within `timeout` seconds, token refresh included; a list is read to its last page."""
    import google.auth.exceptions
    import requests
    from google.api_core import exceptions as api

    endpoint = clients.cloud_run_endpoint.rstrip("/")
    try:
        answer = getattr(clients.cloud_run(kind), method)(request=request, timeout=timeout, retry=None)
        return list(answer) if method.startswith("list_") else answer
    except api.GoogleAPICallError as err:
        code, status, message = _google_error(err)
        raise CloudRunError(message, code, status) from None
    except requests.exceptions.Timeout:
        raise CloudRunError(
            f"Cloud Run API at {endpoint} did not answer within {_seconds(timeout)}"
        ) from None
    except requests.exceptions.ConnectionError as err:
        how = "refused the connection" if "refused" in str(err).lower() else "could not be reached"
        raise CloudRunError(f"Cloud Run API at {endpoint} {how}") from None
    except requests.exceptions.RequestException as err:
        raise CloudRunError(f"Cloud Run API at {endpoint} failed: {type(err).__name__}") from None
    except google.auth.exceptions.DefaultCredentialsError:
        raise CloudRunError(
            "no Google credentials for the Cloud Run API (Application Default Credentials)"
        ) from None
    except google.auth.exceptions.GoogleAuthError as err:
        raise CloudRunError(
            f"could not get a Google access token for Cloud Run: {one_line(str(err))}"
        ) from None


def _google_error(err: Any) -> tuple[int, str, str]:
    """HTTP code, status and message of Google's JSON error body (the library prefixes the URL to it)."""
    try:
        error = err.response.json()["error"]
        return (
            int(error.get("code") or err.code),
            str(error.get("status") or ""),
            one_line(error["message"], 400),
        )
    except (AttributeError, KeyError, TypeError, ValueError):
        return int(err.code or 0), "", one_line(str(err.message), 400)


def as_json(message: Any) -> dict[str, Any]:
    """A run_v2 message as the REST API's JSON: camelCase keys, enum names, default values left out."""
    from google.protobuf import json_format

    return dict(json_format.MessageToDict(type(message).pb(message)))


# --- presentation ----------------------------------------------------------------------------------------


def all_conditions(resource: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The terminal condition, then the others (a resource without conditions has none)."""
    if not resource:
        return []
    return [c for c in [resource.get("terminalCondition"), *resource.get("conditions", [])] if c]


def failure_message(conditions: list[dict[str, Any]]) -> str:
    """The message of the first failed condition, preferring the container's own over 'Ready'."""
    failed = [c for c in conditions if c.get("state") == FAILED and c.get("message")]
    failed.sort(key=lambda c: c.get("type") == "Ready")
    return one_line(failed[0]["message"]).rstrip(".") if failed else ""


def _is_error(condition: dict[str, Any], terminal: dict[str, Any]) -> bool:
    return condition is terminal or condition.get("severity", "ERROR") == "ERROR"


def traffic_text(svc: dict[str, Any]) -> str:
    """Where requests go, e.g. "100% imgstream-00041-abc" or "90% latest (imgstream-00042-xyz), 10% ..."."""
    parts = []
    for target in svc.get("trafficStatuses") or []:
        percent = target.get("percent", 0)
        if target.get("type") == LATEST and not target.get("revision"):
            name = f"latest ({short_name(svc.get('latestReadyRevision')) or 'none ready'})"
        else:
            name = short_name(target.get("revision")) or "?"
        parts.append(f"{percent}% {name}" + (f" (tag {target['tag']})" if target.get("tag") else ""))
    return ", ".join(parts) or "none reported"


def _evidence(svc: dict[str, Any], revision: dict[str, Any] | None) -> str:
    lines = [
        f"Service: {svc.get('name', '?')}",
        f"URL: {svc.get('uri', '?')}",
        f"Latest created revision: {short_name(svc.get('latestCreatedRevision')) or '-'}",
        f"Latest ready revision:   {short_name(svc.get('latestReadyRevision')) or '-'}",
        f"Traffic: {traffic_text(svc)}",
        *_configuration_lines(svc.get("template") or {}),
        "Conditions:",
    ]
    lines += _condition_lines(svc)
    if revision:
        lines.append(f"Revision {short_name(revision.get('name'))} conditions:")
        lines += _condition_lines(revision)
        if revision.get("logUri"):
            lines.append(f"Revision logs: {revision['logUri']}")
    return "\n".join(lines)


def _configuration_lines(template: dict[str, Any]) -> list[str]:
    """What the guides' fixes change (`--set-env-vars`, `--service-account`), as it is now. Values pass the
    redaction every posted text passes (`DB_PASSWORD=...` is masked); secret references show only the secret."""
    lines = [f"Runs as: {template['serviceAccount']}"] if template.get("serviceAccount") else []
    for container in template.get("containers") or []:
        env = [_env_text(e) for e in container.get("env") or []]
        if env:
            name = f" ({container['name']})" if container.get("name") else ""
            lines.append(one_line(f"Environment{name}: {', '.join(env)}", 1000))
    return lines


def _env_text(env: dict[str, Any]) -> str:
    secret = (env.get("valueSource") or {}).get("secretKeyRef")
    if secret:
        return f"{env.get('name', '?')} from secret {short_name(secret.get('secret'))}:{secret.get('version', 'latest')}"
    return f"{env.get('name', '?')}={env.get('value', '')}"


def _condition_lines(resource: dict[str, Any]) -> list[str]:
    return [
        f"  {c.get('type', '?'):<20} {c.get('state', '?'):<22} {one_line(c.get('message', ''), 400)}".rstrip()
        for c in all_conditions(resource)
    ]


def _data(svc: dict[str, Any]) -> dict[str, Any]:
    return {
        "latest_created_revision": short_name(svc.get("latestCreatedRevision")),
        "latest_ready_revision": short_name(svc.get("latestReadyRevision")),
        "traffic": [
            {"revision": short_name(t.get("revision")), "percent": t.get("percent", 0), "type": t.get("type")}
            for t in svc.get("trafficStatuses") or []
        ],
        "conditions": [
            {
                "type": c.get("type"),
                "state": c.get("state"),
                "reason": c.get("reason") or c.get("revisionReason"),
            }
            for c in all_conditions(svc)
        ],
    }


def short_name(name: Any) -> str:
    """The last segment of a resource name: projects/.../revisions/imgstream-00042-xyz -> imgstream-00042-xyz."""
    return str(name).rsplit("/", 1)[-1] if name else ""


def one_line(text: str, limit: int = 200) -> str:
    """The first part of a condition message, before Cloud Run's "Logs URL" trailer, on one line."""
    text = text.split("Logs for this revision might contain more information.")[0]
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 1 else f"{value:.0f} s"
