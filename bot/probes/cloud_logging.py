"""Google Cloud Logging probe: recent entries for the guide's filter, grouped by message."""

from __future__ import annotations

from pydantic import Field

from bot.findings import ProbeResult
from bot.params import Params
from bot.probes.base import ProbeContext


class CloudLoggingParams(Params):
    """Entries matching the service's Cloud Logging filter in a time window, grouped by message with counts."""

    filter: str = "{log_filter}"
    match: str | None = Field(None, description='extra clause ANDed to the filter, e.g. textPayload:"OOM"')
    min_severity: str = "ERROR"
    window_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    limit: int = Field(500, ge=1, le=5000)
    warn_count: int = Field(1, ge=1)
    critical_count: int = Field(50, ge=1)


def query(ctx: ProbeContext, params: CloudLoggingParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement
