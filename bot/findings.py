"""What diagnostics produce: a finding per probe, and the diagnosis that rolls them up into a verdict a person
can trust: the most decisive faults first (not serving > crash loop > saturation > a warning), a check that
could not run said as such and never counted as evidence, a SEV and fixes only for what the findings show."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.faults import Fault, Rank, facts_of, faults_of, points_at_change
from bot.playbook import ActionStep, Condition, Playbook
from bot.severity import Sev, Status

if TYPE_CHECKING:
    from bot.changes import Changes

# Worst first: the order in which statuses decide a verdict.
STATUS_ORDER = [Status.CRITICAL, Status.ERROR, Status.WARN, Status.OK, Status.SKIPPED]
LEAD_FAULTS = 3  # faults named in a verdict; the thread's checklist has the rest
RECENT_CHANGE_PROBES = ("k8s.rollout", "cloud_run.revisions")


@dataclass(frozen=True)
class ProbeResult:
    """What a probe function returns: a status, one line a person can act on, evidence and data.

    The summary names what is wrong (its faults, in `data["faults"]`, bot.faults); the rest is evidence.
    """

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

    @property
    def faults(self) -> list[Fault]:
        return faults_of(self)


@dataclass(frozen=True)
class Diagnosis:
    """The roll-up of a run: findings, a verdict line, a suggested SEV and why, fitting fixes.

    `symptom` is the report: naming a deploy ("since the deploy") puts the recent change in the verdict.
    `changes` is what changed since the incident's previous run, when there was one (bot.changes).
    """

    playbook: Playbook
    findings: list[Finding]
    suggested_sev: Sev | None
    sev_reasons: list[str]
    remediations: list[ActionStep]
    duration_ms: float
    symptom: str = ""
    changes: Changes | None = None

    @property
    def worst(self) -> Status:
        statuses = {f.status for f in self.findings}
        return next((s for s in STATUS_ORDER if s in statuses), Status.SKIPPED)

    @property
    def faults(self) -> list[Fault]:
        """Every fault of the run, most decisive first (critical before warn, then in the playbook's order)."""
        found = [f for finding in self.findings for f in finding.faults]
        return sorted(found, key=lambda f: (f.rank, f.status != Status.CRITICAL))

    @property
    def tally(self) -> str:
        counts = {s: sum(f.status == s for f in self.findings) for s in STATUS_ORDER}
        return ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)

    @property
    def sev_reason(self) -> str:
        """The reasons for the suggested SEV as one sentence."""
        return join_reasons(self.sev_reasons)

    @property
    def headline(self) -> str:
        """What the run amounts to, in two or three words."""
        confirmed = self.faults
        if confirmed:
            return (
                "Problem confirmed"
                if any(f.status == Status.CRITICAL for f in confirmed)
                else "Warning signs"
            )
        if any(f.status == Status.OK for f in self.findings):
            return "Checks are healthy"
        if any(f.status == Status.ERROR for f in self.findings):
            return "Could not check"
        return "Nothing could be checked for this service"

    @property
    def verdict(self) -> str:
        """The headline and the most decisive faults (or what could not be checked), with the tally."""
        confirmed = self.faults
        unknown = [f for f in self.findings if f.status == Status.ERROR]
        ran = [f for f in self.findings if f.status != Status.SKIPPED]
        text = self.headline
        if confirmed:
            text += f": {lead_text(confirmed, self.symptom)}{self._no_recent_change()}"
        elif any(f.status == Status.OK for f in self.findings):
            text += self._no_recent_change()
        elif unknown:
            text += f": {'; '.join(f.summary for f in unknown[:2])}"
        if unknown and 2 * len(unknown) > len(ran) and (confirmed or any(f.status == Status.OK for f in ran)):
            text += f" - but {len(unknown)} of {len(ran)} checks could not run ({unknown[0].summary})"
        return f"{text} ({self.tally})"

    def _no_recent_change(self) -> str:
        """A report that names a deploy while the rollout history shows none recent (or only the bot's rollback):
        say so."""
        if not points_at_change(self.symptom) or any(f.rank == Rank.CHANGE for f in self.faults):
            return ""
        checked = [f for f in self.findings if f.probe in RECENT_CHANGE_PROBES and f.data.get("last_change")]
        if not checked:
            return ""
        last = checked[0].data
        if last.get("own_rollback"):
            return f"; no change since the bot's rollback ({last['last_change']})"
        return f"; no recent change (the last: {last['last_change']})"


