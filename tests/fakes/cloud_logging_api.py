"""A local Cloud Logging v2 REST API (`POST /v2/entries:list`) that records every request it gets.

The official client, built with `_use_grpc=False` and `client_options={"api_endpoint": fake.url}`, sends
`POST {endpoint}/v2/entries:list?prettyPrint=false` with a JSON body {resourceNames, filter, orderBy,
pageSize, pageToken}; the answer is {entries: [LogEntry JSON], nextPageToken}. The fake applies the filter's
`severity>=` and `timestamp>=` clauses (enough to prove the probe sent them) and pages by pageSize.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from sandbox.serving import QuietServer, google_error, reply_json, serve, stop

SEVERITIES = ["DEFAULT", "DEBUG", "INFO", "NOTICE", "WARNING", "ERROR", "CRITICAL", "ALERT", "EMERGENCY"]
LIST_PATH = "/v2/entries:list"


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: str
    body: dict[str, Any]


@dataclass
class Failure:
    code: int
    message: str
    status: str


@dataclass
class FakeCloudLogging:
    """Serves the entries a test added; `fail()` answers with a Google API error, `hang()` never answers."""

    project: str = "imgstream-prod"
    entries: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Recorded] = field(default_factory=list)
    failure: Failure | None = None
    _hanging: threading.Event | None = None
    _released: threading.Event = field(default_factory=threading.Event)
    _server: QuietServer | None = None

    # --- what the test sets up ---

    def add(
        self,
        message: str | None = None,
        *,
        severity: str = "ERROR",
        minutes_ago: float = 1,
        kind: str = "text",
        http_status: int | None = None,
    ) -> dict[str, Any]:
        """One LogEntry as the API returns it; kind is text, json, audit (protoPayload) or request."""
        stamp = datetime.now(UTC) - timedelta(minutes=minutes_ago)
        entry: dict[str, Any] = {
            "logName": f"projects/{self.project}/logs/run.googleapis.com%2Fstderr",
            "resource": {"type": "cloud_run_revision", "labels": {"service_name": "imgstream-production"}},
            "timestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "receiveTimestamp": stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "severity": severity,
            "insertId": f"id{len(self.entries):06d}",
        }
        if kind == "text":
            entry["textPayload"] = message
        elif kind == "json":
            entry["jsonPayload"] = {"message": message, "logger": "app"}
        elif kind == "audit":
            entry["protoPayload"] = {
                "@type": "type.googleapis.com/google.cloud.audit.AuditLog",
                "status": {"code": 7, "message": message},
                "methodName": "storage.objects.create",
            }
        elif kind == "request":
            entry["httpRequest"] = {
                "requestMethod": "GET",
                "requestUrl": f"https://imgstream.example.com/api/images/{len(self.entries)}?sig=abc",
                "status": http_status or 500,
            }
        self.entries.append(entry)
        return entry

    def fail(self, code: int, message: str, status: str) -> None:
        self.failure = Failure(code, message, status)

    def hang(self) -> None:
        """Accept requests and never answer (until the server stops)."""
        self._hanging = self._released

    # --- what the test asserts ---

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def filters(self) -> list[str]:
        return [r.body.get("filter", "") for r in self.requests]

    def only_reads(self) -> bool:
        """True when every request was the entries:list read (a POST by API design)."""
        return all(r.method == "POST" and r.path == LIST_PATH for r in self.requests)

    # --- serving ---

    def start(self) -> FakeCloudLogging:
        self._server = serve(self._serve)
        return self

    def stop(self) -> None:
        self._released.set()
        stop(self._server)

    def __enter__(self) -> FakeCloudLogging:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        body = json.loads(raw) if raw else {}
        self.requests.append(Recorded(handler.command, parts.path, parts.query, body))
        if self._hanging is not None:
            self._hanging.wait(timeout=30)
            return
        if handler.command != "POST" or parts.path != LIST_PATH:
            return reply_json(
                handler, 405, google_error(405, "only entries:list is served", "METHOD_NOT_ALLOWED")
            )
        if self.failure is not None:
            f = self.failure
            return reply_json(handler, f.code, google_error(f.code, f.message, f.status))
        reply_json(handler, 200, self._page(body))

    def _page(self, body: dict[str, Any]) -> dict[str, Any]:
        selected = sorted(_matching(self.entries, body.get("filter", "")), key=lambda e: e["timestamp"])
        if body.get("orderBy") == "timestamp desc":
            selected.reverse()
        start = int(body.get("pageToken") or 0)
        size = int(body.get("pageSize") or 1000)
        page: dict[str, Any] = {"entries": selected[start : start + size]}
        if start + size < len(selected):
            page["nextPageToken"] = str(start + size)
        return page


def _matching(entries: list[dict[str, Any]], log_filter: str) -> list[dict[str, Any]]:
    """Entries that pass the filter's severity>= and timestamp>= clauses (the rest is not interpreted)."""
    severity = re.search(r"severity>=(\w+)", log_filter)
    since = re.search(r'timestamp>="([^"]+)"', log_filter)
    floor = SEVERITIES.index(severity.group(1)) if severity else 0
    start = datetime.fromisoformat(since.group(1)) if since else datetime.min.replace(tzinfo=UTC)
    return [
        e
        for e in entries
        if SEVERITIES.index(e["severity"]) >= floor and datetime.fromisoformat(e["timestamp"]) >= start
    ]
