"""A local stand-in for PagerDuty's Events API v2: point the bot's events URL at `FakePagerDuty().events_url`.

`POST /v2/enqueue` with a JSON body, validated by PagerDuty's documented rules (developer-docs
`events-API-v2/02-Trigger-Events.md`, `01-Overview.md`, `05-Rate-Limits.md`; api-schema
`reference/events-v2/openapiv3.json`) and answered as PagerDuty does:

- `202 {"status": "success", "message": "Event processed", "dedup_key": ...}`; a trigger without a
  `dedup_key` gets a new one (a UUID, as PagerDuty generates).
- `400 {"status": "invalid event", "message": "Event object is invalid", "errors": [...]}` with PagerDuty's
  own wording where it has been seen in the wild (see `_problems`); a body that is not a JSON object gets
  `400 {"status": "Unrecognized object", "message": "Event object format is unrecognized", ...}`.
- A well-formed routing key that is not configured gets `400` with the plain-text body `Invalid routing key`.
- `429` past `per_minute` accepted events per routing key in the last 60 s (PagerDuty: about 120).

Alerts are kept per routing key by `dedup_key`, as PagerDuty does: a trigger opens an alert or adds to the
open one; acknowledge and resolve move the open alert on (triggered -> acknowledged -> resolved) and are
dropped, still with a 202, when there is none; a trigger after a resolve opens a new alert.

State for tests and the shell: `received()` (every request and its answer), `alerts()`, `alert()`.
`fail_next()` and `hang_next()` make it fail as a real server can. Standard library only.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from bot.clock import SYSTEM_CLOCK, Clock
from sandbox.serving import QuietServer, serve, stop

Json = dict[str, Any]

ENQUEUE_PATH = "/v2/enqueue"
ROUTING_KEY = "sandboxpagerdutyroutingkey000001"  # the shell's key: 32 alphanumerics, as PagerDuty's are
# developer-docs 05-Rate-Limits.md: "approximately 120 calls/minute per integration key".
RATE_PER_MINUTE = 120
MAX_EVENT_BYTES = 512 * 1024  # 01-Overview.md, "Size Limits"
SUMMARY_MAX, DEDUP_KEY_MAX = 1024, 255
ACTIONS = ("trigger", "acknowledge", "resolve")
SEVERITIES = ("critical", "warning", "error", "info")

INVALID = {"status": "invalid event", "message": "Event object is invalid"}
UNRECOGNIZED = {"status": "Unrecognized object", "message": "Event object format is unrecognized"}
# As go-pagerduty's tests record PagerDuty's 429 body.
THROTTLED = {
    "status": "throttle exceeded",
    "message": "Requests for this service are arriving too quickly.  Please retry later.",
    "errors": ["Enhance Your Calm."],
}


class AlertStatus(StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


@dataclass(frozen=True)
class Received:
    """One request as it arrived and what was answered (`status` None: left hanging, never answered)."""

    at: datetime
    content_type: str
    body: Json | None  # the JSON object sent, None when the body was not one
    status: int | None
    answer: Json | str | None
    applied: bool = False  # the event changed an alert (False: refused, failed or dropped)

    @property
    def routing_key(self) -> str | None:
        return _text((self.body or {}).get("routing_key"))

    @property
    def event_action(self) -> str | None:
        return _text((self.body or {}).get("event_action"))

    @property
    def dedup_key(self) -> str | None:
        """The key PagerDuty answered with, else the one sent."""
        answered = self.answer.get("dedup_key") if isinstance(self.answer, dict) else None
        return _text(answered) or _text((self.body or {}).get("dedup_key"))

    @property
    def summary(self) -> str | None:
        payload = (self.body or {}).get("payload")
        return _text(payload.get("summary")) if isinstance(payload, dict) else None

    def describe(self) -> str:
        """One line for the shell, e.g. `trigger INC-20260101-0001 [SEV-1] ... -> 202`."""
        what = " ".join(p for p in (self.event_action, self.dedup_key, self.summary) if p)
        answered = "no answer" if self.status is None else str(self.status)
        return f"{what or '(not an event)'} -> {answered}"


@dataclass
class Alert:
    """One PagerDuty alert: opened by a trigger, identified by its routing key and dedup_key."""

    routing_key: str
    dedup_key: str
    summary: str
    severity: str
    source: str
    status: AlertStatus = AlertStatus.TRIGGERED
    events: list[Json] = field(default_factory=list)  # every event applied to it, in order


@dataclass(frozen=True)
class _Failure:
    status: int | None  # None: hang until the server stops
    retry_after: int | None


class FakePagerDuty:
    """`with FakePagerDuty() as pd:` serves until the block ends; events go to `pd.events_url`.

    `routing_keys`: the integration keys that exist; None accepts any well-formed key.
    """

    def __init__(
        self,
        routing_keys: Iterable[str] | None = (ROUTING_KEY,),
        per_minute: int = RATE_PER_MINUTE,
        clock: Clock = SYSTEM_CLOCK,
    ) -> None:
        self.routing_keys = None if routing_keys is None else set(routing_keys)
        self.per_minute, self.clock = per_minute, clock
        self._received: list[Received] = []
        self._alerts: list[Alert] = []
        self._accepted: dict[str, deque[float]] = {}  # routing key -> monotonic times of accepted events
        self._failures: deque[_Failure] = deque()
        self._lock = threading.RLock()
        self._released = threading.Event()
        self._server: QuietServer | None = None

    # --- what tests and the shell use ---

    @property
    def url(self) -> str:
        assert self._server is not None, "start the stand-in first"
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def events_url(self) -> str:
        return f"{self.url}{ENQUEUE_PATH}"

    def __enter__(self) -> FakePagerDuty:
        self._released.clear()
        self._server = serve(self._serve)
        return self

    def __exit__(self, *exc: object) -> None:
        self._released.set()  # hung requests return, so shutting down does not wait on them
        stop(self._server)

    def fail_next(self, status: int = 500, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next `times` requests with this status (and `Retry-After`), ingesting nothing."""
        with self._lock:
            self._failures.extend([_Failure(status, retry_after)] * times)

    def hang_next(self, times: int = 1) -> None:
        """Never answer the next `times` requests (until the stand-in stops): the client's timeout fires."""
        with self._lock:
            self._failures.extend([_Failure(None, None)] * times)

    def received(self, event_action: str | None = None) -> list[Received]:
        with self._lock:
            return [r for r in self._received if event_action in (None, r.event_action)]

    def alerts(self, routing_key: str | None = None) -> list[Alert]:
        """Every alert in the order opened, resolved ones included."""
        with self._lock:
            return [a for a in self._alerts if routing_key in (None, a.routing_key)]

    def alert(self, dedup_key: str, routing_key: str = ROUTING_KEY) -> Alert | None:
        """The latest alert with this dedup_key (an open one if there is one)."""
        with self._lock:
            found = [a for a in self._alerts if (a.routing_key, a.dedup_key) == (routing_key, dedup_key)]
            return found[-1] if found else None

    # --- serving ---

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        content_type = handler.headers.get("Content-Type") or ""
        if urlsplit(handler.path).path != ENQUEUE_PATH:
            return _reply(handler, 404, "Not Found")
        if handler.command != "POST":
            return _reply(handler, 405, "Method Not Allowed", {"Allow": "POST"})
        event = _json_object(body)
        with self._lock:
            failure = self._failures.popleft() if self._failures else None
        if failure is None:
            status, answer, applied = self._enqueue(content_type, body, event)
            self._record(content_type, event, status, answer, applied)
            return _reply(handler, status, answer)
        if failure.status is None:
            self._record(content_type, event, None, None)
            self._released.wait()
            return None
        answer = THROTTLED if failure.status == 429 else {"status": "error", "message": "Internal error"}
        self._record(content_type, event, failure.status, answer)
        headers = {} if failure.retry_after is None else {"Retry-After": str(failure.retry_after)}
        return _reply(handler, failure.status, answer, headers)

    def _enqueue(self, content_type: str, body: bytes, event: Json | None) -> tuple[int, Json | str, bool]:
        """Validate, rate-limit and apply one event: (HTTP status, answer, whether it changed an alert)."""
        if len(body) > MAX_EVENT_BYTES:
            return 400, {**INVALID, "errors": [f"Event is larger than {MAX_EVENT_BYTES // 1024} KB"]}, False
        if content_type.split(";")[0].strip().lower() != "application/json":
            # PagerDuty documents application/json only; refusing the rest catches a client that sends a form.
            return 400, {**UNRECOGNIZED, "errors": ["Content-Type must be application/json"]}, False
        if event is None:
            return 400, {**UNRECOGNIZED, "errors": ["JSON parse error"]}, False
        problems = _problems(event)
        if problems:
            return 400, {**INVALID, "errors": problems}, False
        key = event["routing_key"]
        if self.routing_keys is not None and key not in self.routing_keys:
            return 400, "Invalid routing key", False  # PagerDuty answers this one in plain text
        with self._lock:
            now = self.clock.monotonic()
            recent = self._accepted.setdefault(key, deque())
            while recent and recent[0] <= now - 60:
                recent.popleft()
            if len(recent) >= self.per_minute:
                return 429, THROTTLED, False
            recent.append(now)
            dedup_key = event.get("dedup_key") or uuid.uuid4().hex
            applied = self._apply(key, dedup_key, event)
        return 202, {"status": "success", "message": "Event processed", "dedup_key": dedup_key}, applied

    def _apply(self, routing_key: str, dedup_key: str, event: Json) -> bool:
        action = event["event_action"]
        current = self.alert(dedup_key, routing_key)
        is_open = current is not None and current.status != AlertStatus.RESOLVED
        if action == "trigger":
            if not is_open:
                payload = event["payload"]
                current = Alert(
                    routing_key, dedup_key, payload["summary"], payload["severity"], payload["source"]
                )
                self._alerts.append(current)
            assert current is not None
            current.events.append(event)  # a repeated trigger adds to the open alert's log
            return True
        if not is_open:
            return False  # acknowledge / resolve with no open alert: dropped, as PagerDuty does
        assert current is not None
        current.status = AlertStatus.ACKNOWLEDGED if action == "acknowledge" else AlertStatus.RESOLVED
        current.events.append(event)
        return True

    def _record(
        self,
        content_type: str,
        event: Json | None,
        status: int | None,
        answer: Json | str | None,
        applied: bool = False,
    ) -> None:
        with self._lock:
            self._received.append(Received(self.clock.now(), content_type, event, status, answer, applied))


