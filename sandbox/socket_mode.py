"""A local stand-in for Slack's Socket Mode endpoint: the websocket `apps.connections.open` hands out.

`with FakeSocketMode() as sockets:` listens on 127.0.0.1; give `sockets.url` to `FakeSlackApi(app_token=...,
socket_url=...)` and the app's `SocketModeClient` connects here. As Slack does, it says `hello` on connect,
pings every connection, delivers envelopes (`send()`) to the newest one and records the acks the app sends
back (`{"envelope_id": ..., "payload": ...}`; `wait_for_ack()`); `disconnect()` asks the app to reconnect.

Websockets (RFC 6455) by hand on the standard library, only what Slack's side needs: the upgrade, unfragmented
text frames (ours unmasked, the client's masked), ping/pong and close.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import struct
import threading
import uuid
from http.server import BaseHTTPRequestHandler
from io import BufferedIOBase
from typing import Any

from sandbox.serving import QuietServer, serve, stop
from sandbox.slack_render import APP_ID

APP_TOKEN = "xapp-1-A0CHATOPS-1-sandbox-app-token"
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 section 1.3
TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA
Json = dict[str, Any]


class Link:
    """One app connection: frames out under a lock (the pinger and `send()` share the socket)."""

    def __init__(self, sock: socket.socket, ticket: str) -> None:
        self.sock, self.ticket = sock, ticket
        self.open = True
        self._lock = threading.Lock()

    def send(self, opcode: int, data: bytes) -> None:
        with self._lock:
            if not self.open:
                return
            try:
                self.sock.sendall(_frame(opcode, data))
            except OSError:  # the app hung up
                self.open = False

    def send_json(self, message: Json) -> None:
        self.send(TEXT, json.dumps(message).encode())

    def close(self, code: int = 1001, reason: str = "going away") -> None:
        self.send(CLOSE, struct.pack("!H", code) + reason.encode())
        self.open = False
        with contextlib.suppress(OSError):  # already gone
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the reading thread


class FakeSocketMode:
    """Slack's side of Socket Mode for tests; `url` is the `ws://` address apps.connections.open answers."""

    def __init__(self, ping_interval: float = 0.1) -> None:
        # Frequent pings, as Slack's (slower) ones, also let the builtin client's close() return at once:
        # its disconnect waits for a pending socket read, which otherwise lasts up to its 3 s timeout.
        self.ping_interval = ping_interval
        self.links: list[Link] = []  # every connection that got `hello`, oldest first
        self.acks: dict[str, Json] = {}
        self._changed = threading.Condition()
        self._stopping = threading.Event()
        self._server: QuietServer | None = None
        self._pinger: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "start the fake first"
        return f"ws://127.0.0.1:{self._server.server_port}/link/"

    def __enter__(self) -> FakeSocketMode:
        self._server = serve(self._serve)
        self._pinger = threading.Thread(target=self._ping, name="socket-mode-pings", daemon=True)
        self._pinger.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        if self._pinger is not None:
            self._pinger.join()
        for link in self.open_links():
            link.close()
        stop(self._server)

    # --- what tests use ---

    def open_links(self) -> list[Link]:
        with self._changed:
            return [link for link in self.links if link.open]

    def wait_for_connection(self, count: int = 1, timeout: float = 10.0) -> Link:
        """The newest connection, once `count` connections have been made in all (bounded wait)."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.links) >= count, timeout):
                raise TimeoutError(f"the app made {len(self.links)} of {count} Socket Mode connections")
            return self.links[-1]

    def send(self, kind: str, payload: Json, envelope_id: str | None = None, retry_attempt: int = 0,
             retry_reason: str = "", accepts_response_payload: bool | None = None) -> str:  # fmt: skip
        """Deliver an envelope to the newest open connection, as Slack does; returns its envelope id.

        `kind` is `slash_commands`, `interactive` or `events_api`; only events carry the retry fields.
        """
        envelope_id = envelope_id or str(uuid.uuid4())
        if accepts_response_payload is None:  # Slack's answer: can the ack carry a response?
            accepts_response_payload = kind == "slash_commands" or payload.get("type") in (
                "view_submission", "block_suggestion",
            )  # fmt: skip
        envelope = {"envelope_id": envelope_id, "payload": payload, "type": kind,
                    "accepts_response_payload": accepts_response_payload}  # fmt: skip
        if kind == "events_api":
            envelope |= {"retry_attempt": retry_attempt, "retry_reason": retry_reason}
        links = self.open_links()
        if not links:
            raise ConnectionError("no app is connected")
        links[-1].send_json(envelope)
        return envelope_id

    def wait_for_ack(self, envelope_id: str, timeout: float = 10.0) -> Json:
        """The app's ack of that envelope (`{"envelope_id": ..., "payload"?: ...}`), waiting for it (bounded)."""
        with self._changed:
            if not self._changed.wait_for(lambda: envelope_id in self.acks, timeout):
                raise TimeoutError(f"no ack for envelope {envelope_id} within {timeout} s")
            return self.acks[envelope_id]

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Slack's notice that the newest connection will close; the app opens a new one first."""
        links = self.open_links()
        if links:
            links[-1].send_json({"type": "disconnect", "reason": reason, "debug_info": {"host": "sandbox"}})

    # --- serving ---

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        handler.close_connection = True  # after the websocket, no further HTTP on this connection
        key = handler.headers.get("Sec-WebSocket-Key", "")
        upgrade = handler.headers.get("Upgrade", "").lower() == "websocket"
        if handler.command != "GET" or not upgrade or not key or not handler.path.startswith("/link/"):
            body = b"not a Socket Mode websocket request"
            handler.send_response(400)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
            return
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        handler.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            + f"Sec-WebSocket-Accept: {accept}\r\n\r\n".encode())  # fmt: skip
        link = Link(handler.connection, ticket=handler.path.partition("ticket=")[2])
        with self._changed:
            self.links.append(link)
            hello = {"type": "hello", "num_connections": len([x for x in self.links if x.open]),
                     "debug_info": {"host": "sandbox", "build_number": 1, "approximate_connection_time": 18060},
                     "connection_info": {"app_id": APP_ID}}  # fmt: skip
            link.send_json(hello)
            self._changed.notify_all()
        self._receive(link, handler.rfile)

    def _receive(self, link: Link, rfile: BufferedIOBase) -> None:
        while link.open:
            try:
                opcode, data = _read_frame(rfile)
            except (EOFError, OSError):
                break
            if opcode == PING:
                link.send(PONG, data)
            elif opcode == CLOSE:
                link.send(CLOSE, data[:2])
                break
            elif opcode == TEXT:
                self._record(json.loads(data))
        link.open = False

    def _record(self, message: Json) -> None:
        with self._changed:
            if "envelope_id" in message:
                self.acks[message["envelope_id"]] = message
            self._changed.notify_all()

    def _ping(self) -> None:
        while not self._stopping.wait(self.ping_interval):
            for link in self.open_links():
                link.send(PING, b"sandbox")


def _frame(opcode: int, data: bytes) -> bytes:
    """One final, unmasked frame (servers never mask)."""
    first, size = 0x80 | opcode, len(data)
    if size < 126:
        return struct.pack("!BB", first, size) + data
    if size < 1 << 16:
        return struct.pack("!BBH", first, 126, size) + data
    return struct.pack("!BBQ", first, 127, size) + data


def _read_frame(rfile: BufferedIOBase) -> tuple[int, bytes]:
    """(opcode, payload) of the next frame; clients always mask. Fragments are not put back together."""
    first, second = _exact(rfile, 2)
    size = second & 0x7F
    if size == 126:
        (size,) = struct.unpack("!H", _exact(rfile, 2))
    elif size == 127:
        (size,) = struct.unpack("!Q", _exact(rfile, 8))
    mask = _exact(rfile, 4) if second & 0x80 else b"\0\0\0\0"
    data = _exact(rfile, size)
    return first & 0x0F, bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def _exact(rfile: BufferedIOBase, size: int) -> bytes:
    data = rfile.read(size)
    if len(data) < size:
        raise EOFError("the connection closed")
    return data
