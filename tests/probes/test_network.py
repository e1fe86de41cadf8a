"""dns.resolve, tcp.connect and tls.certificate against local sockets and TLS servers with test certificates."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from fakes.http_server import CertAuthority, RecordingServer

from bot.config import Service
from bot.probes.base import Clients, ProbeContext, ProbeFailure, Skip
from bot.probes.network import DnsParams, Resolver, TcpParams, TlsParams, certificate, connect, resolve
from bot.severity import Status

LOCAL = Service.model_validate(
    {"guide": "ai-platform", "team": "platform", "health_url": "https://localhost/health"}
)


def context(service: Service = LOCAL, verify: bool | str = True, seconds: float = 5) -> ProbeContext:
    return ProbeContext("api-gateway", service, Clients(http_verify=verify), time.monotonic() + seconds)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A bound port nobody listens on: connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])


# --- dns.resolve ---


def test_localhost_resolves() -> None:
    result = resolve(context(), DnsParams())  # {host} of the health URL
    assert result.status == Status.OK
    assert re.fullmatch(r"localhost resolves to .*127\.0\.0\.1.* \(\d+ ms\)", result.summary)
    assert "A     127.0.0.1" in result.evidence.splitlines()


def test_a_name_that_does_not_exist_is_critical() -> None:
    result = resolve(context(), DnsParams(host="api.chatops-test.invalid"))
    assert result.status == Status.CRITICAL
    assert result.summary.startswith("api.chatops-test.invalid does not resolve (")


def test_service_without_a_host_is_skipped() -> None:
    bare = Service.model_validate({"guide": "ai-platform", "team": "platform"})
    with pytest.raises(Skip, match=r"the service has no host in chatops\.yaml"):
        resolve(context(bare), DnsParams())


# --- tcp.connect ---


def test_open_port_accepts_connections() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        result = connect(context(), TcpParams(host="{host}", port=port))
    assert result.status == Status.OK
    assert re.fullmatch(rf"localhost:{port} accepts connections \(\d+ ms to connect\)", result.summary)


def test_a_closed_port_could_not_be_checked(closed_port: int) -> None:
    result = connect(context(), TcpParams(host="127.0.0.1", port=closed_port))
    assert (result.status, result.summary) == (
        Status.ERROR,
        f"could not reach 127.0.0.1:{closed_port} from the bot: refused the connection",
    )


def test_an_unknown_host_could_not_be_checked() -> None:
    result = connect(context(), TcpParams(host="db.chatops-test.invalid", port=5432))
    assert result.status == Status.ERROR
    assert result.summary.startswith(
        "could not reach db.chatops-test.invalid:5432 from the bot: db.chatops-test.invalid does not resolve"
    )


def test_the_port_is_the_services_configured_one() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        svc = Service.model_validate({"guide": "demo", "team": "t", "postgres": f"127.0.0.1:{port}"})
        ctx = ProbeContext("demo", svc, Clients(), time.monotonic() + 30)
        result = connect(ctx, TcpParams(host="{postgres_host}", port="{postgres_port}"))
    assert (result.status, result.data["target"]) == (Status.OK, f"127.0.0.1:{port}")


@pytest.mark.parametrize("port", [0, 70000, "5432", "{postgres}"])
def test_a_port_is_a_number_or_a_port_placeholder(port: int | str) -> None:
    with pytest.raises(ValueError, match="a port is"):
        TcpParams(host="db", port=port)


# --- tls.certificate ---


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertAuthority:
    pytest.importorskip("cryptography")
    return CertAuthority(tmp_path_factory.mktemp("ca"))


def check_tls(
    ca: CertAuthority, verify: bool | str | None = None, **issue: object
) -> tuple[Status, str, str]:
    """Serve a certificate issued with `issue` and run tls.certificate on localhost against it."""
    with RecordingServer(tls=ca.server_context(**issue)) as server:  # type: ignore[arg-type]
        result = certificate(
            context(verify=ca.ca_file if verify is None else verify), TlsParams(port=server.port)
        )
    assert server.requests == []  # a handshake only, no HTTP request at all
    return result.status, result.summary, result.evidence


def test_valid_certificate(ca: CertAuthority) -> None:
    status, summary, evidence = check_tls(ca, days=90)
    assert status == Status.OK
    assert re.fullmatch(
        r"TLS certificate for localhost expires in 90 days \(\S+ \S+ UTC\), issued by Chatops Tests Test CA",
        summary,
    )
    assert "names:    localhost, 127.0.0.1" in evidence
    assert "trusted:  yes" in evidence


@pytest.mark.parametrize(
    ("days", "status", "limit"),
    [(10, Status.WARN, "warn under 14 days"), (2, Status.CRITICAL, "critical under 3 days")],
)
def test_certificate_expiring_soon(ca: CertAuthority, days: int, status: Status, limit: str) -> None:
    got, summary, _ = check_tls(ca, days=days)
    assert got == status
    assert summary.startswith(f"TLS certificate for localhost expires in {days} days (")
    assert summary.endswith(f"; {limit}")


def test_expired_certificate_is_critical(ca: CertAuthority) -> None:
    status, summary, evidence = check_tls(ca, days=-3)
    assert status == Status.CRITICAL
    assert re.fullmatch(r"TLS certificate for localhost expired 3 days ago \(\S+ \S+ UTC\)", summary)
    assert "(expired 3 days ago)" in evidence
    assert "trusted:  no, certificate has expired" in evidence


def test_certificate_for_another_host_is_critical(ca: CertAuthority) -> None:
    status, summary, evidence = check_tls(ca, names=("other.example", "*.other.example"))
    assert status == Status.CRITICAL
    assert summary == (
        "TLS certificate served for localhost does not match the host name (it is for other.example, *.other.example)"
    )
    assert "Hostname mismatch" in evidence


def test_expired_or_wrong_host_is_found_without_verification_too(ca: CertAuthority) -> None:
    assert check_tls(ca, verify=False, days=-3)[0] == Status.CRITICAL
    status, summary, evidence = check_tls(ca, verify=False, names=("other.example",))
    assert (status, summary.split(" (")[0]) == (
        Status.CRITICAL,
        "TLS certificate served for localhost does not match the host name",
    )
    assert "trusted:  not checked (verification is off)" in evidence


def test_certificate_from_an_unknown_issuer_is_not_trusted(ca: CertAuthority) -> None:
    status, summary, _ = check_tls(ca, verify=True)  # the system store does not know the test CA
    assert status == Status.CRITICAL
    assert summary == (
        "TLS certificate for localhost is not trusted (unable to get local issuer certificate), issued by Chatops Tests Test CA"
    )


def test_port_without_tls_is_critical() -> None:
    with RecordingServer() as plain:
        result = certificate(context(), TlsParams(port=plain.port))
    assert result.status == Status.CRITICAL
    assert result.summary.startswith(f"TLS handshake with localhost:{plain.port} failed (")
    assert plain.methods() <= {"GET"}


def test_a_closed_tls_port_could_not_be_checked(closed_port: int) -> None:
    result = certificate(context(), TlsParams(host="127.0.0.1", port=closed_port))
    assert (result.status, result.summary) == (
        Status.ERROR,
        f"could not check the certificate: 127.0.0.1:{closed_port} refused the connection",
    )


# --- the resolver the probes share ---


def test_a_name_that_failed_is_answered_from_memory_for_a_while(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def missing(host: str, port: object, type: int = 0) -> list[object]:
        asked.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", missing)
    now = [0.0]
    resolver = Resolver(failure_ttl=30, clock=lambda: now[0])
    for _ in range(3):
        with pytest.raises(socket.gaierror):
            resolver.lookup("api.chatops-test.invalid", None, 5)
    assert asked == ["api.chatops-test.invalid"], "one question to the resolver, not one per check"
    now[0] = 31
    with pytest.raises(socket.gaierror):
        resolver.lookup("api.chatops-test.invalid", None, 5)
    assert len(asked) == 2, "asked again once the failure is old"


def test_a_mute_resolver_costs_a_check_no_more_than_its_own_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    answer = threading.Event()
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: answer.wait() and [])
    resolver = Resolver()
    try:
        with pytest.raises(ProbeFailure, match=r"DNS lookup of slow.example did not finish within 0\.1 s"):
            resolver.lookup("slow.example", None, 0.05)
    finally:
        answer.set()