def _problems(event: Json) -> list[str]:
    """What PagerDuty would refuse in this event, in its words.

    Seen from PagerDuty: the routing_key messages, "'event_action' is missing or blank", "'payload.source' is
    missing or blank", "'payload.severity' is missing or blank", the severity enumeration and the summary
    length ("maiximum" is PagerDuty's spelling). The others follow the same pattern.
    """
    problems: list[str] = []
    key = event.get("routing_key")
    if not isinstance(key, str) or not key.strip():
        problems.append("'routing_key' cannot be blank")
    else:
        if len(key) != 32:
            problems.append("Length of 'routing_key' is incorrect (should be 32 characters)")
        if not key.isascii() or not key.isalnum():
            problems.append("'routing_key' cannot contain non-alphanumeric characters.")
    action = event.get("event_action")
    if not isinstance(action, str) or not action.strip():
        problems.append("'event_action' is missing or blank")
    elif action not in ACTIONS:
        problems.append(
            "'event_action' is invalid (must be one of the following: 'trigger', 'acknowledge' or 'resolve')"
        )
    dedup_key = event.get("dedup_key")
    if dedup_key is not None and not isinstance(dedup_key, str):
        problems.append("'dedup_key' must be a string")
    elif isinstance(dedup_key, str) and len(dedup_key) > DEDUP_KEY_MAX:
        problems.append(f"'dedup_key' is too long (maximum is {DEDUP_KEY_MAX} characters)")
    elif action in ("acknowledge", "resolve") and not (dedup_key or "").strip():
        problems.append("'dedup_key' is missing or blank")
    if action == "trigger":
        problems += _payload_problems(event.get("payload"))
        problems += _context_problems(event)
    return problems


