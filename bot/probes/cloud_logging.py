"""Google Cloud Logging probe: recent entries for the guide's filter, grouped by message."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from pydantic import Field, field_validator

from bot.findings import ProbeResult
from bot.params import Params
from bot.probes.base import Clients, ProbeContext, ProbeFailure
from bot.redaction import redact
from bot.severity import Status

SEVERITIES = ("DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY")
DEFAULT_ENDPOINT = "https://logging.googleapis.com"
READ_SCOPE = "https://www.googleapis.com/auth/logging.read"
IN_SUMMARY = 3  # message groups named in the one-line summary
IN_EVIDENCE = 15  # message groups listed in the evidence
IN_DATA = 50  # message groups kept in the structured data
MESSAGE_CHARS = 300
_CACHE_LOCK = threading.Lock()


class CloudLoggingParams(Params):
    """Entries matching the service's Cloud Logging filter in a time window, grouped by message with counts."""

    filter: str = "{log_filter}"
    match: str | None = Field(None, description='extra clause ANDed to the filter, e.g. textPayload:"OOM"')
    min_severity: str = "ERROR"
    window_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    limit: int = Field(500, ge=1, le=5000)
    warn_count: int = Field(1, ge=1)
    critical_count: int = Field(50, ge=1)
    project: str | None = Field(
        None, description="project whose logs are read; the service's cloud_logging one"
    )

    @field_validator("min_severity")
    @classmethod
    def _known_severity(cls, value: str) -> str:
        if value.upper() not in SEVERITIES:
            raise ValueError(f"unknown severity {value!r}; expected one of {', '.join(SEVERITIES)}")
        return value.upper()


@dataclass
class Group:
    """Entries whose messages differ only in numbers and ids; the newest one is the example shown."""

    message: str
    count: int
    newest: datetime | None
    severity: str


def query(ctx: ProbeContext, params: CloudLoggingParams) -> ProbeResult:
    base = ctx.render(params.filter)
    match = ctx.render(params.match) if params.match else None
    project = _project(ctx, params)
    since = ctx.now() - timedelta(minutes=params.window_minutes)
    full_filter = build_filter(base, params.min_severity, since, match)
    entries = _read(ctx, project, full_filter, params.limit)
    groups = group_entries(entries)
    count = sum(g.count for g in groups)
    capped = len(entries) >= params.limit
    status = (
        Status.CRITICAL
        if count >= params.critical_count
        else Status.WARN
        if count >= params.warn_count
        else Status.OK
    )
    return ProbeResult(
        status=status,
        summary=_summary(groups, count, capped, params),
        evidence=_evidence(groups, full_filter, project, params),
        data={
            "project": project,
            "filter": full_filter,
            "count": count,
            "capped": capped,
            "groups": [
                {
                    "message": g.message,
                    "count": g.count,
                    "newest": g.newest.isoformat() if g.newest else None,
                    "severity": g.severity,
                }
                for g in groups[:IN_DATA]
            ],
        },
    )


def build_filter(base: str, min_severity: str, since: datetime, match: str | None) -> str:
    """The service's filter AND severity AND an explicit time window (AND the match clause).

    Parenthesised because OR binds tighter than AND in the Logging query language; the explicit timestamp
    keeps the client library from adding its own 24 h window.
    """
    stamp = since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    clauses = [f"({base})", f"severity>={min_severity}", f'timestamp>="{stamp}"']
    if match:
        clauses.append(f"({match})")
    return " AND ".join(clauses)


def _project(ctx: ProbeContext, params: CloudLoggingParams) -> str:
    if params.project:
        return ctx.render(params.project)
    if ctx.service.cloud_logging is not None:
        return ctx.service.cloud_logging.project
    return ctx.render("{project}")


# --- reading entries -------------------------------------------------------------------------------------


