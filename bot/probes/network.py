"""Network probes (stdlib): DNS resolution, TCP reachability, TLS certificate expiry and hostname.

A name that does not resolve (what `dns.resolve` asks) and a certificate that is expired, for another host or
untrusted are findings (`critical`). A port the bot cannot reach (refused, no route, no answer) says as much
about where the bot runs as about the service: the check could not run (`error`, "could not reach"), which is
never evidence and never raises the SEV. The certificate helpers are shared with the HTTP probe.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import ssl
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from pydantic import Field, field_validator

from bot.faults import Rank, fault
from bot.findings import ProbeResult
from bot.params import Params
from bot.probes.base import ProbeContext, ProbeFailure
from bot.severity import Status

T = TypeVar("T")
_NO_SUCH_NAME = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}
MAX_ADDRESSES = 16
FAILURE_TTL_S = 30.0  # a name that failed to resolve is answered from memory this long


class DnsParams(Params):
    """Resolve a name (A/AAAA) and report the addresses."""

    host: str = "{host}"


class TcpParams(Params):
    """Open a TCP connection to host:port and report the connect time."""

    host: str
    port: int | str = Field(
        description="a number, or the service's configured one: {postgres_port}, {redis_port}"
    )
    timeout_s: float = Field(default=3, gt=0, le=30)

    @field_validator("port")
    @classmethod
    def _port(cls, value: int | str) -> int | str:
        if isinstance(value, int) and not 1 <= value <= 65535:
            raise ValueError("a port is 1..65535")
        if isinstance(value, str) and not re.fullmatch(r"\{[a-z_]+_port\}", value):
            raise ValueError("a port is a number or a placeholder such as {postgres_port}")
        return value


class TlsParams(Params):
    """TLS handshake: certificate expiry, issuer and whether it matches the host name."""

    host: str = "{host}"
    port: int = Field(default=443, ge=1, le=65535)
    warn_days: int = Field(default=14, ge=0)
    critical_days: int = Field(default=3, ge=0)


class Unreachable(Exception):
    """The service's host or port cannot be reached from the bot (the check could not run)."""


class HandshakeFailed(Unreachable):
    """The port answered but the TLS handshake failed: that is the service's (a finding, critical)."""


def seconds(value: float) -> str:
    """'5' or '0.3': timeouts as a person would say them."""
    return f"{value:.0f}" if value >= 10 or value == int(value) else f"{value:.1f}"


def in_worker(call: Callable[[], T], timeout: float, what: str) -> T:
    """Run a blocking call in a daemon thread, bounded by `timeout` (the thread is left to finish)."""
    outcome: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            outcome["value"] = call()
        except BaseException as err:  # handed to the caller's thread
            outcome["error"] = err
        done.set()

    threading.Thread(target=work, daemon=True, name="probe-worker").start()
    if not done.wait(timeout):
        raise ProbeFailure(f"{what} did not finish within {seconds(timeout)} s")
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


class Resolver:
    """getaddrinfo as the probes use it: bounded by each caller's timeout (getaddrinfo itself has none),
    one lookup per name at a time (concurrent checks of one host wait for the same answer), and a name that
    failed to resolve answered from memory for `failure_ttl` seconds, so a broken resolver or a missing name
    costs one wait, not one per check."""

    def __init__(
        self, failure_ttl: float = FAILURE_TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.failure_ttl, self.clock = failure_ttl, clock
        self._lock = threading.Lock()
        self._failed: dict[tuple[str, int | None], tuple[float, BaseException]] = {}
        self._running: dict[tuple[str, int | None], Future[list[tuple[Any, ...]]]] = {}

    def lookup(self, host: str, port: int | None, timeout: float) -> list[tuple[Any, ...]]:
        key = (host, port)
        with self._lock:
            failed = self._failed.get(key)
            if failed is not None and self.clock() < failed[0]:
                raise failed[1]
            running = self._running.get(key)
            if running is None:
                running = self._running[key] = Future()
                threading.Thread(target=self._resolve, args=(key, running), daemon=True, name="dns").start()
        try:
            return running.result(timeout)
        except FutureTimeout:
            raise ProbeFailure(f"DNS lookup of {host} did not finish within {seconds(timeout)} s") from None

    def _resolve(self, key: tuple[str, int | None], answer: Future[list[tuple[Any, ...]]]) -> None:
        try:
            found = socket.getaddrinfo(key[0], key[1], type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as err:
            with self._lock:
                self._failed[key] = (self.clock() + self.failure_ttl, err)
                del self._running[key]
            answer.set_exception(err)
            return
        with self._lock:
            self._failed.pop(key, None)
            del self._running[key]
        answer.set_result(found)


RESOLVER = Resolver()  # one per process, as the system's own resolver cache would be


def lookup(host: str, port: int | None, timeout: float) -> list[tuple[Any, ...]]:
    """getaddrinfo within the deadline; a name that does not exist raises Unreachable."""
    try:
        return RESOLVER.lookup(host, port, timeout)
    except socket.gaierror as err:
        if err.errno in _NO_SUCH_NAME:
            raise Unreachable(f"{host} does not resolve ({err.strerror})") from None
        raise ProbeFailure(f"DNS lookup of {host} failed: {err.strerror}") from None
    except UnicodeError:
        raise ProbeFailure(f"'{host}' is not a valid host name") from None


def open_connection(host: str, port: int, timeout: float) -> socket.socket:
    """A connected socket to the first address that answers; Unreachable names why none did."""
    deadline = time.monotonic() + timeout
    target = f"{host}:{port}"
    reason = "no address"
    for family, kind, proto, _, address in lookup(host, port, timeout)[:MAX_ADDRESSES]:
        sock = socket.socket(family, kind, proto)
        try:
            sock.settimeout(max(0.05, deadline - time.monotonic()))
            sock.connect(address)
            return sock
        except ConnectionRefusedError:
            reason = f"{target} refused the connection"
        except TimeoutError:
            reason = f"{target} did not answer within {seconds(timeout)} s"
        except OSError as err:
            reason = f"{target} is unreachable ({err.strerror or err})"
        sock.close()
        if time.monotonic() >= deadline:
            break
    raise Unreachable(reason)


def resolve(ctx: ProbeContext, params: DnsParams) -> ProbeResult:
    host = ctx.render(params.host)
    started = time.monotonic()
    try:
        infos = lookup(host, None, ctx.remaining())
    except Unreachable as err:
        missing = fault(
            f"Host/{host}:does-not-resolve", Rank.SIGN, Status.CRITICAL, str(err), "does-not-resolve"
        )
        return ProbeResult(
            Status.CRITICAL, str(err), data={"host": host, "addresses": [], "faults": [missing]}
        )
    ms = (time.monotonic() - started) * 1000
    addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
    shown = ", ".join(addresses[:4]) + (f" and {len(addresses) - 4} more" if len(addresses) > 4 else "")
    evidence = "\n".join(f"{'AAAA' if ':' in a else 'A':<5} {a}" for a in addresses[:MAX_ADDRESSES])
    return ProbeResult(
        Status.OK,
        f"{host} resolves to {shown} ({ms:.0f} ms)",
        evidence,
        {"host": host, "addresses": addresses[:MAX_ADDRESSES], "ms": round(ms, 1)},
    )


def connect(ctx: ProbeContext, params: TcpParams) -> ProbeResult:
    host = ctx.render(params.host)
    text = ctx.render(str(params.port))
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise ProbeFailure(f"'{text}' is not a port number")
    port = int(text)
    target = f"{host}:{port}"
    started = time.monotonic()
    try:
        sock = open_connection(host, port, min(params.timeout_s, ctx.remaining()))
    except Unreachable as err:
        reason = str(err).removeprefix(f"{target} ")
        data = {"target": target, "connected": False}
        return ProbeResult(Status.ERROR, f"could not reach {target} from the bot: {reason}", data=data)
    ms = (time.monotonic() - started) * 1000
    peer = sock.getpeername()[0]
    sock.close()
    return ProbeResult(
        Status.OK,
        f"{target} accepts connections ({ms:.0f} ms to connect)",
        f"connected to {peer} port {port} in {ms:.1f} ms",
        {"target": target, "connected": True, "address": peer, "connect_ms": round(ms, 1)},
    )


# --- certificates ---


@dataclass(frozen=True)
class CertFacts:
    """What matters about a server certificate, read from the dict `SSLSocket.getpeercert()` returns."""

    subject: str
    names: list[str]
    issuer: str
    not_before: datetime
    not_after: datetime
    read_at: datetime  # when it was served: what "expires in 12 days" counts from

    @classmethod
    def from_peercert(cls, cert: dict[str, Any], read_at: datetime) -> CertFacts:
        def stamp(key: str) -> datetime:
            return datetime.fromtimestamp(ssl.cert_time_to_seconds(cert[key]), UTC)

        subject, issuer = _name(cert.get("subject", ())), _name(cert.get("issuer", ()))
        names = [str(value).strip() for _, value in cert.get("subjectAltName", ())]
        return cls(
            subject.get("commonName", ""),
            names,
            _issuer(issuer),
            stamp("notBefore"),
            stamp("notAfter"),
            read_at,
        )

    @property
    def days_left(self) -> float:
        return (self.not_after - self.read_at).total_seconds() / 86400

    @property
    def expires(self) -> str:
        return self.not_after.strftime("%Y-%m-%d %H:%M UTC")

    def matches(self, host: str) -> bool:
        """Whether the certificate's subjectAltNames cover the host (one-label wildcards), as browsers check."""
        wanted = host.lower().rstrip(".")
        try:
            ip = ipaddress.ip_address(wanted.strip("[]"))
        except ValueError:
            ip = None
        for name in (n.lower().rstrip(".") for n in self.names):
            if ip is not None:
                if _same_ip(name, ip):
                    return True
            elif name == wanted or (
                name.startswith("*.") and "." in wanted and wanted.split(".", 1)[1] == name[2:]
            ):
                return True
        return False

    def describe(self) -> str:
        return "\n".join(
            [
                f"subject:  CN={self.subject}" if self.subject else "subject:  (no common name)",
                f"names:    {', '.join(self.names[:20]) or '(no subjectAltName)'}",
                f"issuer:   {self.issuer}",
                f"valid:    {self.not_before:%Y-%m-%d} .. {self.not_after:%Y-%m-%d} ({_left(self.days_left)})",
            ]
        )

    def as_data(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "names": self.names[:20],
            "issuer": self.issuer,
            "not_after": self.not_after.isoformat(),
            "days_left": round(self.days_left, 1),
        }


def peer_certificate(ssl_object: Any) -> dict[str, Any]:
    """The peer certificate as a dict, also when it was not verified (then getpeercert() returns {})."""
    cert = ssl_object.getpeercert()
    if cert:
        return dict(cert)
    der = ssl_object.getpeercert(True)  # positional: httpx hands out the low-level _ssl object
    return decode_der(der) if der else {}


def decode_der(der: bytes) -> dict[str, Any]:
    """Decode a DER certificate into getpeercert()'s dict with the ssl module's own decoder (stdlib only)."""
    decoder = getattr(ssl._ssl, "_test_decode_cert", None)  # type: ignore[attr-defined]
    if decoder is None:
        return {}
    handle, path = tempfile.mkstemp(suffix=".pem")
    try:
        with os.fdopen(handle, "w") as pem:
            pem.write(ssl.DER_cert_to_PEM_cert(der))
        return dict(decoder(path))
    finally:
        os.unlink(path)


def verify_failure(err: BaseException | None) -> ssl.SSLCertVerificationError | None:
    """The certificate verification error behind an exception (httpx wraps it), if that is what it was."""
    seen = 0
    while err is not None and seen < 10:
        if isinstance(err, ssl.SSLCertVerificationError):
            return err
        err, seen = err.__cause__ or err.__context__, seen + 1
    return None


def fetch_certificate(
    host: str, port: int, timeout: float, verify: bool | str, now: datetime
) -> tuple[CertFacts, str | None]:
    """The served certificate and, when it is not trusted, OpenSSL's reason (e.g. 'certificate has expired').

    A verified handshake first (with the configured CA bundle); if verification fails, a second handshake
    without verification reads the certificate so the finding can say what is wrong with it.
    """
    deadline = time.monotonic() + timeout
    problem: str | None = None
    if verify is not False:
        context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
        try:
            return CertFacts.from_peercert(_handshake(host, port, timeout, context), now), None
        except ssl.SSLCertVerificationError as err:
            problem = str(err.verify_message or err.reason or err)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    cert = _handshake(host, port, max(0.1, deadline - time.monotonic()), context)
    return CertFacts.from_peercert(cert, now), problem


def _handshake(host: str, port: int, timeout: float, context: ssl.SSLContext) -> dict[str, Any]:
    sock = open_connection(host, port, timeout)
    try:
        with context.wrap_socket(sock, server_hostname=host.strip("[]")) as tls:
            cert = peer_certificate(tls)
    except ssl.SSLCertVerificationError:
        raise
    except ssl.SSLError as err:
        raise HandshakeFailed(f"TLS handshake with {host}:{port} failed ({err.reason or err})") from None
    except TimeoutError:
        raise HandshakeFailed(f"{host}:{port} did not complete the TLS handshake in time") from None
    except OSError as err:
        raise HandshakeFailed(f"TLS handshake with {host}:{port} failed ({err.strerror or err})") from None
    finally:
        sock.close()
    if not cert:
        raise ProbeFailure(f"could not read the certificate served by {host}:{port}")
    return cert


def certificate(ctx: ProbeContext, params: TlsParams) -> ProbeResult:
    host = ctx.render(params.host)
    try:
        facts, untrusted = fetch_certificate(
            host, params.port, ctx.remaining(), ctx.clients.http_verify, ctx.now()
        )
    except HandshakeFailed as err:
        failed = fault(
            f"Certificate/{host}:{params.port}", Rank.SIGN, Status.CRITICAL, str(err), "certificate-problem"
        )
        return ProbeResult(
            Status.CRITICAL, str(err), data={"host": host, "port": params.port, "faults": [failed]}
        )
    except Unreachable as err:
        return ProbeResult(
            Status.ERROR, f"could not check the certificate: {err}", data={"host": host, "port": params.port}
        )
    status, summary = assess(facts, host, untrusted, params.warn_days, params.critical_days)
    trust = "not checked (verification is off)" if ctx.clients.http_verify is False else "yes"
    evidence = facts.describe() + f"\ntrusted:  {'no, ' + untrusted if untrusted else trust}"
    data = {"host": host, "port": params.port, **facts.as_data(), "untrusted": untrusted}
    if status != Status.OK:
        data["faults"] = [
            fault(f"Certificate/{host}:{params.port}", Rank.SIGN, status, summary, "certificate-problem")
        ]
    return ProbeResult(status, summary, evidence, data)


def assess(
    facts: CertFacts, host: str, untrusted: str | None, warn_days: int, critical_days: int | None
) -> tuple[Status, str]:
    """The certificate's worst problem for a person: wrong host, expired, untrusted, or expiring soon."""
    days = facts.days_left
    if not facts.matches(host):
        names = ", ".join(facts.names[:4]) or f"CN={facts.subject}"
        return (
            Status.CRITICAL,
            f"TLS certificate served for {host} does not match the host name (it is for {names})",
        )
    if days < 0:
        return Status.CRITICAL, f"TLS certificate for {host} expired {_ago(-days)} ({facts.expires})"
    if facts.not_before > facts.read_at:
        return (
            Status.CRITICAL,
            f"TLS certificate for {host} is not valid before {facts.not_before:%Y-%m-%d %H:%M} UTC",
        )
    if untrusted:
        return (
            Status.CRITICAL,
            f"TLS certificate for {host} is not trusted ({untrusted}), issued by {facts.issuer}",
        )
    when = f"TLS certificate for {host} expires {_in(days)} ({facts.expires})"
    if critical_days is not None and days < critical_days:
        return Status.CRITICAL, f"{when}; critical under {critical_days} days"
    if days < warn_days:
        return Status.WARN, f"{when}; warn under {warn_days} days"
    return Status.OK, f"{when}, issued by {facts.issuer}"


def _name(rdns: Any) -> dict[str, str]:
    return {key: value for rdn in rdns for key, value in rdn}


def _issuer(issuer: dict[str, str]) -> str:
    parts = [issuer.get("organizationName", ""), issuer.get("commonName", "")]
    return " ".join(dict.fromkeys(p for p in parts if p)) or "(unnamed issuer)"


def _same_ip(name: str, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    try:
        return ipaddress.ip_address(name) == ip
    except ValueError:
        return False


def _in(days: float) -> str:
    return "in less than a day" if days < 1 else f"in {int(days)} day{'s' if int(days) != 1 else ''}"


def _ago(days: float) -> str:
    return "less than a day ago" if days < 1 else f"{int(days)} day{'s' if int(days) != 1 else ''} ago"


def _left(days: float) -> str:
    return f"expired {_ago(-days)}" if days < 0 else f"{int(days)} days left"
