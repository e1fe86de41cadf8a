"""The HTTP surface of `chatops serve`: Slack's /slack/events and Alertmanager's /alertmanager beside /healthz,
/readyz and /metrics.

A plain WSGI app around Bolt's WSGI adapter, served by waitress (a threaded production WSGI server; Bolt's
own server is for development only).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from bot.severity import Sev
from handlers.alertmanager import alertmanager
from handlers.deps import Deps

StartResponse = Callable[..., Any]


class Metrics:
    """Counters in the Prometheus text format (no client library needed for a handful of counters)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def inc(self, name: str, labels: str = "") -> None:
        with self._lock:
            self._counts[(name, labels)] += 1

    def text(self) -> str:
        with self._lock:
            items = sorted(self._counts.items())
        lines = []
        for name in sorted({n for (n, _), _ in items}):
            lines.append(f"# TYPE {name} counter")
            lines += [
                f"{n}{{{labels}}} {count}" if labels else f"{n} {count}"
                for (n, labels), count in items
                if n == name
            ]
        return "\n".join(lines) + "\n"


def wsgi_app(
    app: App | None, deps: Deps, metrics: Metrics
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """The routes; with no `app` (Socket Mode) only health, readiness and metrics: Slack's requests come
    through the socket, and an HTTP route would take requests nobody signed."""
    slack = SlackRequestHandler(app) if app is not None else None

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/slack/events" and slack is not None:
            metrics.inc("chatops_slack_requests_total")
            return slack(environ, start_response)
        if path == "/alertmanager":
            metrics.inc("chatops_alertmanager_requests_total")
            return alertmanager(environ, start_response, deps)
        if path == "/healthz":  # liveness: fails only when a restart is what it takes
            if deps.broken:
                return _reply(start_response, "503 Service Unavailable", f"{deps.broken}\n")
            return _reply(start_response, "200 OK", "ok\n")
        if path == "/readyz":
            problems = readiness_problems(deps)
            return _reply(start_response, "503 Service Unavailable" if problems else "200 OK",
                          "\n".join(problems or ["ready"]) + "\n")  # fmt: skip
        if path == "/metrics":
            text = metrics.text() + incident_gauges(deps)
            return _reply(start_response, "200 OK", text, "text/plain; version=0.0.4")
        return _reply(start_response, "404 Not Found", "not found\n")

    return application


def incident_gauges(deps: Deps) -> str:
    """Open incidents by severity, counted by the store (the worker processes open them, not this one)."""
    by_sev = deps.store.count_open()
    lines = ["# TYPE chatops_incidents_open gauge"]
    lines += [f'chatops_incidents_open{{severity="{sev}"}} {by_sev.get(sev, 0)}' for sev in (*Sev, "none")]
    return "\n".join(lines) + "\n"


def readiness_problems(deps: Deps) -> list[str]:
    """Why the bot cannot serve yet: the store or Slack auth not working (empty when ready)."""
    problems = []
    try:
        deps.store.ping()
    except Exception as err:  # readiness reports any failure as text; it must not crash the probe
        problems.append(f"store: {err}")
    try:
        deps.client.auth_test()
    except Exception as err:
        problems.append(f"slack auth: {err}")
    return problems


def _reply(
    start_response: StartResponse, status: str, body: str, kind: str = "text/plain; charset=utf-8"
) -> list[bytes]:
    data = body.encode()
    start_response(status, [("Content-Type", kind), ("Content-Length", str(len(data)))])
    return [data]


def stop_server(server: Any, thread: threading.Thread, timeout: float = 10.0) -> None:
    """Stop a waitress server running in `thread`: its sockets are closed inside its own loop (closing them from
    another thread pulls them from under a running select), then its worker threads finish."""

    def close_all() -> None:
        server.close()
        for channel in list(server._map.values()):  # connections still open: the loop ends when none is left
            channel.close()

    server.trigger.pull_trigger(close_all)
    thread.join(timeout)
    server.task_dispatcher.shutdown(timeout=timeout)
