"""A real Alertmanager (Debian's `prometheus-alertmanager`) notifying one webhook, for integration tests.

`Alertmanager(webhook_url, bearer_token)` runs it on a free loopback port, in a temporary directory, with one
route that sends every alert to the webhook at once (`group_wait: 0s`, `group_interval: 1s`, `send_resolved`)
with `http_config.authorization` Bearer. `post_alerts()` goes through its API (`POST /api/v2/alerts`), as
Prometheus does. `WebhookReceiver` is a small local server that records what Alertmanager sends; a test of the
running bot points `webhook_url` at its `POST /alertmanager` instead. Waits are bounded, never fixed sleeps.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
from probes.promstack import ALERTMANAGER

from sandbox.serving import QuietServer, free_port, serve, stop

READY_TIMEOUT_S = 40
NOTIFY_TIMEOUT_S = 20


def require_alertmanager() -> None:
    """Skip the test when the binary is missing (fail in CI, which must run it)."""
    if shutil.which(ALERTMANAGER) is None:
        reason = f"{ALERTMANAGER} not on PATH (Debian: apt-get install prometheus-alertmanager)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Alertmanager tests: {reason}")
        pytest.skip(reason)


@dataclass(frozen=True)
class Notification:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class WebhookReceiver:
    """`with WebhookReceiver() as receiver:` records every POST and answers `status` (200)."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self._notifications: list[Notification] = []
        self._arrived = threading.Condition()
        self._server: QuietServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the receiver first"
        return f"http://127.0.0.1:{self._server.server_port}"

    def __enter__(self) -> WebhookReceiver:
        self._server = serve(self._serve)
        return self

    def __exit__(self, *exc: object) -> None:
        stop(self._server)

    def wait_for(self, count: int, timeout_s: float = NOTIFY_TIMEOUT_S) -> list[Notification]:
        """The first `count` notifications, once they have arrived."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._notifications) >= count, timeout_s):
                raise AssertionError(
                    f"{len(self._notifications)} of {count} notifications after {timeout_s} s"
                )
            return self._notifications[:count]

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        body = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in handler.headers.items()}
        with self._arrived:
            self._notifications.append(Notification(handler.path, headers, body))
            self._arrived.notify_all()
        handler.send_response(self.status)
        handler.send_header("Content-Length", "0")
        handler.end_headers()


@dataclass
class Alertmanager:
    """Start with `start()` (or `with`), stop with `stop()`; `url` is set once started."""

    webhook_url: str
    bearer_token: str | None = None
    receiver: str = "chatops-bot"
    group_by: tuple[str, ...] = ("alertname", "service")
    workdir: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="alertmanager-")))
    url: str = ""
    process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Alertmanager:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> Alertmanager:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        (self.workdir / "alertmanager.yml").write_text(json.dumps(self._config()))  # JSON is YAML
        args = [
            f"--config.file={self.workdir / 'alertmanager.yml'}",
            f"--storage.path={self.workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            f"--web.external-url={self.url}",
            "--cluster.listen-address=",  # no gossip port
            "--log.level=warn",
        ]
        with open(self.workdir / "alertmanager.log", "wb") as log:
            self.process = subprocess.Popen([ALERTMANAGER, *args], stdout=log, stderr=subprocess.STDOUT)
        self.wait_until("Alertmanager ready", self._ready, READY_TIMEOUT_S)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def logs(self) -> str:
        log = self.workdir / "alertmanager.log"
        return log.read_text()[-3000:] if log.exists() else ""

    def post_alerts(self, alerts: list[dict[str, Any]]) -> None:
        """Send alerts as Prometheus does; `startsAt`/`endsAt` are RFC 3339 strings."""
        answer = httpx.post(f"{self.url}/api/v2/alerts", json=alerts, timeout=5)
        assert answer.status_code == 200, f"{answer.status_code} {answer.text}\n{self.logs()}"

    def wait_until(self, what: str, condition: Callable[[], bool], timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"{ALERTMANAGER} exited ({self.process.returncode}):\n{self.logs()}")
            if condition():
                return
            time.sleep(0.05)  # polling interval, not a timing assertion
        raise RuntimeError(f"timed out after {timeout_s} s waiting for {what}:\n{self.logs()}")

    def _config(self) -> dict[str, Any]:
        webhook: dict[str, Any] = {"url": self.webhook_url, "send_resolved": True}
        if self.bearer_token:
            webhook["http_config"] = {"authorization": {"type": "Bearer", "credentials": self.bearer_token}}
        return {
            "route": {
                "receiver": self.receiver,
                "group_by": list(self.group_by),
                "group_wait": "0s",
                "group_interval": "1s",
                "repeat_interval": "1h",
            },
            "receivers": [{"name": self.receiver, "webhook_configs": [webhook]}],
        }

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except httpx.TransportError:
            return False
