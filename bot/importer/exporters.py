"""Commands whose answer a Prometheus exporter publishes: `celery inspect` (celery-exporter), `docker stats`
(cAdvisor).

No probe talks to Celery or to the Docker daemon, but `celery inspect ping|stats|active` asks whether
workers answer (`celery_worker_up`) and `docker stats` shows each container's memory against its limit
(cAdvisor's `container_memory_*`). The probe on the metric is approximate; the command stays beside it.
"""

from __future__ import annotations

from bot.importer.outcome import Mapped
from bot.importer.shellwords import parse_words

_WORKERS_ANSWER = frozenset({"ping", "stats", "active", "registered", "report"})
_CELERY_FLAGS = frozenset({"-A", "--app", "-b", "--broker", "-d", "--destination"})
_CONTAINER = 'name=~".+"'  # cAdvisor's Docker containers (the cgroup of the host has no name)
_CONTAINER_MEMORY = f"max(container_memory_working_set_bytes{{{_CONTAINER}}} / (container_spec_memory_limit_bytes{{{_CONTAINER}}} > 0))"


def exporter_probe(tool: str, first: list[str]) -> list[Mapped]:
    """The prometheus.query that reads what this command shows, or []."""
    if tool == "celery":
        return _celery(parse_words(first[1:], _CELERY_FLAGS).positional)
    if tool == "docker" and first[1:2] == ["stats"]:
        params = {
            "query": _CONTAINER_MEMORY,
            "label": "container memory / limit",
            "warn": 0.8,
            "critical": 0.95,
        }
        return [Mapped("probe", "prometheus.query", params, "docker stats: memory against the limit (cAdvisor)",
                       approximate=True)]  # fmt: skip
    return []


def _celery(positional: list[str]) -> list[Mapped]:
    if positional[:1] != ["inspect"] or len(positional) < 2 or positional[1] not in _WORKERS_ANSWER:
        return []
    params = {
        "query": "sum(celery_worker_up)",
        "label": "Celery workers online",
        "direction": "below",
        "critical": 1,
    }
    why = f"celery inspect {positional[1]}: whether workers answer (celery-exporter's celery_worker_up)"
    return [Mapped("probe", "prometheus.query", params, why, approximate=True)]
