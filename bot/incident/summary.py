"""The incident summary, written from the timeline: what happened, when, who took part, what was found and done.

`summarize()` reads the store once into a `Summary`; Slack draws it (handlers.blocks), and `postmortem()` turns
it into a Markdown postmortem draft whose narrative parts are prompts for people, with the team's support
checklist (the guides' "what to include") to fill in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.incidents import ActionRequest, Incident, RequestState, TimelineEntry, TimelineKind
from bot.store import Store

FOLLOW_UP = ("follow-up", "follow up", "followup", "todo", "action item")
DEFAULT_CHECKLIST = ["Error messages and stack traces", "Logs from the time of the issue", "Recent changes",
                     "Steps to reproduce", "Expected vs actual behaviour"]  # fmt: skip


@dataclass(frozen=True)
class Milestone:
    name: str  # detected, opened, acknowledged, first diagnosis, mitigated, resolved
    at: datetime


@dataclass(frozen=True)
class Summary:
    incident: Incident
    now: datetime
    milestones: list[Milestone]
    severities: list[tuple[str, timedelta, str | None]]  # SEV, time spent at it, who set it
    participants: list[str]
    findings: list[str]
    verdict: str | None
    # a fix succeeded after the latest diagnosis: the verdict says how things were before it
    fixed_since_verdict: bool
    pages: list[str]
    escalations: list[str]
    actions: list[ActionRequest]
    resolution: str | None
    follow_ups: list[str]
    timeline: list[TimelineEntry] = field(repr=False, default_factory=list)

    @property
    def verdict_label(self) -> str:
        return "Diagnosis before the fix" if self.fixed_since_verdict else "Latest verdict"

    def durations(self) -> list[tuple[str, timedelta]]:
        """Time from each milestone to the next one reached ("opened -> acknowledged: 12 min")."""
        return [
            (f"{a.name} → {b.name}", b.at - a.at)
            for a, b in zip(self.milestones, self.milestones[1:], strict=False)
        ]


def summarize(store: Store, incident: Incident, now: datetime) -> Summary:
    timeline = store.timeline(incident.id)
    first_verdict = next((e.at for e in timeline if e.kind is TimelineKind.VERDICT), None)
    marks = [("detected", incident.detected_at), ("opened", incident.created_at),
             ("acknowledged", incident.acknowledged_at), ("first diagnosis", first_verdict),
             ("mitigated", incident.mitigated_at), ("resolved", incident.resolved_at)]  # fmt: skip
    milestones = sorted((Milestone(name, at) for name, at in marks if at is not None), key=lambda m: m.at)
    verdicts = [e for e in timeline if e.kind is TimelineKind.VERDICT]
    findings = list(dict.fromkeys(e.text for e in timeline if e.kind is TimelineKind.FINDING
                                  and e.data.get("status") in ("critical", "warn")))  # fmt: skip
    notes = [e.text for e in timeline if e.kind is TimelineKind.NOTE]
    resolved = [e.text for e in timeline if e.kind is TimelineKind.RESOLVED]
    actors = [incident.created_by, *(e.actor for e in timeline), *(a.actor for a in store.audit(incident.id))]
    return Summary(
        incident=incident,
        now=now,
        milestones=milestones,
        severities=_severities(timeline, incident.resolved_at or now),
        participants=sorted({a for a in actors if a}),
        findings=findings[:8],
        verdict=verdicts[-1].text if verdicts else None,
        fixed_since_verdict=bool(verdicts)
        and any(
            e.kind is TimelineKind.ACTION_RESULT
            and e.data.get("state") == RequestState.SUCCEEDED
            and e.at >= verdicts[-1].at
            for e in timeline
        ),
        pages=[e.text for e in timeline if e.kind is TimelineKind.PAGED],
        escalations=[e.text for e in timeline if e.kind is TimelineKind.ESCALATED],
        actions=store.requests_in(incident.id),
        resolution=resolved[-1] if resolved else None,
        follow_ups=[n for n in notes if n.lower().startswith(FOLLOW_UP)],
        timeline=timeline,
    )


def _severities(timeline: list[TimelineEntry], until: datetime) -> list[tuple[str, timedelta, str | None]]:
    """Each SEV the incident had, how long and who set it; none when nobody ever set one."""
    changes = [e for e in timeline if e.kind is TimelineKind.SEVERITY]
    if not changes:
        return []
    ends = [e.at for e in changes[1:]] + [until]
    return [(e.data.get("severity", "?"), end - e.at, e.actor) for e, end in zip(changes, ends, strict=True)]


def duration(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return f"{int(delta.total_seconds())} s"
    if minutes < 120:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // 1440} d {minutes % 1440 // 60} h"


def postmortem(summary: Summary, checklist: list[str]) -> str:
    """A Markdown postmortem draft: the facts from the timeline, the narrative left as prompts for people."""
    incident = summary.incident
    lines = [f"# Postmortem draft: {incident.id} {incident.service}: {incident.name}", "",
             f"Status: {incident.status}. Severity: {incident.severity or 'not set'}. "
             f"Commander: {incident.commander or 'not named'}.", "",
             "## Impact", "", "_Who and what was affected, for how long? (to be written by people)_", "",
             "## Detection", ""]  # fmt: skip
    opened = next((m for m in summary.milestones if m.name == "opened"), None)
    detected = next((m for m in summary.milestones if m.name == "detected"), None)
    lines.append(
        f"- Opened {opened.at:%Y-%m-%d %H:%M UTC} by {incident.created_by}" if opened else "- Opened: unknown"
    )
    if detected:
        lines.append(f"- First alert at {detected.at:%Y-%m-%d %H:%M UTC}")
    lines += ["", "## Timeline (UTC)", ""]
    lines += [f"- {e.at:%H:%M:%S} {e.kind.value}: {e.text}" + (f" ({e.actor})" if e.actor else "")
              for e in summary.timeline]  # fmt: skip
    lines += ["", "## Durations", ""] + (
        [f"- {name}: {duration(d)}" for name, d in summary.durations()] or ["- (none yet)"]
    )
    lines += ["", "## Severity", ""] + ([f"- {sev} for {duration(d)} (set by {who or 'the bot'})"
                                         for sev, d, who in summary.severities] or ["- (none was set)"])  # fmt: skip
    lines += ["", "## What the checks found", ""] + [
        f"- {f}" for f in summary.findings or ["(nothing flagged)"]
    ]
    lines += ["", "## Actions", ""]
    lines += [f"- {a.title}: asked by {a.requested_by}, {a.state.value}" + (f" (approved by {a.decided_by})" if a.decided_by else "")
              for a in summary.actions] or ["- (none)"]  # fmt: skip
    lines += ["", "## Pages and escalations", ""] + [
        f"- {p}" for p in summary.pages + summary.escalations or ["(none)"]
    ]
    lines += ["", "## Resolution", "", summary.resolution or "_How was it resolved?_", "",
              "## Root cause", "", "_Why did it happen? (to be written by people)_", "",
              "## Follow-ups", ""]  # fmt: skip
    lines += [f"- [ ] {f}" for f in summary.follow_ups] or [
        "- [ ] _What will stop this from happening again?_"
    ]
    lines += ["", "## Support checklist", ""] + [f"- [ ] {item}" for item in checklist or DEFAULT_CHECKLIST]
    lines += ["", f"Participants: {', '.join(summary.participants)}", ""]
    return "\n".join(lines)