def _payload_problems(payload: Any) -> list[str]:
    if payload is not None and not isinstance(payload, dict):
        return ["'payload' must be an object"]
    payload = payload or {}
    problems = [
        f"'payload.{name}' is missing or blank"
        for name in ("summary", "source", "severity")
        if not isinstance(payload.get(name), str) or not payload[name].strip()
    ]
    summary, severity = payload.get("summary"), payload.get("severity")
    if isinstance(summary, str) and len(summary) > SUMMARY_MAX:
        problems.append(f"'summary' is too long (maiximum is {SUMMARY_MAX} characters)")
    if isinstance(severity, str) and severity.strip() and severity not in SEVERITIES:
        problems.append(
            "'payload.severity' is invalid (must be one of the following: 'critical', 'warning', 'error' or 'info')"
        )
    timestamp = payload.get("timestamp")
    if timestamp is not None and not _is_iso8601(timestamp):
        # PagerDuty stamps an event that has no timestamp; one we send must at least be readable.
        problems.append("'payload.timestamp' is invalid (must be an ISO 8601 timestamp)")
    problems += [
        f"'payload.{name}' must be a string"
        for name in ("component", "group", "class")
        if payload.get(name) is not None and not isinstance(payload[name], str)
    ]
    details = payload.get("custom_details")
    if details is not None and not isinstance(details, dict):
        problems.append("'payload.custom_details' must be an object")
    return problems


def _context_problems(event: Json) -> list[str]:
    """`links` [{href, text?}] and `images` [{src, href?, alt?}] (02-Trigger-Events.md, "Context Properties")."""
    problems: list[str] = []
    for name, required, optional in (("links", "href", ("text",)), ("images", "src", ("href", "alt"))):
        items = event.get(name)
        if items is not None and not isinstance(items, list):
            problems.append(f"'{name}' must be an array")
            continue
        for i, item in enumerate(items or []):
            where = f"'{name}[{i}]"
            if not isinstance(item, dict):
                problems.append(f"{where}' must be an object")
                continue
            value = item.get(required)
            if not isinstance(value, str) or not value.strip():
                problems.append(f"{where}.{required}' is missing or blank")
            elif name == "images" and not value.startswith("https://"):
                # "This image must be served via HTTPS": stricter than PagerDuty, which would not show it.
                problems.append(f"{where}.src' must be an https URL")
            problems += [
                f"{where}.{other}' must be a string"
                for other in optional
                if item.get(other) is not None and not isinstance(item[other], str)
            ]
    return problems


def _is_iso8601(value: Any) -> bool:
    try:
        datetime.fromisoformat(value)  # Python 3.11 reads ISO 8601 with Z and +0000 offsets
    except (TypeError, ValueError):
        return False
    return True


def _json_object(body: bytes) -> Json | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _reply(
    handler: BaseHTTPRequestHandler, status: int, answer: Json | str, headers: dict[str, str] | None = None
) -> None:
    is_json = isinstance(answer, dict)
    data = (json.dumps(answer) if is_json else str(answer)).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json" if is_json else "text/plain; charset=utf-8")
    handler.send_header("Content-Length", str(len(data)))
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)
