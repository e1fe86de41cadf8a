"""Network probes (stdlib): DNS resolution, TCP reachability, TLS certificate expiry and hostname."""

from __future__ import annotations

from pydantic import Field

from bot.findings import ProbeResult
from bot.params import Params
from bot.probes.base import ProbeContext


class DnsParams(Params):
    """Resolve a name (A/AAAA) and report the addresses."""

    host: str = "{host}"


class TcpParams(Params):
    """Open a TCP connection to host:port and report the connect time."""

    host: str
    port: int = Field(ge=1, le=65535)
    timeout_s: float = Field(3, gt=0, le=30)


class TlsParams(Params):
    """TLS handshake: certificate expiry, issuer and whether it matches the host name."""

    host: str = "{host}"
    port: int = Field(443, ge=1, le=65535)
    warn_days: int = Field(14, ge=0)
    critical_days: int = Field(3, ge=0)


def resolve(ctx: ProbeContext, params: DnsParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement


def connect(ctx: ProbeContext, params: TcpParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement


def certificate(ctx: ProbeContext, params: TlsParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement
