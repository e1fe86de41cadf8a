"""Prometheus and Alertmanager probes (read-only HTTP APIs)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from bot.findings import ProbeResult
from bot.params import Params
from bot.probes.base import ProbeContext


class PromQueryParams(Params):
    """Instant PromQL query compared with warning and critical thresholds."""

    query: str
    label: str = Field(description="what the number is, e.g. '5xx ratio' or 'p95 latency (s)'")
    warn: float | None = None
    critical: float | None = None
    direction: Literal["above", "below"] = "above"
    unit: str = ""


class PromTargetsParams(Params):
    """Scrape targets that are down (`/api/v1/targets`), optionally only those of a job (regex)."""

    job: str | None = None


class AlertsParams(Params):
    """Alerts firing in Alertmanager (`/api/v2/alerts`) whose labels match, e.g. service={service}."""

    matchers: dict[str, str] = Field(default_factory=lambda: {"service": "{service}"})
    critical_severities: list[str] = Field(default_factory=lambda: ["critical", "page"])


def query(ctx: ProbeContext, params: PromQueryParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement


def targets(ctx: ProbeContext, params: PromTargetsParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement


def alerts(ctx: ProbeContext, params: AlertsParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement
