"""One way to run a local stand-in server: every request, whatever its method, goes to one function."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

OnRequest = Callable[[BaseHTTPRequestHandler], None]


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 64  # all probes of a run connect at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Clients that hang up (timeouts, TLS handshakes only) are expected: stay quiet."""


def serve(on_request: OnRequest) -> QuietServer:
    """Start a threaded server on 127.0.0.1 with a free port; the caller shuts it down."""

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            on_request(self)

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:  # keep output quiet
            pass

    server = QuietServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server


def free_port() -> int:
    """A loopback port nothing listens on right now (for a server started in another process)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def stop(server: QuietServer | None) -> None:
    """Stop serving and release the port (safe when the server never started)."""
    if server is not None:
        server.shutdown()
        server.server_close()


def reply_json(handler: BaseHTTPRequestHandler, code: int, payload: Any) -> None:
    data = json.dumps(payload).encode()
    handler.send_response(code)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


def google_error(code: int, message: str, status: str) -> dict[str, Any]:
    """The error body Google's JSON APIs send (Cloud Logging, Cloud Run)."""
    return {"error": {"code": code, "message": message, "status": status}}