def lead_text(faults: list[Fault], symptom: str = "") -> str:
    """The most decisive faults, one per rank, as a verdict names them; a report that points at a change
    ("since the deploy") gets the recent change named whatever else leads."""
    change = next((f for f in faults if f.rank == Rank.CHANGE), None) if points_at_change(symptom) else None
    lead: list[Fault] = []
    for candidate in faults:
        if candidate is not change and all(candidate.rank != f.rank for f in lead):
            lead.append(candidate)
    lead = lead[: LEAD_FAULTS - 1] if change else lead[:LEAD_FAULTS]
    texts = [f.text for f in lead] + ([f"since {change.text}"] if change else [])
    return "; ".join(texts)


def join_reasons(reasons: list[str]) -> str:
    """Reasons written as sentences, joined as one ("...outage; the database ...", not "outage.; The")."""
    clauses = [c.strip().rstrip(".") for r in reasons for c in r.split("; ") if c.strip()]
    first: dict[str, str] = {}
    for clause in clauses:  # two hints that both say "complete outage" say it once
        first.setdefault(clause.lower(), clause)
    parts = list(first.values())
    return "; ".join([parts[0], *map(_sentence_tail, parts[1:])]) + "." if parts else ""


def _sentence_tail(text: str) -> str:
    """A sentence continued after a semicolon: its capital goes, unless the word is an acronym (SEV-1, DNS)."""
    return text[:1].lower() + text[1:] if text[1:2].islower() else text


def satisfied(condition: Condition, findings: list[Finding]) -> bool:
    """True when a finding (of the named step, or any) has one of the condition's statuses and, if facts are
    named, shows one of them; and no finding shows an `unless` fact. A check that could not run never counts."""
    if condition.unless and facts_of(findings) & set(condition.unless):
        return False
    for finding in findings:
        if condition.probe is not None and finding.step != condition.probe:
            continue
        if finding.status not in condition.statuses:
            continue
        shown = {fact for f in finding.faults for fact in f.facts}
        if not condition.facts or shown & set(condition.facts):
            return True
    return False


def diagnose(playbook: Playbook, findings: list[Finding], duration_ms: float) -> Diagnosis:
    """Roll findings up: a SEV only for faults (the most severe of the playbook's default and the hints that fire;
    warning signs alone suggest no more than SEV-3 unless a hint says they do) and the fixes whose conditions the
    findings meet."""
    faults = [fault for f in findings for fault in f.faults]
    if not faults:
        return Diagnosis(playbook, findings, None, ["no problem confirmed"], [], duration_ms)
    sev, reasons = playbook.severity.default, [f"{playbook.severity.default} is this playbook's default"]
    if sev.rank < Sev.SEV3.rank and all(f.status != Status.CRITICAL for f in faults):
        sev = Sev.SEV3
        reasons = [f"only warning signs, nothing critical: {sev} until a problem is confirmed"]
    for hint in playbook.severity.hints:
        if satisfied(hint.when, findings) and hint.sev.rank <= sev.rank:
            if hint.sev.rank < sev.rank:
                reasons = []
            sev = hint.sev
            if hint.why not in reasons:
                reasons.append(hint.why)
    fitting = [a for a in playbook.actions if fits(a, findings)]
    return Diagnosis(playbook, findings, sev, reasons, fitting, duration_ms)


def fits(action: ActionStep, findings: list[Finding]) -> bool:
    """Whether the findings call for a fix: its conditions hold, and what it would change is not already so
    (a scale-out to 3 replicas is no fix for a deployment that runs 3, or whose autoscaler is at its max)."""
    if not all(satisfied(c, findings) for c in action.conditions):
        return False
    if action.action == "k8s.scale":
        return _has_headroom(action.typed_params.model_dump(), findings)
    return True


def _has_headroom(params: dict[str, Any], findings: list[Finding]) -> bool:
    target = int(params["replicas"])
    data = {f.probe: f.data for f in findings if f.status not in (Status.ERROR, Status.SKIPPED)}
    hpa = data.get("k8s.hpa")
    if hpa and (hpa.get("pinned_at_max") or not hpa.get("min", 0) <= target <= hpa.get("max", target)):
        return False
    pods = data.get("k8s.pods", {})
    current = [
        value
        for value in (
            data.get("k8s.rollout", {}).get("desired"),
            hpa.get("current") if hpa else None,
            pods.get("total") if pods.get("scope", "service") == "service" else None,
        )
        if isinstance(value, int)
    ]
    return params.get("allow_scale_down", False) or not current or max(current) < target
