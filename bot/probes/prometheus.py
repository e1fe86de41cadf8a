"""Prometheus and Alertmanager probes (read-only HTTP APIs).

Prometheus or Alertmanager not answering means the question could not be asked: ProbeFailure (`error`),
with Prometheus' own message when it rejects a query.
"""

from __future__ import annotations

import math
import re
from typing import Any, Literal

from pydantic import Field, field_validator

from bot.faults import Rank, fault
from bot.findings import ProbeResult
from bot.params import Params
from bot.probes.base import ProbeContext, ProbeFailure
from bot.probes.network import seconds
from bot.severity import Status

MAX_ROWS = 20  # series, targets or alerts listed in evidence
MAX_NAMED = 3  # named in the one-line summary


class PromQueryParams(Params):
    """Instant PromQL query compared with warning and critical thresholds."""

    query: str
    label: str = Field(description="what the number is, e.g. '5xx ratio' or 'p95 latency (s)'")
    warn: float | None = None
    critical: float | None = None
    direction: Literal["above", "below"] = "above"
    unit: str = ""
    no_data: Literal["ok", "warn", "critical"] = Field(
        default="warn", description="status when the query returns no series (e.g. ok for count(ALERTS))"
    )


class PromTargetsParams(Params):
    """Scrape targets that are down (`/api/v1/targets`), optionally only those of a job (regex)."""

    job: str | None = None

    @field_validator("job")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as err:
                raise ValueError(f"job is not a valid regular expression: {err}") from None
        return value


class AlertsParams(Params):
    """Alerts firing in Alertmanager (`/api/v2/alerts`) whose labels match, e.g. service={service}."""

    matchers: dict[str, str] = Field(default_factory=lambda: {"service": "{service}"})
    critical_severities: list[str] = Field(default_factory=lambda: ["critical", "page"])


# --- prometheus.query ---


def query(ctx: ProbeContext, params: PromQueryParams) -> ProbeResult:
    base, promql = ctx.render("{prometheus_url}"), ctx.render(params.query)
    body = _get_json(ctx, "Prometheus", base, "/api/v1/query", {"query": promql}, doing="the query")
    series = _series(body.get("data") or {})
    warnings = [str(w) for w in body.get("warnings") or []]
    evidence_head = [f"query: {promql}", *(f"warning: {w}" for w in warnings)]
    numbers = [s for s in series if not math.isnan(s[1])]
    if not numbers:
        why = "the query returned no series" if not series else "every series is NaN (no samples, e.g. 0/0)"
        status = Status(params.no_data)
        text = f"no data for {params.label}"
        faults = (
            [fault(f"Query/{params.label}:no-data", Rank.SIGN, status, text, "no-data")]
            if status != Status.OK
            else []
        )
        return ProbeResult(
            status,
            text,
            "\n".join([*evidence_head, why]),
            {"query": promql, "series": len(series), "value": None, "faults": faults},
        )
    ranked = sorted(numbers, key=lambda s: s[1], reverse=params.direction == "above")
    metric, value = ranked[0]
    status = _compare(value, params)
    where = f" at {_distinct(metric, [m for m, _ in ranked])}" if len(ranked) > 1 else ""
    also = f"; worst of {len(ranked)} series" if len(ranked) > 1 else ""
    summary = f"{params.label} {_amount(value, params.unit)}{where}{_limits(params)}{also}"
    rows = [f"{_amount(v, params.unit):>12}  {_labels(m)}" for m, v in ranked[:MAX_ROWS]]
    if len(ranked) > MAX_ROWS:
        rows.append(f"... and {len(ranked) - MAX_ROWS} more series")
    over = fault(f"Query/{params.label}:over-threshold", Rank.SATURATED, status, summary, "over-threshold")
    data = {
        "query": promql,
        "value": _json_number(value),
        "warn": params.warn,
        "critical": params.critical,
        "series": [{"labels": m, "value": _json_number(v)} for m, v in ranked[:MAX_ROWS]],
        "faults": [over] if status != Status.OK else [],
    }
    return ProbeResult(status, summary, "\n".join([*evidence_head, *rows]), data)


def _series(data: dict[str, Any]) -> list[tuple[dict[str, str], float]]:
    """(labels, value) for each series of an instant result; a matrix counts by its last sample."""
    kind, result = data.get("resultType"), data.get("result")
    if kind in ("scalar", "string"):
        return [({}, _number(result[1]))] if result else []
    out = []
    for item in result or []:
        sample = item.get("value") or (item.get("values") or [[0, "NaN"]])[-1]
        out.append((dict(item.get("metric") or {}), _number(sample[1])))
    return out


def _compare(value: float, params: PromQueryParams) -> Status:
    """Thresholds are crossed strictly (above: value > threshold), as in alerting rules."""

    def crossed(limit: float | None) -> bool:
        if limit is None:
            return False
        return value > limit if params.direction == "above" else value < limit

    if crossed(params.critical):
        return Status.CRITICAL
    return Status.WARN if crossed(params.warn) else Status.OK


def _limits(params: PromQueryParams) -> str:
    parts = [
        f"{name} {_amount(limit, params.unit)}"
        for name, limit in (("warn", params.warn), ("critical", params.critical))
        if limit is not None
    ]
    return f" ({', '.join(parts)})" if parts else ""


def _distinct(metric: dict[str, str], others: list[dict[str, str]]) -> str:
    """Only the labels that tell the series apart (route="/v1/chat"), so the summary stays one short line."""
    keys = {k for m in others for k in {*m, *metric} if m.get(k) != metric.get(k)}
    shown = {k: v for k, v in metric.items() if k in keys}
    return _labels(shown).strip("{}") if shown else _labels(metric)


def _labels(metric: dict[str, str]) -> str:
    name = metric.get("__name__", "")
    inner = ", ".join(f'{k}="{v}"' for k, v in sorted(metric.items()) if k != "__name__")
    return f"{name}{{{inner}}}"


def _number(text: Any) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def _amount(value: float, unit: str) -> str:
    if math.isinf(value):
        number = "+Inf" if value > 0 else "-Inf"
    elif abs(value) >= 1 or value == 0:
        number = f"{value:.2f}".rstrip("0").rstrip(".")
    else:
        number = f"{value:.3g}"
    if not unit:
        return number
    return f"{number}{unit}" if unit == "%" else f"{number} {unit}"


def _json_number(value: float) -> float | str:
    return value if math.isfinite(value) else str(value)


# --- prometheus.targets ---


def targets(ctx: ProbeContext, params: PromTargetsParams) -> ProbeResult:
    base = ctx.render("{prometheus_url}")
    job = ctx.render(params.job) if params.job else None
    body = _get_json(ctx, "Prometheus", base, "/api/v1/targets", {"state": "active"})
    active = (body.get("data") or {}).get("activeTargets") or []
    if job is not None:
        active = [t for t in active if re.fullmatch(job, _job(t))]
    scope = f" for job '{job}'" if job else ""
    if not active:
        return ProbeResult(Status.WARN, f"no active scrape targets{scope}", data={"job": job, "targets": 0})
    down = [t for t in active if t.get("health") != "up"]
    rows = [
        f"{t.get('health', '?'):<8} {_target(t)}  {t.get('lastError') or ''}".rstrip()
        for t in [*down, *(t for t in active if t.get("health") == "up")][:MAX_ROWS]
    ]
    data = {"job": job, "targets": len(active), "down": [_target(t) for t in down[:MAX_ROWS]]}
    if not down:
        return ProbeResult(
            Status.OK, f"{len(active)} of {len(active)} targets up{scope}", "\n".join(rows), data
        )
    named = ", ".join(f"{_target(t)} ({_short_error(t)})" for t in down[:MAX_NAMED])
    more = f" and {len(down) - MAX_NAMED} more" if len(down) > MAX_NAMED else ""
    status = Status.CRITICAL if len(down) == len(active) else Status.WARN
    summary = f"{len(down)} of {len(active)} targets down{scope}: {named}{more}"
    return ProbeResult(status, summary, "\n".join(rows), data)


def _job(target: dict[str, Any]) -> str:
    return str((target.get("labels") or {}).get("job") or target.get("scrapePool") or "")


def _target(target: dict[str, Any]) -> str:
    instance = (target.get("labels") or {}).get("instance") or target.get("scrapeUrl") or "?"
    return f"{_job(target)}/{instance}"


def _short_error(target: dict[str, Any]) -> str:
    """The end of Go's error chain: 'Get "...": dial tcp ...: connect: connection refused' -> the cause."""
    error = str(target.get("lastError") or "")
    if not error:
        return "not scraped yet" if target.get("health") == "unknown" else str(target.get("health"))
    return error.rsplit(": ", 1)[-1][:120]


# --- alertmanager.alerts ---


