"""Probes and actions an entry's words call for where no guide command gives them (marked "suggested").

A guide often says "Check database connectivity" or "Restart pod if stuck open" without a command, and its
symptoms ("P95 latency exceeds 200ms", "OOMKilled pods") say what to measure. Each rule reads only the text
that can ask for it: what the problem is (heading and symptoms) for a measurement, the possible causes and
the guide's own sentences for a check. Alerting rules the guide defines give the entries they are about
their query and alert (bot.importer.alert_rules); quoted error messages send the logs probe after them. Thresholds come from the text where it states them. A rule applies
only when the service's catalogue entry has the system the probe needs, and a platform's probes (kubectl's,
Cloud Run's) only when the entry is about that platform: an entry whose commands are all `wrangler` is about
a Cloudflare worker, not the service's pods. Without `--service` nothing is suggested: there is no catalogue
to say which systems exist. Every suggestion is listed in the report with the words that triggered it.
PromQL suggestions use the conventional metric names (Prometheus client libraries, cAdvisor,
postgres_exporter); a team whose metrics differ edits the query.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.importer.alert_rules import AlertRule, query_params, rules_about
from bot.importer.guide import Entry, Part
from bot.importer.outcome import Outcome, suggested
from bot.importer.placeholders import Context
from bot.importer.platforms import CLOUD_RUN, KUBERNETES, NEUTRAL, entry_platforms, service_platforms
from bot.importer.signals import ERROR_WORDS, literal, pattern, signals
from bot.importer.suggest_actions import OTHER_SYSTEM, Builder, suggest_actions

# The service's series through its `metrics:` settings ({metrics_selector}, {status_label}), never its name.
_LATENCY = "histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket{{metrics_selector}}[5m])) by (le))"
_STATUS_RATIO = ('sum(rate(http_requests_total{{{{metrics_selector}}, {{status_label}}=~"{codes}"}}[5m]))'
                 " / sum(rate(http_requests_total{{{{metrics_selector}}}}[5m]))")  # fmt: skip
_POOL = "sum(pg_stat_activity_count) / max(pg_settings_max_connections)"
_LONGEST = 'max(pg_stat_activity_max_tx_duration{state="active"})'
_POD = 'namespace="{namespace}", pod=~"{deployment}-.*", container!=""'
_MEMORY = (
    f"max(container_memory_working_set_bytes{{{_POD}}} / (container_spec_memory_limit_bytes{{{_POD}}} > 0))"
)
_THROTTLED = (f"sum(rate(container_cpu_cfs_throttled_periods_total{{{_POD}}}[5m]))"
              f" / sum(rate(container_cpu_cfs_periods_total{{{_POD}}}[5m]))")  # fmt: skip
_FIRING = 'count(ALERTS{alertstate="firing"}) or vector(0)'
_DNS_ERRORS = ('sum(rate(coredns_dns_responses_total{rcode=~"SERVFAIL|REFUSED"}[5m]))'
               " / sum(rate(coredns_dns_responses_total[5m]))")  # fmt: skip

# Where a rule looks: what the problem is (the heading and the symptoms), the error lines it shows (a client
# library's exception: its status codes are another system's answers), what may cause it, and the guide's
# sentences (steps without a command), all of them or those not about another system ("Restart monitoring").
ABOUT, LOGGED, CAUSES, STEPS, OWN_STEPS = "about", "logged", "causes", "steps", "own steps"
# The heading above the entry: it names what its entries share, a state ("Application Won't Start") or a
# part of the system ("Redis/Celery Issues"); only rules on states read it, a part says where, not what.
GROUP = "group"
_LOG_LINE = re.compile(r"^[\w.]*(Error|Exception)\w*:|^\w+(\.\w+)+:|Traceback|^\[?\d{4}-\d\d-\d\d")
_STATUS = re.compile(r"[1-5]\d\d [A-Z]")  # "403 Forbidden"
# Symptoms that are errors the service writes down; a line with an HTTP status is what a client saw.
_ERRORS_SEEN = re.compile(r"\berrors?\b|exceptions?|traceback|stack trace|\blogs?\b", re.I)
_HTTP_STATUS = re.compile(r"\b[1-5]\d\d\b")


@dataclass(frozen=True)
class Rule:
    words: str  # a regex over the lowercased text of `scopes`
    scopes: tuple[str, ...]
    needs: tuple[str, ...]  # catalogue variables the probe needs
    probe: str
    title: str
    make: Callable[[str, Context], dict[str, Any]] = lambda text, ctx: {}
    unless: str | None = None  # a regex over the heading that makes the rule not apply
    own: bool = False  # about the service's own pods: sentences about another system do not count

    @property
    def platform(self) -> str:
        """Where the probe looks: the service's pods (kubernetes), its Cloud Run service, or anywhere."""
        if self.probe.startswith("k8s.") or {"deployment", "namespace"} & set(self.needs):
            return KUBERNETES
        return CLOUD_RUN if self.probe.startswith("cloud_run.") else NEUTRAL


