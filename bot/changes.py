"""An incident across its runs, from its timeline: what each check found (the FINDING entries, keyed on stable
fault keys), what is still open, and what changed since the previous run ("new since 14:02: ...").

A fault is open from the run that found it until a later run of the same check (same probe, same parameters)
ran and no longer found it; a check that could not run (error, skipped) neither confirms nor resolves anything.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bot.faults import Fault
from bot.findings import STATUS_ORDER, Diagnosis, Finding, lead_text
from bot.incidents import TimelineEntry, TimelineKind
from bot.playbook import Playbook
from bot.severity import Status

MAX_LISTED = 3  # faults named per part of a "what changed" line


def check_id(playbook: Playbook, step_key: str) -> str:
    """The same check in any playbook: its probe and its parameters (a step's id differs between playbooks)."""
    step = next(s for s in playbook.probes if s.key == step_key)
    params = json.dumps(step.typed_params.model_dump(mode="json"), sort_keys=True)
    return f"{step.probe}:{hashlib.sha256(params.encode()).hexdigest()[:12]}"


def finding_record(playbook: Playbook, finding: Finding) -> dict[str, Any]:
    """What the timeline keeps of a finding: its step, status, check and faults (keys, never only text)."""
    return {
        "step": finding.step,
        "status": finding.status.value,
        "probe": finding.probe,
        "check": check_id(playbook, finding.step),
        "triage": any(playbook.from_triage(s) for s in playbook.probes if s.key == finding.step),
        "faults": [f.as_data() for f in finding.faults],
    }


@dataclass(frozen=True)
class Record:
    check: str
    status: Status
    faults: list[Fault]

    @classmethod
    def of(cls, entry: TimelineEntry) -> Record | None:
        data = entry.data
        if "check" not in data:  # written before findings were recorded with their checks
            return None
        return cls(
            str(data["check"]), Status(data["status"]), [Fault.from_data(f) for f in data.get("faults", [])]
        )

    @property
    def checked(self) -> bool:
        return self.status not in (Status.ERROR, Status.SKIPPED)


@dataclass(frozen=True)
class Run:
    """The findings of one run and when its verdict was given."""

    at: datetime
    records: list[Record]
    worst: Status
    verdict: str


def runs(timeline: Sequence[TimelineEntry]) -> list[Run]:
    """The incident's finished runs, oldest first (a run ends with its VERDICT entry)."""
    done, pending = [], []
    for entry in timeline:
        if entry.kind == TimelineKind.FINDING:
            record = Record.of(entry)
            if record is not None:
                pending.append(record)
        elif entry.kind == TimelineKind.VERDICT:
            worst = Status(entry.data.get("worst", Status.SKIPPED.value))
            done.append(Run(entry.at, pending, worst, entry.text))
            pending = []
    return done


def open_faults(history: Sequence[Run]) -> dict[str, tuple[Fault, str]]:
    """The faults no later run has resolved, by key, with the check that found them."""
    found: dict[str, tuple[Fault, str]] = {}
    for run in history:
        for record in (r for r in run.records if r.checked):
            keys = {f.key for f in record.faults}
            for key, (_, check) in list(found.items()):
                if check == record.check and key not in keys:
                    del found[key]
            found.update({f.key: (f, record.check) for f in record.faults})
    return found


@dataclass(frozen=True)
class Changes:
    """What one run found compared with what was open before it."""

    since: datetime
    new: list[Fault]
    still: list[Fault]
    resolved: list[Fault]

    @property
    def text(self) -> str:
        """`Since 14:02 UTC: new: ...; still: ...; resolved: ...` (or that nothing changed)."""
        when = f"Since {self.since.astimezone(UTC):%H:%M} UTC"
        parts = [
            f"{label}: {_listed(faults)}"
            for label, faults in (("new", self.new), ("still", self.still), ("resolved", self.resolved))
            if faults
        ]
        return f"{when}: {'; '.join(parts)}" if parts else f"{when}: no change in what the checks found"


def changes(before: Sequence[TimelineEntry], playbook: Playbook, diagnosis: Diagnosis) -> Changes | None:
    """What this run changed against the incident's earlier runs (None for its first run)."""
    history = runs(before)
    if not history:
        return None
    previous = open_faults(history)
    now: dict[str, Fault] = {}
    for found in diagnosis.faults:  # most decisive first; of two checks seeing one fault, the first says it
        now.setdefault(found.key, found)
    rechecked = {
        check_id(playbook, f.step)
        for f in diagnosis.findings
        if f.status not in (Status.ERROR, Status.SKIPPED)
    }
    new = [f for key, f in now.items() if key not in previous]
    still = [f for key, f in now.items() if key in previous]
    resolved = [f for key, (f, check) in previous.items() if key not in now and check in rechecked]
    return Changes(history[-1].at, new, still, resolved)


def incident_verdict(timeline: Sequence[TimelineEntry], symptom: str) -> tuple[Status, str] | None:
    """What the channel's root message says of an incident: its worst open faults across all its runs (a weak
    runner-up's DNS error never hides the crash loop an earlier run found), else its latest run's verdict."""
    history = runs(timeline)
    if not history:
        return None
    found = sorted(
        (f for f, _ in open_faults(history).values()), key=lambda f: (f.rank, f.status != Status.CRITICAL)
    )
    if not found:
        return history[-1].worst, history[-1].verdict
    worst = min((f.status for f in found), key=STATUS_ORDER.index)
    head = "Problem confirmed" if worst == Status.CRITICAL else "Warning signs"
    return worst, f"{head}: {lead_text(found, symptom)}"


def _listed(faults: list[Fault]) -> str:
    shown = "; ".join(f.text for f in faults[:MAX_LISTED])
    return shown + (f" and {len(faults) - MAX_LISTED} more" if len(faults) > MAX_LISTED else "")