def _session_class() -> type:
    from google.auth.transport.requests import AuthorizedSession

    class DeadlineSession(AuthorizedSession):
        """An authorized session whose requests never outlive the calling probe's deadline.

        The client library pages with its own 60 s timeout; each probe thread sets its remaining time here,
        so probes sharing the cached client keep their own limits.
        """

        def __init__(self, credentials: Any) -> None:
            super().__init__(credentials)
            self.local = threading.local()

        def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> Any:
            remaining: Callable[[], float] | None = getattr(self.local, "remaining", None)
            if remaining is not None:
                kwargs["timeout"] = kwargs["max_allowed_time"] = remaining()
            return super().request(method, url, *args, **kwargs)

    return DeadlineSession


def _client(clients: Clients, project: str) -> tuple[Any, Any]:
    """The logging client and its session, cached on the shared Clients (one connection pool per run)."""
    endpoint = clients.cloud_logging_endpoint
    with _CACHE_LOCK:
        cache: dict[str | None, tuple[Any, Any]] = getattr(clients, "_cloud_logging", None) or {}
        if endpoint not in cache:
            import google.auth
            import google.cloud.logging

            credentials = clients.google_credentials
            if credentials is None:
                credentials, _ = google.auth.default(scopes=[READ_SCOPE])
            session = _session_class()(credentials)
            client = google.cloud.logging.Client(
                project=project,
                credentials=credentials,
                _http=session,
                _use_grpc=False,
                client_options={"api_endpoint": endpoint} if endpoint else None,
            )
            cache[endpoint] = (client, session)
            # Clients (base.py) has no slot for this client; an attribute keeps base.py generic.
            setattr(clients, "_cloud_logging", cache)  # noqa: B010
        return cache[endpoint]


def _read(ctx: ProbeContext, project: str, log_filter: str, limit: int) -> list[Any]:
    """Up to `limit` entries, newest first, with the library's errors turned into short reasons."""
    import google.auth.exceptions
    import requests
    from google.api_core import exceptions as api
    from google.cloud.logging import DESCENDING

    endpoint = ctx.clients.cloud_logging_endpoint or DEFAULT_ENDPOINT
    budget = ctx.remaining()
    session = None
    try:
        client, session = _client(ctx.clients, project)
        session.local.remaining = ctx.remaining
        entries = client.list_entries(
            resource_names=[f"projects/{project}"],
            filter_=log_filter,
            order_by=DESCENDING,
            page_size=min(limit, 1000),
            max_results=limit,
        )
        return list(islice(entries, limit))
    except api.GoogleAPICallError as err:
        raise ProbeFailure(_api_reason(err, project)) from None
    except requests.exceptions.Timeout:
        raise ProbeFailure(f"Cloud Logging at {endpoint} did not answer within {_seconds(budget)}") from None
    except requests.exceptions.ConnectionError as err:
        how = "refused the connection" if "refused" in str(err).lower() else "could not be reached"
        raise ProbeFailure(f"Cloud Logging at {endpoint} {how}") from None
    except google.auth.exceptions.DefaultCredentialsError:
        raise ProbeFailure(
            "no Google credentials for Cloud Logging (Application Default Credentials)"
        ) from None
    except google.auth.exceptions.GoogleAuthError as err:
        raise ProbeFailure(
            f"could not get a Google access token for Cloud Logging: {_short(str(err))}"
        ) from None
    finally:
        if session is not None:
            session.local.remaining = None


def _api_reason(err: Any, project: str) -> str:
    # The JSON client prefixes the API's message with "POST <url>: "; the person needs only the message.
    code, message = err.code, _short(re.sub(r"^[A-Z]+ \S+: ", "", err.message or ""))
    if code in (401, 403):
        return f"Cloud Logging denied access ({code}): {message}"
    if code == 400:
        return f"Cloud Logging rejected the query (400): {message}"
    if code == 404:
        return f"Cloud Logging does not know project '{project}' (404): {message}"
    if code == 429:
        return f"Cloud Logging read quota exceeded (429): {message}"
    return f"Cloud Logging answered {code}: {message}"


# --- grouping --------------------------------------------------------------------------------------------

_VARIABLE = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"  # UUIDs
    r"|\b(?=[0-9a-z]*\d)[0-9a-z]{8,}\b"  # hex ids, request ids, revision suffixes with digits
    r"|\d+",
    re.I,
)


def message_of(entry: Any) -> str:
    """The entry's one-line message: text, jsonPayload.message, an audit status, or its HTTP request."""
    payload = entry.payload
    text: Any = None
    if isinstance(payload, str):
        text = payload
    elif isinstance(payload, dict):
        status = payload.get("status")
        status = status if isinstance(status, dict) else {}
        text = payload.get("message") or payload.get("msg") or status.get("message") or payload.get("error")
        if not text and payload:
            text = json.dumps(payload, sort_keys=True, default=str)
    if not text and getattr(entry, "http_request", None):
        request = entry.http_request
        path = str(request.get("requestUrl", "")).split("?", 1)[0]
        text = f"HTTP {request.get('status', '?')} {request.get('requestMethod', '')} {path}"
    return _one_line(str(text)) if text else "(entry without a message)"


def _one_line(text: str) -> str:
    """Python tracebacks are grouped by their last line (the exception), anything else by its first."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not lines:
        return "(empty message)"
    line = lines[-1] if lines[0].startswith("Traceback (most recent call last)") else lines[0]
    return line[:MESSAGE_CHARS]


def group_key(message: str) -> str:
    """Messages that differ only in numbers, ids or whitespace share a key ("user 123 failed" ~ "user 456 failed")."""
    return " ".join(_VARIABLE.sub("#", message.lower()).split())


def group_entries(entries: Iterable[Any]) -> list[Group]:
    """Groups by normalised message; messages are redacted first, so a secret never splits or leaks a group."""
    groups: dict[str, Group] = {}
    for entry in entries:
        message = redact(message_of(entry))
        stamp = entry.timestamp
        key = group_key(message)
        group = groups.get(key)
        if group is None:
            groups[key] = Group(message, 1, stamp, entry.severity or "DEFAULT")
            continue
        group.count += 1
        if stamp is not None and (group.newest is None or stamp > group.newest):
            group.message, group.newest, group.severity = message, stamp, entry.severity or group.severity
    oldest = datetime.min.replace(tzinfo=UTC)
    by_recency = sorted(groups.values(), key=lambda g: g.newest or oldest, reverse=True)
    return sorted(by_recency, key=lambda g: -g.count)  # most frequent first; ties: the most recent


# --- presentation ----------------------------------------------------------------------------------------


def _summary(groups: list[Group], count: int, capped: bool, params: CloudLoggingParams) -> str:
    noun = "entry" if count == 1 else "entries"
    what = f"log {noun}" if params.min_severity == "DEFAULT" else f"{noun} at {params.min_severity} or above"
    window = _window(params.window_minutes)
    if not count:
        return f"No {what} in the last {window}"
    named = ", ".join(f"'{_short(g.message, 80)}' x{g.count}" for g in groups[:IN_SUMMARY])
    more = len(groups) - IN_SUMMARY
    others = f" and {more} other message{'s' if more > 1 else ''}" if more > 0 else ""
    number = f"{count}+" if capped else str(count)
    return f"{number} {what} in the last {window}: {named}{others}"


def _evidence(groups: list[Group], log_filter: str, project: str, params: CloudLoggingParams) -> str:
    lines = [
        f"Project {project}, filter: {log_filter}",
        f"Thresholds: warn at {params.warn_count}, critical at {params.critical_count} entries"
        f" (at most {params.limit} read)",
    ]
    if groups:
        lines.append("  count  newest (UTC)    severity  message")
    for g in groups[:IN_EVIDENCE]:
        newest = g.newest.astimezone(UTC).strftime("%m-%d %H:%M:%S") if g.newest else "?"
        lines.append(f"  {g.count:>5}  {newest:<14}  {g.severity:<8}  {g.message}")
    if len(groups) > IN_EVIDENCE:
        lines.append(f"  ... and {len(groups) - IN_EVIDENCE} other messages")
    return "\n".join(lines)


def _window(minutes: int) -> str:
    if minutes >= 120 and minutes % 60 == 0:
        return f"{minutes // 60} h"
    return f"{minutes} min"


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value < 1 else f"{value:.0f} s"


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