_SLOW = (
    r"latency|\bslow\b|response times?|tak(e|es|ing) (more than|longer than|over|>)|taking\s*>|timeouts?\b|"
    r"timed out|\bp9[59]\b"
)
# An entry about queries: its slowness and timeouts are the database's, not the service's answers.
_QUERIES = r"\bquer(y|ies)\b"
# What a service's own dependencies are called; its readiness (detailed health) endpoint reports on them.
_DEPENDENCIES = r"database|postgres|redis|migration|connection pool|dependenc"
_RULES = [
    Rule(_SLOW, (ABOUT,), ("prometheus_url",), "prometheus.query", "p95 latency", lambda t, c: _latency(t),
         unless=_QUERIES),
    Rule(r"error rate|5xx|\b50[02]\b|internal server error|bad gateway", (ABOUT,), ("prometheus_url",),
         "prometheus.query", "5xx error ratio", lambda t, c: _ratio(t, "5..", "5xx")),
    Rule(r"\b401\b|unauthori[sz]ed", (ABOUT,), ("prometheus_url",), "prometheus.query", "401 responses",
         lambda t, c: _ratio(t, "401", "401")),
    Rule(r"\b403\b|forbidden|permission denied", (ABOUT,), ("prometheus_url",), "prometheus.query",
         "403 responses", lambda t, c: _ratio(t, "403", "403")),
    Rule(r"\b429\b|too many requests", (ABOUT,), ("prometheus_url",), "prometheus.query", "429 responses",
         lambda t, c: _ratio(t, "429", "429")),
    Rule(r"connection pool|too many (clients|connections)|pool exhaust", (ABOUT, LOGGED, STEPS), ("prometheus_url",),
         "prometheus.query", "database connections in use",
         lambda t, c: {"query": _POOL, "label": "share of max_connections in use", "warn": 0.8, "critical": 0.95}),
    Rule(r"slow (database |sql |postgres )?quer|long.running quer|quer(y|ies) taking", (ABOUT, STEPS),
         ("prometheus_url", "postgres_host"), "prometheus.query", "longest active transaction",
         lambda t, c: _longest_transaction(t)),
    Rule(r"memory|\boom", (ABOUT,), ("prometheus_url", "deployment"), "prometheus.query", "memory against the limit",
         lambda t, c: {"query": _MEMORY, "label": "memory / limit", "warn": 0.8, "critical": 0.95}),
    Rule(r"(?<!database )(?<!db )\bcpu\b|throttl", (ABOUT,), ("prometheus_url", "deployment"), "prometheus.query",
         "CPU throttling",
         lambda t, c: {"query": _THROTTLED, "label": "throttled CPU periods", "warn": 0.25, "critical": 0.5}),
    Rule(r"too many alerts|alert fatigue|false positive", (ABOUT,), ("prometheus_url",), "prometheus.query",
         "firing alerts", lambda t, c: {"query": _FIRING, "label": "firing alerts", "warn": 20, "critical": 50}),
    Rule(r"\bdns\b|resolv", (ABOUT, LOGGED), ("prometheus_url", "namespace"), "prometheus.targets",
         "Cluster DNS (CoreDNS) scrape targets", lambda t, c: {"job": "coredns|kube-dns"}),
    Rule(r"\bdns\b|resolv", (ABOUT, LOGGED), ("prometheus_url", "namespace"), "prometheus.query",
         "Cluster DNS error ratio",
         lambda t, c: {"query": _DNS_ERRORS, "label": "SERVFAIL/REFUSED ratio", "warn": 0.01, "critical": 0.05}),
    # Whether the service answers at all, and how fast: what "unavailable", "won't start", "slow" and "timing
    # out" mean to a client; and whether an alert about it is false.
    Rule(r"not respond|unavailable|\b50[34]\b|health ?checks? fail|unhealthy|\bdown\b|unreachable|timed out|"
         r"connection refused|won.t start|doesn.t start|false positive|no metrics|missing metrics|no data|" + _SLOW,
         (ABOUT, GROUP), ("health_url",), "http.check", "Health endpoint", lambda t, c: _health(t), unless=_QUERIES),
    Rule(_DEPENDENCIES, (ABOUT, LOGGED), ("readiness_url",), "http.check", "Dependency checks (readiness endpoint)",
         lambda t, c: {"url": "{readiness_url}"}),
    Rule(r"database connectivity|connect(ion)? to (the )?database|database connection (errors?|fail|refused)|"
         r"db credentials|cannot connect to (the )?(database|postgres)", (ABOUT, CAUSES, STEPS), ("postgres_host",),
         "tcp.connect", "Database reachable", lambda t, c: _tcp(c, "postgres")),
    Rule(r"redis|celery|broker", (ABOUT, LOGGED, CAUSES, STEPS), ("redis_host",), "tcp.connect", "Redis reachable",
         lambda t, c: _tcp(c, "redis")),
    Rule(r"memory|(?<!database )(?<!db )\bcpu\b|\boom|resource (limits|usage)", (ABOUT, CAUSES, STEPS), ("deployment",),
         "k8s.resource_usage", "CPU and memory against limits", own=True),
    Rule(r"crash|\boom|restart|won.t start|exits|not ready", (ABOUT, GROUP, LOGGED, CAUSES), ("deployment",), "k8s.pods",
         "Pod states and restarts"),
    Rule(r"\boom|crash|won.t start|probe fail|unhealthy|evict|pending", (ABOUT, LOGGED), ("deployment",),
         "k8s.events", "Warning events"),
    Rule(r"deploy|roll ?back|breaking change|\brelease\b", (ABOUT, CAUSES, STEPS), ("deployment",), "k8s.rollout",
         "Recent deployments", own=True),
    Rule(r"\b503\b|unavailable|not receiving traffic|no healthy|no (ready )?endpoints|service discovery|"
         r"instances down|health ?checks? (never pass|fail)",
         (ABOUT, CAUSES, STEPS), ("k8s_service",), "k8s.endpoints", "Ready endpoints behind the Service"),
    Rule(r"network ?polic|blocking traffic", (ABOUT, CAUSES, STEPS), ("selector",), "k8s.network_policies",
         "Network policies"),
    Rule(r"ingress|https|\btls\b|ssl|ip whitelist|allowlist", (ABOUT, CAUSES, STEPS), ("ingress",), "k8s.ingress",
         "Ingress and its TLS"),
    Rule(r"environment variables|configmap|config(uration)? (errors?|issues?|invalid)", (STEPS,), ("configmap",),
         "k8s.configmap", "The service's ConfigMap"),
    Rule(r"\bdns\b|resolv", (ABOUT, LOGGED, CAUSES, STEPS), ("host",), "dns.resolve", "DNS of the service's host"),
    Rule(r"deploy|revision|won.t start|doesn.t start|not responding|unavailable", (ABOUT, GROUP, CAUSES),
         ("cloud_run_service",), "cloud_run.service", "Cloud Run service and revisions"),
]  # fmt: skip