def alerts(ctx: ProbeContext, params: AlertsParams) -> ProbeResult:
    base = ctx.render("{alertmanager_url}")
    matchers = {name: ctx.render(value) for name, value in params.matchers.items()}
    filters = [f'{name}="{_quoted(value)}"' for name, value in matchers.items()]
    query: dict[str, Any] = {"active": "true", "silenced": "false", "inhibited": "false", "filter": filters}
    found = _get_json(ctx, "Alertmanager", base, "/api/v2/alerts", query, doing="the filter")
    firing = [
        a
        for a in (found if isinstance(found, list) else [])
        if (a.get("status") or {}).get("state", "active") != "suppressed"
    ]
    scope = " for " + ", ".join(f"{k}={v}" for k, v in matchers.items()) if matchers else ""
    if not firing:
        return ProbeResult(Status.OK, f"no alerts firing{scope}", data={"matchers": matchers, "alerts": []})
    critical = {s.lower() for s in params.critical_severities}
    firing.sort(key=lambda a: (_severity(a) not in critical, str(a.get("startsAt", ""))))
    status = Status.CRITICAL if _severity(firing[0]) in critical else Status.WARN
    names = _alert_names(firing)
    shown = ", ".join(names[:MAX_NAMED]) + (
        f" and {len(names) - MAX_NAMED} more" if len(names) > MAX_NAMED else ""
    )
    count = f"{len(firing)} alert{'s' if len(firing) != 1 else ''}"
    summary = f"{count} firing{scope}: {shown}"
    rows = [_alert_row(a) for a in firing[:MAX_ROWS]]
    if len(firing) > MAX_ROWS:
        rows.append(f"... and {len(firing) - MAX_ROWS} more")
    data = {
        "matchers": matchers,
        "alerts": [
            {"alertname": _label(a, "alertname"), "severity": _severity(a), "startsAt": a.get("startsAt")}
            for a in firing[:MAX_ROWS]
        ],
    }
    return ProbeResult(status, summary, "\n".join(rows), data)


def _alert_names(firing: list[dict[str, Any]]) -> list[str]:
    """'HighErrorRate (critical)' per name and severity, with a count when it fires more than once."""
    counts: dict[tuple[str, str], int] = {}
    for alert in firing:
        key = (_label(alert, "alertname"), _severity(alert) or "no severity")
        counts[key] = counts.get(key, 0) + 1
    return [f"{name}{f' x{n}' if n > 1 else ''} ({sev})" for (name, sev), n in counts.items()]


def _alert_row(alert: dict[str, Any]) -> str:
    notes = alert.get("annotations") or {}
    note = notes.get("summary") or notes.get("description") or ""
    since = str(alert.get("startsAt") or "")[:16].replace("T", " ")
    extra = ", ".join(
        f"{k}={v}"
        for k, v in sorted((alert.get("labels") or {}).items())
        if k not in ("alertname", "severity")
    )
    return f"{_severity(alert) or '-':<9} {_label(alert, 'alertname'):<28} since {since}  {extra}  {note}".rstrip()


def _label(alert: dict[str, Any], name: str) -> str:
    return str((alert.get("labels") or {}).get(name) or "?")


def _severity(alert: dict[str, Any]) -> str:
    return str((alert.get("labels") or {}).get("severity") or "").lower()


def _quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


# --- shared ---


def _get_json(
    ctx: ProbeContext, system: str, base: str, path: str, query: dict[str, Any], doing: str = "the request"
) -> Any:
    """GET an API path and return its JSON; anything else becomes a ProbeFailure a person can read."""
    import httpx  # loaded by the first check: commands that check nothing start faster without it

    timeout = ctx.remaining()
    try:
        with httpx.Client(verify=ctx.clients.tls(), timeout=timeout) as client:
            response = client.get(base.rstrip("/") + path, params=query)
    except (httpx.InvalidURL, httpx.UnsupportedProtocol) as err:
        raise ProbeFailure(f"{system} URL {base} is not usable: {err}") from None
    except httpx.TimeoutException:
        raise ProbeFailure(f"{system} at {base} did not answer within {seconds(timeout)} s") from None
    except httpx.ConnectError as err:
        text = str(err)
        reason = "refused the connection" if "refused" in text.lower() else f"could not be reached ({text})"
        raise ProbeFailure(f"{system} at {base} {reason}") from None
    except httpx.HTTPError as err:
        raise ProbeFailure(f"{system} at {base} failed: {err or type(err).__name__}") from None
    try:
        body = response.json()
    except ValueError:
        body = None
    if response.is_success and body is not None:
        if isinstance(body, dict) and body.get("status") == "error":
            raise ProbeFailure(f"{system} rejected {doing}: {body.get('error')}")
        return body
    error = _error_text(body) or response.text.strip()[:200] or response.reason_phrase
    if response.status_code in (400, 422):
        raise ProbeFailure(f"{system} rejected {doing}: {error}")
    raise ProbeFailure(f"{system} at {base} answered HTTP {response.status_code}: {error}")


def _error_text(body: Any) -> str:
    """Prometheus says {errorType, error}; Alertmanager {code, message} or a bare JSON string."""
    if isinstance(body, dict):
        kind = body.get("errorType")
        text = str(body.get("error") or body.get("message") or "")
        return f"{text} ({kind})" if kind and text else text
    return body if isinstance(body, str) else ""
