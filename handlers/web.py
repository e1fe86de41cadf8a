"""The HTTP surface of `chatops serve`: Slack's /slack/events and Alertmanager's /alertmanager beside /healthz,
/readyz and /metrics.

/readyz answers JSON, 200 when this replica can serve Slack (503 with the problems otherwise), and says who
leads the timed work (escalations, pages, expiries), as this replica sees it:

    {"status": "ready", "problems": [], "workers": "up", "replica": "chatops-7f9c-a", "leading": true,
     "leader": "chatops-7f9c-a", "lease": "chatops/chatops-leader"}

`workers` is "starting" for the second or so the worker processes take to start: the replica is ready
meanwhile (acking Slack needs none of them), and the incidents handed over wait in their queue.

`leader` is the holder the Lease last named (null: nobody, or not read yet); `lease` is null with one replica
(SQLite), which always leads. A replica that does not lead is still ready: every replica serves Slack.
/metrics has the same as `chatops_leader{replica="..."}`, 1 or 0.

A plain WSGI app around Bolt's WSGI adapter, served by waitress (a threaded production WSGI server; Bolt's
own server is for development only).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient
from waitress import wasyncore

from bot.metrics import exposition, metrics
from handlers.alertmanager import alertmanager
from handlers.deps import Deps

log = logging.getLogger("chatops")

StartResponse = Callable[..., Any]


AUTH_CHECK_TTL_S = 60.0  # readiness is probed every few seconds; Slack's auth.test need not be


class SlackAuthCheck:
    """Whether Slack accepts the bot's token: a successful auth.test is trusted for a while, so the kubelet's
    readiness probes do not each cost a Web API call (a failure is asked again at the next probe)."""

    def __init__(
        self, client: WebClient, ttl: float = AUTH_CHECK_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client, self.ttl, self.clock = client, ttl, clock
        self._ok_until = float("-inf")

    def problem(self) -> str | None:
        if self.clock() < self._ok_until:
            return None
        try:
            self.client.auth_test()
        except Exception as err:  # readiness reports any failure as text; it must not crash the probe
            return f"slack auth: {err}"
        self._ok_until = self.clock() + self.ttl
        return None


def wsgi_app(
    app: App | None, deps: Deps, auth: SlackAuthCheck | None = None
) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    """The routes; with no `app` (Socket Mode) only health, readiness and metrics: Slack's requests come
    through the socket, and an HTTP route would take requests nobody signed."""
    slack = SlackRequestHandler(app) if app is not None else None
    auth = auth or SlackAuthCheck(deps.client)
    counted = metrics()

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path == "/slack/events" and slack is not None:
            started = time.perf_counter()
            answer = slack(environ, start_response)  # Bolt has run the listener, acked, and built the body
            counted.ack_seconds.observe(time.perf_counter() - started)
            return answer
        if path == "/alertmanager":
            return alertmanager(environ, start_response, deps)
        if path == "/healthz":  # liveness: fails only when a restart is what it takes
            if deps.broken:
                return _reply(start_response, "503 Service Unavailable", f"{deps.broken}\n")
            return _reply(start_response, "200 OK", "ok\n")
        if path == "/readyz":
            problems = readiness_problems(deps, auth)
            readiness = {
                "status": "not ready" if problems else "ready",
                "problems": problems,
                "workers": "up" if deps.workers_up else "starting",  # meanwhile incidents wait in a queue
                **leadership(deps),
            }
            return _reply(start_response, "503 Service Unavailable" if problems else "200 OK",
                          json.dumps(readiness) + "\n", "application/json")  # fmt: skip
        if path == "/metrics":  # the samples of every process, as they stand: nothing is recounted here
            if deps.leader is not None:  # as the elector has it now (it can lapse between its rounds)
                counted.leader.labels(deps.leader.identity).set(1 if deps.leader.is_leader else 0)
            return _reply(start_response, "200 OK", exposition().decode(), CONTENT_TYPE_LATEST)
        return _reply(start_response, "404 Not Found", "not found\n")

    return application


def readiness_problems(deps: Deps, auth: SlackAuthCheck) -> list[str]:
    """Why the bot cannot serve yet: the store (one constant-time query) or Slack auth not working."""
    problems = []
    try:
        deps.store.ping()
    except Exception as err:  # readiness reports any failure as text; it must not crash the probe
        problems.append(f"store: {err}")
    slack = auth.problem()
    if slack:
        problems.append(slack)
    return problems


def leadership(deps: Deps) -> dict[str, Any]:
    """Who this replica is and who leads, for /readyz (all null before the reconciler has an elector)."""
    leader = deps.leader
    if leader is None:
        return {"replica": None, "leading": None, "leader": None, "lease": None}
    return {
        "replica": leader.identity,
        "leading": leader.is_leader,
        "leader": leader.holder,
        "lease": leader.lease,
    }


def _reply(
    start_response: StartResponse, status: str, body: str, kind: str = "text/plain; charset=utf-8"
) -> list[bytes]:
    data = body.encode()
    start_response(status, [("Content-Type", kind), ("Content-Length", str(len(data)))])
    return [data]


def stop_server(server: Any, thread: threading.Thread, timeout: float = 10.0) -> None:
    """Stop a waitress server running in `thread`, in the one safe order. Its sockets are closed inside its own
    loop (closing them from another thread pulls them from under a running select). Its wake-up pipe is closed
    last, after the worker threads have finished: a request that completes wakes the loop by writing to the
    pipe's file descriptor number, and once that number is reused the write lands in someone else's socket."""

    def in_loop(work: Callable[[], None]) -> None:
        if thread.is_alive():
            try:
                server.trigger.pull_trigger(work)
                return
            except OSError as error:  # the pipe's descriptor was closed under it: the loop cannot be woken
                log.warning("waitress's wake-up pipe is gone (%s); closing its sockets from here", error)
        work()

    def close_rest() -> None:
        # The connections left, then the pipe itself: the loop ends when its map is empty.
        for channel in list(server._map.values()):
            channel.close()

    # The listening socket alone: waitress's own close() would take the pipe with it.
    in_loop(lambda: wasyncore.dispatcher.close(server))
    # Requests in progress finish, and may still wake the loop.
    server.task_dispatcher.shutdown(timeout=timeout)
    in_loop(close_rest)
    thread.join(timeout)