def suggestions(entry: Entry, builder: Builder, ctx: Context, alerts: list[AlertRule]) -> list[Outcome]:
    """Add the suggested probes and actions to the builder; their outcomes for the report.

    `alerts`: the guide's alerting rules; those about the entry give their query and alert name.
    """
    if not ctx.service:
        return []
    platforms = _applicable(entry, ctx)
    texts = _texts(entry)
    outcomes = []
    present = {d.get("probe") for d in builder.diagnostics}
    for rule in _RULES:
        if rule.platform not in platforms or not all(ctx.has(n) for n in rule.needs):
            continue
        if rule.unless and re.search(rule.unless, entry.heading.lower()):
            continue
        text = " ".join(texts[OWN_STEPS if scope == STEPS and rule.own else scope] for scope in rule.scopes)
        match = re.search(rule.words, text.lower())
        if not match or (rule.probe != "prometheus.query" and rule.probe in present):
            continue
        if builder.add_probe(rule.probe, rule.title, rule.make(text, ctx)):
            outcomes.append(suggested(f"probe {rule.probe}", rule.title, match.group(0), entry.line))
    outcomes += _alert_rules(entry, builder, ctx, alerts)
    outcomes += _before_reconfiguring(entry, builder, ctx, present, platforms)
    outcomes += _logs(entry, builder, ctx, present, platforms)
    outcomes += suggest_actions(entry, builder, ctx, platforms, texts[ABOUT])
    return outcomes


