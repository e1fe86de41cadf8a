"""A small recording HTTP(S) server on 127.0.0.1: canned routes, or a pass-through proxy to a real server.
Also a throw-away certificate authority for the TLS tests.

Every request is recorded (method, path, query) so tests can assert that probes only read. Routes answer
with a status, a JSON or text body, headers and an optional delay (released when the server stops, so a
slow route never holds up teardown). With `upstream`, requests are relayed to that server as they came.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sandbox.serving import QuietServer, serve, stop


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: str


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0


@dataclass
class RecordingServer:
    """Serves `routes` (path -> Route; unknown paths are 404) or relays to `upstream`; records requests."""

    tls: ssl.SSLContext | None = None
    upstream: str | None = None
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    _released: threading.Event = field(default_factory=threading.Event)
    _server: QuietServer | None = None

    def route(
        self,
        path: str,
        *,
        status: int = 200,
        json_body: Any = None,
        text: str = "",
        headers: dict[str, str] | None = None,
        delay_s: float = 0.0,
    ) -> None:
        if json_body is not None:
            body, kind = json.dumps(json_body).encode(), "application/json"
        else:
            body, kind = text.encode(), "text/plain; charset=utf-8"
        self.routes[path] = Route(status, body, {"Content-Type": kind, **(headers or {})}, delay_s)

    @property
    def port(self) -> int:
        assert self._server is not None, "start the server first"
        return int(self._server.server_port)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def methods(self) -> set[str]:
        return {r.method for r in self.requests}

    def start(self) -> RecordingServer:
        self._server = serve(self._serve)
        if self.tls is not None:  # connections are accepted lazily, so wrapping right after start is safe
            self._server.socket = self.tls.wrap_socket(self._server.socket, server_side=True)
        return self

    def stop(self) -> None:
        self._released.set()
        stop(self._server)

    def __enter__(self) -> RecordingServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(handler.path)
        self.requests.append(Recorded(handler.command, parts.path, parts.query))
        if self.upstream is not None:
            return self._relay(handler)
        route = self.routes.get(parts.path, Route(404, b"not found", {"Content-Type": "text/plain"}))
        if route.delay_s and self._released.wait(route.delay_s):
            return  # the server is stopping: drop the request
        _reply(handler, route.status, route.body, route.headers)

    def _relay(self, handler: BaseHTTPRequestHandler) -> None:
        assert self.upstream is not None
        target = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(target.netloc, timeout=10)
        try:
            connection.request(handler.command, handler.path, headers={"Accept": "application/json"})
            answer = connection.getresponse()
            body = answer.read()
            kind = answer.getheader("Content-Type") or "application/octet-stream"
            _reply(handler, answer.status, body, {"Content-Type": kind})
        finally:
            connection.close()


def _reply(handler: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str]) -> None:
    handler.send_response(status)
    for name, value in headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)


class CertAuthority:
    """A throw-away CA (needs the `cryptography` package) issuing server certificates for TLS tests.

    `ca_file` is the bundle a client trusts (Clients.http_verify); `server_context()` serves a leaf
    certificate for the given names, valid for `days` from now (negative: expired that many days ago).
    """

    def __init__(self, workdir: Path, name: str = "Test CA") -> None:
        from cryptography import x509
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        self.workdir = workdir
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Chatops Tests"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        now = datetime.now(UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=400))
            .not_valid_after(now + timedelta(days=400))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self._key, _sha256())
        )
        self.ca_file = str(workdir / "ca.pem")
        Path(self.ca_file).write_bytes(_pem(self._cert))
        self._issued = 0

    def server_context(
        self, names: tuple[str, ...] = ("localhost", "127.0.0.1"), days: float = 90
    ) -> ssl.SSLContext:
        import ipaddress

        from cryptography import x509
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID

        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        not_after = now + timedelta(days=days, minutes=30 if days > 0 else -30)  # whole days, not 89.99
        alt_names: list[x509.GeneralName] = []
        for name in names:
            try:
                alt_names.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                alt_names.append(x509.DNSName(name))
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(min(now, not_after) - timedelta(days=30))
            .not_valid_after(not_after)
            .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
            .sign(self._key, _sha256())
        )
        self._issued += 1
        chain = self.workdir / f"server{self._issued}.pem"
        key_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        chain.write_bytes(_pem(cert) + key_pem)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(chain)
        return context


def _sha256() -> Any:
    from cryptography.hazmat.primitives import hashes

    return hashes.SHA256()


def _pem(cert: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return bytes(cert.public_bytes(serialization.Encoding.PEM))
