"""What is wrong, in a finding: faults with stable keys, how decisive each is, and the facts conditions test.

A probe names each thing that is wrong as a `Fault` in its result's data (`data["faults"]`): a key made of the
object's kind, its name and the reason (`Service/api-gateway:no-ready-endpoints`, never the text, whose
numbers change from run to run), a rank (how decisive it is for the verdict), the facts it shows (what a
playbook's conditions test, e.g. `oom-killed`) and one line for a person. Probes that do not name their own
faults get one derived from their status and data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from bot.severity import Status

if TYPE_CHECKING:
    from bot.findings import Finding


class Rank(IntEnum):
    """How decisive a fault is, most decisive first: the verdict leads with the lowest."""

    NOT_SERVING = 1  # nothing answers: no ready endpoints, no ready revision, the health URL answers 5xx
    FAILING = 2  # the workload fails: crash loops, OOM kills, pods that cannot start, a failed rollout
    SATURATED = (
        3  # at a limit: memory or CPU near it, the autoscaler at max, latency or errors over threshold
    )
    CHANGE = 4  # a recent change (rollout, revision): the suspect when a report says "since the deploy"
    SIGN = 5  # anything else that is off: error lines, warning events, restarts, alerts, certificates


@dataclass(frozen=True)
class Fault:
    """One thing that is wrong, as a probe saw it."""

    key: str
    rank: Rank
    status: Status
    text: str
    facts: tuple[str, ...] = ()

    def as_data(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "rank": int(self.rank),
            "status": self.status.value,
            "text": self.text,
            "facts": list(self.facts),
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Fault:
        return cls(
            str(data["key"]),
            Rank(int(data["rank"])),
            Status(data["status"]),
            str(data["text"]),
            tuple(data.get("facts") or ()),
        )


def fault(key: str, rank: Rank, status: Status, text: str, *facts: str) -> dict[str, Any]:
    """A fault as a probe puts it in its result's data."""
    return Fault(key, rank, status, text, facts).as_data()


# The facts each probe can show: what `facts:` and `unless:` in a playbook's conditions may name.
FACTS: dict[str, frozenset[str]] = {
    name: frozenset(facts.split())
    for name, facts in {
        "k8s.pods": "no-pods crash-loop oom-killed not-ready none-ready pending restarts",
        "k8s.logs": "error-lines exception out-of-memory",
        "k8s.events": "warning-events oom-killing failed-scheduling back-off failed-mount evicted",
        "k8s.rollout": "recent-rollout rollout-failed unavailable",
        "k8s.resource_usage": "memory-high cpu-high",
        "k8s.hpa": "hpa-at-max hpa-inactive",
        "k8s.endpoints": "no-ready-endpoints endpoints-not-ready",
        "k8s.network_policies": "traffic-denied",
        "k8s.ingress": "ingress-broken no-address",
        "k8s.certificate": "certificate-not-ready certificate-expiring",
        "k8s.nodes": "node-not-ready node-pressure",
        "k8s.configmap": "missing-keys",
        "http.check": "unhealthy-status slow field-unhealthy redirect certificate-problem",
        "prometheus.query": "over-threshold no-data",
        "prometheus.targets": "targets-down",
        "alertmanager.alerts": "alerts-firing",
        "cloud_logging.query": "error-entries",
        "cloud_run.service": "revision-failed not-serving reconciling",
        "cloud_run.revisions": "recent-revision revision-failed",
        "dns.resolve": "does-not-resolve",
        "tcp.connect": "",
        "tls.certificate": "certificate-problem",
    }.items()
}
ALL_FACTS = frozenset(f for facts in FACTS.values() for f in facts)
# What a derived fault of a probe without its own is called.
_DERIVED_FACT = {
    "k8s.network_policies": "traffic-denied",
    "k8s.ingress": "ingress-broken",
    "k8s.certificate": "certificate-not-ready",
    "k8s.nodes": "node-not-ready",
    "k8s.configmap": "missing-keys",
    "prometheus.targets": "targets-down",
    "alertmanager.alerts": "alerts-firing",
    "cloud_logging.query": "error-entries",
    "dns.resolve": "does-not-resolve",
    "tls.certificate": "certificate-problem",
}


def faults_of(finding: Finding) -> list[Fault]:
    """What is wrong in a finding, most decisive first; none for ok, skipped and could-not-check findings."""
    if finding.status not in (Status.WARN, Status.CRITICAL):
        return []
    named = finding.data.get("faults")
    if isinstance(named, list):
        found = [Fault.from_data(item) for item in named]
    elif finding.probe == "cloud_run.service":
        found = [_cloud_run_fault(finding)]
    else:
        target = _target(finding.data) or finding.step
        fact = _DERIVED_FACT.get(finding.probe, "problem")
        found = [
            Fault(f"{finding.probe}/{target}:{fact}", Rank.SIGN, finding.status, finding.summary, (fact,))
        ]
    return sorted(found, key=lambda f: (f.rank, f.status != Status.CRITICAL))


def _cloud_run_fault(finding: Finding) -> Fault:
    """bot.probes.cloud_run reports its state in data: a newest revision that is not ready, or no ready one."""
    data = finding.data
    created, ready = data.get("latest_created_revision"), data.get("latest_ready_revision")
    if not ready:
        return Fault(f"CloudRunService/{created}:not-serving", Rank.NOT_SERVING, finding.status,
                     finding.summary, ("not-serving",))  # fmt: skip
    if created and created != ready and finding.status == Status.CRITICAL:
        return Fault(f"CloudRunRevision/{created}:failed", Rank.FAILING, finding.status,
                     finding.summary, ("revision-failed",))  # fmt: skip
    return Fault(f"CloudRunService/{ready}:reconciling", Rank.SIGN, finding.status, finding.summary,
                 ("reconciling",))  # fmt: skip


def _target(data: dict[str, Any]) -> str:
    for name in ("url", "target", "host", "query", "filter", "job", "name"):
        if data.get(name):
            return str(data[name])
    matchers = data.get("matchers")
    return ",".join(f"{k}={v}" for k, v in sorted(matchers.items())) if isinstance(matchers, dict) else ""


def facts_of(findings: list[Finding]) -> set[str]:
    """Every fact the findings of a run show."""
    return {fact for finding in findings for f in faults_of(finding) for fact in f.facts}


# "504s since the deploy", "broke after the release", "errors since we rolled out 1.9": the report points at
# a change, so the verdict names the recent rollout or revision whatever else it leads with.
_CHANGE_WORDS = re.compile(
    r"\b(since|after|from|following|with)\s+(the\s+|our\s+|this\s+|that\s+|a\s+)?"
    r"(last\s+|latest\s+|recent\s+|new\s+|today'?s\s+)?"
    r"(deploy|deployment|release|rollout|roll-out|upgrade|update|revision|push|version)s?\b"
    r"|\b(since|after)\s+(we\s+|i\s+|they\s+)?(deployed|released|rolled\s+out|shipped|upgraded)\b"
    r"|\b(just|newly)\s+(deployed|released|rolled\s+out|shipped)\b",
    re.IGNORECASE,
)


def points_at_change(text: str) -> bool:
    """Whether a report says the trouble began with a change ("since the deploy", "after the release")."""
    return bool(_CHANGE_WORDS.search(text))