def _applicable(entry: Entry, ctx: Context) -> set[str]:
    """The platforms whose probes fit the entry: those its commands use, else all the service runs on.

    An entry whose commands use only other platforms (`wrangler`, for a guide whose service runs in
    Kubernetes) is about another part of the system: only probes that work anywhere (HTTP, Prometheus) fit.
    """
    named = entry_platforms(entry)
    own = service_platforms(ctx)
    return (own & named if named else own) | {NEUTRAL}


def _texts(entry: Entry) -> dict[str, str]:
    sentences = [
        f"{s.title} {s.note or ''}"
        for s in entry.steps
        if s.command is None and s.part in (Part.DIAGNOSIS, Part.SOLUTIONS)
    ]
    logged = [line for line in entry.symptoms if _LOG_LINE.search(line)]
    return {
        ABOUT: " ".join([entry.heading, *(s for s in entry.symptoms if s not in logged)]),
        GROUP: entry.group,
        LOGGED: " ".join(logged),
        CAUSES: " ".join(entry.causes),
        STEPS: " ".join(sentences),
        OWN_STEPS: " ".join(s for s in sentences if not OTHER_SYSTEM.search(s.lower())),
    }


def _alert_rules(entry: Entry, builder: Builder, ctx: Context, alerts: list[AlertRule]) -> list[Outcome]:
    outcomes = []
    for rule in rules_about(entry, alerts):
        why = f"{rule.name} (the guide's alert rule)"
        if ctx.has("prometheus_url") and builder.add_probe("prometheus.query", f"{rule.name}: {rule.expr}",
                                                           query_params(rule)):  # fmt: skip
            outcomes.append(suggested("probe prometheus.query", rule.name, why, entry.line))
        if ctx.has("alertmanager_url") and builder.add_probe("alertmanager.alerts", f"{rule.name} alert firing",
                                                             {"matchers": {"alertname": rule.name}}):  # fmt: skip
            outcomes.append(suggested("probe alertmanager.alerts", rule.name, why, entry.line))
    return outcomes


# A fix that sets the Cloud Run service's environment or identity: what they are now is the evidence.
_RECONFIGURES = re.compile(
    r"\bgcloud\s+run\s+services\s+update\s[^\n]*?--(set-env-vars|update-env-vars|remove-env-vars|"
    r"service-account|set-secrets|update-secrets)\b"
)


