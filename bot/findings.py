"""What diagnostics produce: a finding per probe, and the diagnosis that rolls them up."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.playbook import ActionStep, Condition, Playbook
from bot.severity import Sev, Status

# Worst first: the order in which statuses decide a verdict.
STATUS_ORDER = [Status.CRITICAL, Status.ERROR, Status.WARN, Status.OK, Status.SKIPPED]


@dataclass(frozen=True)
class ProbeResult:
    """What a probe function returns: a status, one line a person can act on, evidence and data."""

    status: Status
    summary: str
    evidence: str = ""
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Finding:
    """A probe's result placed in its playbook step, redacted, with how long it took."""

    step: str
    probe: str
    title: str
    status: Status
    summary: str
    evidence: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    duration_ms: float = 0.0


@dataclass(frozen=True)
class Diagnosis:
    """The roll-up of a playbook run: findings, a verdict line, a suggested SEV and why, fitting fixes."""

    playbook: Playbook
    findings: list[Finding]
    suggested_sev: Sev
    sev_reasons: list[str]
    remediations: list[ActionStep]
    duration_ms: float

    @property
    def worst(self) -> Status:
        statuses = {f.status for f in self.findings}
        return next((s for s in STATUS_ORDER if s in statuses), Status.SKIPPED)

    @property
    def verdict(self) -> str:
        counts = {s: sum(f.status == s for f in self.findings) for s in STATUS_ORDER}
        parts = [f"{n} {s.value}" for s, n in counts.items() if n]
        headline = {
            Status.CRITICAL: "Problem confirmed",
            Status.ERROR: "Some checks could not run",
            Status.WARN: "Warning signs",
            Status.OK: "Checks are healthy",
            Status.SKIPPED: "Nothing could be checked for this service",
        }[self.worst]
        alarming = [f for f in self.findings if f.status in (Status.CRITICAL, Status.WARN)]
        firsts = [f.summary for f in sorted(alarming, key=lambda f: STATUS_ORDER.index(f.status))][:2]
        detail = f": {'; '.join(firsts)}" if firsts else ""
        return f"{headline} ({', '.join(parts)}){detail}"


def satisfied(condition: Condition, findings: list[Finding]) -> bool:
    """True when a finding (of the named step, or any) has one of the condition's statuses."""
    return any(
        f.status in condition.status and (condition.probe is None or f.step == condition.probe)
        for f in findings
    )


def diagnose(playbook: Playbook, findings: list[Finding], duration_ms: float) -> Diagnosis:
    """Roll findings up: the most severe SEV among the playbook's default and the hints that fire."""
    sev, reasons = playbook.severity.default, [f"{playbook.severity.default} is this playbook's default"]
    for hint in playbook.severity.hints:
        if satisfied(hint.when, findings) and hint.sev.rank <= sev.rank:
            if hint.sev.rank < sev.rank:
                reasons = []
            sev = hint.sev
            reasons.append(hint.why)
    fitting = [a for a in playbook.actions if a.when is None or satisfied(a.when, findings)]
    return Diagnosis(playbook, findings, sev, reasons, fitting, duration_ms)
