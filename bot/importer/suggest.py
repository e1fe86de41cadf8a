"""Probes and actions an entry's words call for where no guide command gives them (marked "suggested").

A guide often says "Check database connectivity" or "Restart pod if stuck open" without a command. For
those words, and for the symptoms ("P95 latency exceeds 200ms", "OOMKilled pods"), the importer adds the
probe that checks it, with thresholds taken from the text where it states them, if the service's catalogue
entry has the system the probe needs. Without `--service` nothing is suggested: there is no catalogue to
say which systems exist. Every suggestion is listed in the report with the words that triggered it.
PromQL suggestions use the conventional metric names (Prometheus client libraries, cAdvisor,
postgres_exporter); a team whose metrics differ edits the query.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from bot.importer.guide import Entry, Part
from bot.importer.outcome import Outcome
from bot.importer.placeholders import Context
from bot.importer.signals import signals

# The service's series through its `metrics:` settings ({metrics_selector}, {status_label}), never its name.
_LATENCY = "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket{{metrics_selector}}[5m])) by (le))"
_ERRORS = ('sum(rate(http_requests_total{{metrics_selector}, {status_label}=~"5.."}[5m]))'
           " / sum(rate(http_requests_total{{metrics_selector}}[5m]))")  # fmt: skip
_POOL = "sum(pg_stat_activity_count) / max(pg_settings_max_connections)"
_POD = 'namespace="{namespace}", pod=~"{deployment}-.*", container!=""'
_MEMORY = (
    f"max(container_memory_working_set_bytes{{{_POD}}} / (container_spec_memory_limit_bytes{{{_POD}}} > 0))"
)
_THROTTLED = (f"sum(rate(container_cpu_cfs_throttled_periods_total{{{_POD}}}[5m]))"
              f" / sum(rate(container_cpu_cfs_periods_total{{{_POD}}}[5m]))")  # fmt: skip
_FIRING = 'count(ALERTS{alertstate="firing"}) or vector(0)'


class Builder(Protocol):
    diagnostics: list[dict[str, Any]]
    remediations: list[dict[str, Any]]

    def add_probe(self, name: str, title: str, params: dict[str, Any]) -> bool: ...


Make = Callable[[str, Context], dict[str, Any]]
# (words, catalogue variables needed, probe, title, parameters from the text)
_PROBES: list[tuple[str, tuple[str, ...], str, str, Make]] = [
    (r"latency|slow|response times?|taking\s*>|timeout|timed out|\bp9[59]\b", ("prometheus_url",),
     "prometheus.query", "p95 latency", lambda t, c: _latency(t)),
    (r"error rate|5xx|\b50[0-4]\b|internal server error|bad gateway", ("prometheus_url",),
     "prometheus.query", "5xx error ratio", lambda t, c: _error_ratio(t)),
    (r"connection pool|too many (clients|connections)|pool exhaust", ("prometheus_url",),
     "prometheus.query", "database connections in use",
     lambda t, c: {"query": _POOL, "label": "share of max_connections in use", "warn": 0.8, "critical": 0.95}),
    (r"memory|\boom", ("prometheus_url", "deployment"), "prometheus.query", "memory against the limit",
     lambda t, c: {"query": _MEMORY, "label": "memory / limit", "warn": 0.8, "critical": 0.95}),
    (r"cpu|throttl", ("prometheus_url", "deployment"), "prometheus.query", "CPU throttling",
     lambda t, c: {"query": _THROTTLED, "label": "throttled CPU periods", "warn": 0.25, "critical": 0.5}),
    (r"too many alerts|alert fatigue|false positive", ("prometheus_url",), "prometheus.query",
     "firing alerts", lambda t, c: {"query": _FIRING, "label": "firing alerts", "warn": 20, "critical": 50}),
    (r"health|respon|slow|latency|timeout|unavailable|\b50[0-9]\b|5xx|error rate|start|crash|connection|"
     r"\bdown\b|connection (failed|refused|errors?)", ("health_url",), "http.check", "Health endpoint", lambda t, c: _health(t)),
    (r"database connect|db connect|connect to (the )?database|database connectivity|db credentials",
     ("postgres_host",), "tcp.connect", "Database reachable", lambda t, c: _tcp(c, "postgres", 5432)),
    (r"redis|celery|broker", ("redis_host",), "tcp.connect", "Redis reachable", lambda t, c: _tcp(c, "redis", 6379)),
    (r"memory|cpu|oom|resource", ("deployment",), "k8s.resource_usage", "CPU and memory against limits",
     lambda t, c: {}),
    (r"crash|oom|restart|won.t start|exits|not ready", ("deployment",), "k8s.pods", "Pod states and restarts",
     lambda t, c: {}),
    (r"oom|crash|events|won.t start|probe fail|unhealthy", ("deployment",), "k8s.events", "Warning events",
     lambda t, c: {}),
    (r"deploy|rollback|roll back|breaking change", ("deployment",), "k8s.rollout", "Recent deployments",
     lambda t, c: {}),
    (r"\b503\b|unavailable|not receiving traffic|no healthy|endpoints|service discovery|instances down",
     ("k8s_service",), "k8s.endpoints", "Ready endpoints behind the Service", lambda t, c: {}),
    (r"network ?polic|blocking traffic", ("selector",), "k8s.network_policies", "Network policies", lambda t, c: {}),
    (r"ingress|https|\btls\b|ssl", ("ingress",), "k8s.ingress", "Ingress and its TLS", lambda t, c: {}),
    (r"\bdns\b|resolv", ("host",), "dns.resolve", "DNS of the service's host", lambda t, c: {}),
    (r"deploy|revision|won.t start|doesn.t start|not responding|unavailable|upload|url", ("cloud_run_service",),
     "cloud_run.service", "Cloud Run service and revisions", lambda t, c: {}),
]  # fmt: skip
# Sentences in the solutions that an action does, on the platform the service runs on.
_ACTIONS: list[tuple[str, str, str]] = [
    (r"\brestart", "deployment", "k8s.rollout_restart"),
    (r"\brestart|redeploy", "cloud_run_service", "cloud_run.redeploy"),
    (r"roll ?back|review recent deployments", "deployment", "k8s.rollout_undo"),
    (r"roll ?back|review recent deployments", "cloud_run_service", "cloud_run.traffic_rollback"),
]
_OTHER_SYSTEM = re.compile(r"monitoring|prometheus|grafana|redis|postgres|database|worker")


def suggestions(entry: Entry, builder: Builder, ctx: Context) -> list[Outcome]:
    """Add the suggested probes and actions to the builder; their outcomes for the report."""
    if not ctx.service:
        return []
    prose = [s for s in entry.steps if s.command is None]
    text = " ".join(
        [
            entry.group,
            entry.heading,
            *entry.symptoms,
            *entry.causes,
            *(f"{s.title} {s.note or ''}" for s in prose),
        ]
    )
    lowered = text.lower()
    outcomes = []
    present = {d.get("probe") for d in builder.diagnostics}
    for words, needs, probe, title, make in _PROBES:
        match = re.search(words, lowered)
        if not match or not all(ctx.has(n) for n in needs):
            continue
        if probe != "prometheus.query" and probe in present:
            continue
        if builder.add_probe(probe, title, make(text, ctx)):
            outcomes.append(_outcome(f"probe {probe}", title, match.group(0), entry.line))
    outcomes += _logs(entry, builder, ctx, present)
    outcomes += _actions(entry, builder, ctx)
    return outcomes


def _actions(entry: Entry, builder: Builder, ctx: Context) -> list[Outcome]:
    outcomes = []
    offered = {r.get("action") for r in builder.remediations}
    if (
        "k8s.scale" in offered
        and ctx.has("deployment")
        and builder.add_probe("k8s.hpa", "Autoscaler state", {})
    ):
        outcomes.append(
            _outcome(
                "probe k8s.hpa", "Autoscaler state", "a k8s.scale action (an HPA overrides it)", entry.line
            )
        )
    alerts = signals(entry).get("alerts", [])
    if (
        alerts
        and ctx.has("alertmanager_url")
        and "alertmanager.alerts" not in {d.get("probe") for d in builder.diagnostics}
    ):
        builder.add_probe(
            "alertmanager.alerts", f"{alerts[0]} alert firing", {"matchers": {"alertname": alerts[0]}}
        )
        outcomes.append(_outcome("probe alertmanager.alerts", f"{alerts[0]} alert", alerts[0], entry.line))
    for step in entry.steps:
        if step.part is not Part.SOLUTIONS:
            continue  # a solution's command may stay manual ("kubectl delete pod"); its words still say "restart"
        sentence = f"{step.title} {step.note or ''}".lower()
        for words, needs, action in _ACTIONS:
            if not (re.search(words, sentence) and ctx.has(needs)) or action in offered:
                continue
            if _OTHER_SYSTEM.search(sentence):
                continue  # "Restart monitoring stack": not the service the actions target
            fix: dict[str, Any] = {"action": action, "title": step.title, "when": default_when(action)}
            if action == "k8s.rollout_undo":  # offered when the rollout probe finds a recent change
                builder.add_probe("k8s.rollout", "Recent deployments", {})
                fix["when"] = [{"probe": _key(builder, "k8s.rollout"), "facts": ["recent-rollout"]},
                               *fix["when"][1:]]  # fmt: skip
            builder.remediations.append(fix)
            offered.add(action)
            outcomes.append(_outcome(f"action {action}", step.title, step.title, step.line))
    return outcomes


def _logs(entry: Entry, builder: Builder, ctx: Context, present: set[Any]) -> list[Outcome]:
    if present & {"k8s.logs", "cloud_logging.query"}:
        return []
    found = signals(entry).get("patterns", [])
    quoted = [p for p in found if not p.startswith(r"\b")]
    if not quoted and "log" not in " ".join(entry.symptoms).lower():
        return []
    params: dict[str, Any] = {}
    if ctx.has("log_filter"):
        literals = [re.sub(r"\\s\+", " ", p).replace("\\", "") for p in quoted]
        params = {"match": " OR ".join(f'"{lit}"' for lit in literals)} if literals else {}
        probe = "cloud_logging.query"
    elif ctx.has("deployment"):
        params = {"patterns": found} if found else {}
        probe = "k8s.logs"
    else:
        return []
    builder.add_probe(probe, "The entry's error messages in the logs", params)
    return [_outcome(f"probe {probe}", "The entry's error messages in the logs", "error strings", entry.line)]


# What a drafted fix waits for (lint requires a condition on the findings); a reviewer narrows it.
_FAILING = [
    "crash-loop",
    "oom-killed",
    "no-ready-endpoints",
    "rollout-failed",
    "unhealthy-status",
    "revision-failed",
]
_WHEN: dict[str, Any] = {
    "k8s.rollout_undo": [{"facts": ["recent-rollout"]}, {"facts": _FAILING}],
    "cloud_run.traffic_rollback": [{"facts": ["recent-revision"]}, {"facts": _FAILING}],
    "k8s.rollout_restart": {
        "facts": ["not-ready", "unhealthy-status"],
        "unless": ["crash-loop", "oom-killed"],
    },
    "cloud_run.redeploy": {"facts": ["not-serving", "unhealthy-status"]},
    "k8s.scale": {"facts": ["cpu-high", "over-threshold", "slow"]},
    "cloud_run.scale": {"facts": ["over-threshold", "slow", "error-entries"]},
    "k8s.set_resources": {"facts": ["memory-high", "cpu-high", "oom-killed"]},
    "cloud_run.update_resources": {"facts": ["memory-high", "cpu-high", "error-entries"]},
    "k8s.delete_pod": {"facts": ["not-ready", "crash-loop"]},
}


def default_when(action: str) -> Any:
    """The findings a drafted fix of this kind waits for; any warning or critical finding for the others."""
    return _WHEN.get(
        action, {"facts": ["error-lines", "error-entries", "unhealthy-status", "over-threshold"]}
    )


def _key(builder: Builder, probe: str) -> str:
    step = next(d for d in builder.diagnostics if d.get("probe") == probe)
    return str(step.get("id", probe))


def _outcome(became: str, title: str, words: str, line: int) -> Outcome:
    return Outcome("suggested", title, None, line, [became], f"suggested by the words '{words}'")


def _seconds(text: str) -> float | None:
    m = re.search(r"(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s\b|secs?\b|seconds?)", text, re.IGNORECASE)
    if not m:
        return None
    value = float(m.group(1))
    return value / 1000 if m.group(2).lower().startswith("m") else value


def _latency(text: str) -> dict[str, Any]:
    params: dict[str, Any] = {"query": _LATENCY, "label": "p95 latency", "unit": "s"}
    if (limit := _seconds(text)) is not None:
        params |= {"warn": round(limit / 2, 3), "critical": limit}
    return params


def _error_ratio(text: str) -> dict[str, Any]:
    params: dict[str, Any] = {"query": _ERRORS, "label": "5xx ratio"}
    m = re.search(r"(\d+(?:\.\d+)?)\s*%", text)
    critical = float(m.group(1)) / 100 if m else 0.05
    return params | {"warn": round(critical / 5, 4), "critical": critical}


def _health(text: str) -> dict[str, Any]:
    limit = _seconds(text)
    return {"latency_critical_ms": int(limit * 1000)} if limit and limit * 1000 > 1000 else {}


def _tcp(ctx: Context, system: str, default: int) -> dict[str, Any]:
    return {"host": f"{{{system}_host}}", "port": f"{{{system}_port}}"}  # the configured port