def _before_reconfiguring(
    entry: Entry, builder: Builder, ctx: Context, present: set[Any], platforms: set[str]
) -> list[Outcome]:
    """The service's environment and identity as they are (cloud_run.service shows them) for an entry whose
    fix changes them: the person sees whether the fix is the one needed before asking for it."""
    if CLOUD_RUN not in platforms or not ctx.has("cloud_run_service") or "cloud_run.service" in present:
        return []
    fix = next((m for s in entry.steps if s.part == Part.SOLUTIONS and s.command
                and (m := _RECONFIGURES.search(s.command.replace("\\\n", " ")))), None)  # fmt: skip
    title = "Cloud Run service: its environment and identity now"
    if fix is None or not builder.add_probe("cloud_run.service", title, {}):
        return []
    return [suggested("probe cloud_run.service", title, f"the fix sets --{fix.group(1)}", entry.line)]


def _logs(
    entry: Entry, builder: Builder, ctx: Context, present: set[Any], platforms: set[str]
) -> list[Outcome]:
    """The entry's error messages in the service's logs, when it quotes them or its symptoms are errors."""
    if present & {"k8s.logs", "cloud_logging.query"}:
        return []
    # Quoted messages and HTTP statuses with their reason, not a quoted value ('status = "running"')
    found = signals(entry).get("patterns", [])
    states = [p for p in found if p.startswith(r"\b")]
    quoted = [lit for p in found if p not in states and _is_message(lit := literal(p))]
    if not quoted and not any(_ERRORS_SEEN.search(line) and not _HTTP_STATUS.search(line)
                              for line in [entry.heading, *entry.symptoms]):  # fmt: skip
        return []
    params: dict[str, Any] = {}
    if ctx.has("log_filter") and (CLOUD_RUN in platforms or KUBERNETES not in platforms):
        params = {"match": " OR ".join(f'"{lit}"' for lit in quoted)} if quoted else {}
        probe = "cloud_logging.query"
    elif ctx.has("deployment") and KUBERNETES in platforms:
        patterns = [pattern(lit) for lit in quoted] + states
        params = {"patterns": patterns} if patterns else {}
        probe = "k8s.logs"
    else:
        return []
    builder.add_probe(probe, "The entry's error messages in the logs", params)
    return [
        suggested(f"probe {probe}", "The entry's error messages in the logs", "error strings", entry.line)
    ]


def _is_message(text: str) -> bool:
    """A quoted error message ("Storage not accessible"), not a quoted value ("running")."""
    return len(text.split()) > 1 or bool(ERROR_WORDS.search(text)) or bool(_STATUS.match(text))


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


def _longest_transaction(text: str) -> dict[str, Any]:
    """How long the oldest active transaction has run (postgres_exporter), critical at the text's limit."""
    params: dict[str, Any] = {"query": _LONGEST, "label": "longest active transaction", "unit": "s"}
    if (limit := _seconds(text)) is not None:
        params |= {"warn": limit, "critical": limit * 10}
    return params


def _ratio(text: str, codes: str, name: str) -> dict[str, Any]:
    """Share of responses with these status codes; critical at the text's percentage, else 5%."""
    m = re.search(r"(\d+(?:\.\d+)?)\s*%", text)
    critical = float(m.group(1)) / 100 if m else 0.05
    query = _STATUS_RATIO.format(codes=codes)
    return {"query": query, "label": f"{name} ratio", "warn": round(critical / 5, 4), "critical": critical}


def _health(text: str) -> dict[str, Any]:
    limit = _seconds(text)
    return {"latency_critical_ms": int(limit * 1000)} if limit and limit * 1000 > 1000 else {}


def _tcp(ctx: Context, system: str) -> dict[str, Any]:
    return {"host": f"{{{system}_host}}", "port": f"{{{system}_port}}"}  # the configured port
