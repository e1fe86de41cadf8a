"""HTTP probe (read-only GET): status, latency, JSON health fields, certificate of https endpoints."""

from __future__ import annotations

from pydantic import Field

from bot.findings import ProbeResult
from bot.params import Params
from bot.probes.base import ProbeContext


class HttpCheckParams(Params):
    """GET a URL; check status, latency and selected fields of a JSON body (`jq .checks.circuit_breaker`)."""

    url: str = "{health_url}"
    expect_status: list[int] = Field(default_factory=lambda: [200])
    latency_warn_ms: float = Field(1000, gt=0)
    latency_critical_ms: float = Field(5000, gt=0)
    json_fields: dict[str, str] = Field(
        default_factory=dict,
        description="dotted path in the JSON body -> healthy value, e.g. checks.circuit_breaker: closed",
    )
    cert_warn_days: int = Field(14, ge=0)
    timeout_s: float = Field(5, gt=0, le=60)


def check(ctx: ProbeContext, params: HttpCheckParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement
