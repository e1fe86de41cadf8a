"""The bot's metrics, in Prometheus' terms through the official client (prometheus-client), one set per process.

Defined here, in bot/, so the domain can count what it does (pages, escalations, actions) without knowing
about Slack. `chatops serve` runs several processes (handlers.workers), so it counts in multiprocess mode:
`count_in(directory)` before the first metric is made, in the serving process and in every worker, and
`exposition()` adds up every process's files. Without it (the shell, tests) each process counts for itself.

    chatops_ack_seconds                     time to answer Slack's requests at /slack/events (Slack allows
                                            3 s); its _count is the number of requests
    chatops_probe_seconds{probe}            each check's duration (count and sum: a histogram per probe made
                                            every scrape add up thousands of per-process samples)
    chatops_probe_results_total{probe,status}   each check's outcome
    chatops_time_to_verdict_seconds         from an incident's opening to each verdict posted in it
    chatops_slack_api_errors_total{method,error}   Web API calls Slack refused (each try, 429s included)
    chatops_pages_total{team}, chatops_escalations_total{team}, chatops_actions_total{action,outcome}
    chatops_incidents_open{severity}        set from the store whenever an incident opens, changes SEV or resolves
    chatops_leader{replica}                 1 while this replica leads the timed work (the Lease), else 0; set
                                            by the serving process at each scrape
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Summary, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector

from bot import settings
from bot.incidents import Incident, IncidentStatus
from bot.severity import Sev
from bot.store import SqlStore

ACK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0)
VERDICT_BUCKETS = (1.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 45.0, 60.0, 120.0, 300.0)
SEVERITIES = (*(sev.value for sev in Sev), "none")  # "none": no SEV set yet


class Metrics:
    """Every metric the bot keeps; `registry` None in multiprocess mode (the files are the registry)."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.registry = registry
        self.ack_seconds = Histogram(
            "chatops_ack_seconds",
            "Time to answer a request from Slack",
            buckets=ACK_BUCKETS,
            registry=registry,
        )
        self.probe_seconds = Summary("chatops_probe_seconds", "Duration of each check of a playbook run",
                                     ["probe"], registry=registry)  # fmt: skip
        self.probe_results = Counter("chatops_probe_results", "Checks of playbook runs by outcome",
                                     ["probe", "status"], registry=registry)  # fmt: skip
        self.time_to_verdict = Histogram("chatops_time_to_verdict_seconds",
                                         "From an incident's opening to each verdict posted in it",
                                         buckets=VERDICT_BUCKETS, registry=registry)  # fmt: skip
        self.slack_api_errors = Counter("chatops_slack_api_errors", "Slack Web API calls Slack refused",
                                        ["method", "error"], registry=registry)  # fmt: skip
        self.pages = Counter("chatops_pages", "People paged", ["team"], registry=registry)
        self.escalations = Counter("chatops_escalations", "Escalations", ["team"], registry=registry)
        self.actions = Counter(
            "chatops_actions", "Remediations run", ["action", "outcome"], registry=registry
        )
        # The last value set by any process wins: each sets what the store counts, after each change.
        self.incidents_open = Gauge("chatops_incidents_open", "Open incidents by severity", ["severity"],
                                    multiprocess_mode="mostrecent", registry=registry)  # fmt: skip
        # Only the serving process sets it (workers never lead), so "most recent" is its own latest value.
        self.leader = Gauge("chatops_leader", "Whether this replica leads escalations, pages and expiries (1) or not (0)",
                            ["replica"], multiprocess_mode="mostrecent", registry=registry)  # fmt: skip

    def set_open(self, by_sev: dict[str, int]) -> None:
        """The open-incidents gauge, from the store's count (every severity, so a SEV that empties says 0)."""
        for sev in SEVERITIES:
            self.incidents_open.labels(sev).set(by_sev.get(sev, 0))


class CountedStore(SqlStore):
    """The store, setting the open-incidents gauge from its own count whenever what is open changes, so that
    /metrics reads a number instead of counting (one count per change is far rarer than one per scrape)."""

    @classmethod
    def of(cls, store: SqlStore) -> CountedStore:
        return cls(store.backend, store.clock)

    def open_incident(
        self,
        service: str,
        symptom: str,
        channel: str,
        created_by: str,
        title: str | None = None,
        alert_key: str | None = None,
        detected_at: datetime | None = None,
        source_link: str | None = None,
    ) -> Incident:
        incident = super().open_incident(
            service, symptom, channel, created_by, title, alert_key, detected_at, source_link
        )
        self._recount()
        return incident

    def set_status(
        self, incident_id: str, status: IncidentStatus, by: str | None, note: str = ""
    ) -> Incident | None:
        changed = super().set_status(incident_id, status, by, note)
        if changed is not None and status is IncidentStatus.INVESTIGATING:  # reopened: open again
            self._recount()
        return changed

    def set_severity(
        self, incident_id: str, severity: Sev | str, by: str | None, why: str
    ) -> Incident | None:
        changed = super().set_severity(incident_id, severity, by, why)
        if changed is not None:
            self._recount()
        return changed

    def resolve(self, incident_id: str, by: str, note: str = "") -> bool:
        resolved = super().resolve(incident_id, by, note)
        if resolved:
            self._recount()
        return resolved

    def _recount(self) -> None:
        metrics().set_open(self.count_open())


_lock = threading.Lock()
_metrics: Metrics | None = None
_directory: Path | None = None


def count_in(directory: Path) -> None:
    """Count into files in `directory`, shared by the processes of one `chatops serve`; before any metric."""
    global _directory
    with _lock:
        assert _metrics is None, "multiprocess mode is chosen before the first metric is made"
        settings.use_metrics_dir(directory)
        # prometheus-client picks how it stores values when first imported, from the environment; the
        # directory is chosen later (at serve start), so it picks again.
        values.ValueClass = values.get_value_class()
        _directory = directory


def metrics() -> Metrics:
    """This process's metrics, made on first use."""
    global _metrics
    with _lock:
        if _metrics is None:
            _metrics = Metrics(None if _directory is not None else CollectorRegistry())
        return _metrics


def exposition() -> bytes:
    """The Prometheus text format: every process's samples added up in multiprocess mode, else this one's."""
    if _directory is None:
        registry = metrics().registry
        assert registry is not None
        return bytes(generate_latest(registry))
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(_directory))
    return bytes(generate_latest(registry))
