"""The incident flows' view at a terminal (`chatops diagnose`): what Slack's thread would show, as text."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence

from bot import terminal
from bot.findings import Diagnosis, Finding
from bot.incident.view import Offer, Thread
from bot.incidents import Incident
from bot.matcher import MatchResult
from bot.playbook import Playbook
from bot.reports import diagnosis_json
from bot.severity import Sev, Status

Write = Callable[[str], None]


class TerminalChecklist:
    """Prints each check once, as it finishes (saying which are triage checks and invented queries)."""

    def __init__(self, write: Write, playbook: Playbook | None = None) -> None:
        self.write, self.playbook = write, playbook
        self.printed: set[str] = set()

    def update(self, findings: Mapping[str, Finding]) -> None:
        for step, finding in findings.items():
            if step not in self.printed:
                self.printed.add(step)
                label = terminal.step_label(self.playbook, step) if self.playbook else ""
                self.write(terminal.finding_line(finding, label))

    def close(self, findings: Mapping[str, Finding]) -> None:
        self.update(findings)


class TerminalView:
    """Text as the checks run (or, with `as_json`, one JSON document at the end)."""

    def __init__(self, write: Write, as_json: bool = False) -> None:
        self.write, self.as_json = write, as_json
        self.matched: MatchResult | None = None

    def open_thread(self, incident: Incident) -> Thread:
        if not self.as_json:
            self.write(f"Incident: {incident.service}: {incident.symptom}")
        return Thread(ts=incident.id)

    def source_link(self, channel: str, ts: str) -> str | None:
        return None

    def show_match(
        self, incident: Incident, result: MatchResult, offers: Sequence[Offer], triage: bool = False
    ) -> None:
        self.matched = result
        if result.best is None:
            self.write(terminal.match_text(result))
        elif not self.as_json:
            playbook = result.best.playbook
            self.write(f"Playbook: {playbook.title} [{playbook.id}] ({'; '.join(result.best.why)})")

    def start_checklist(self, incident: Incident, playbook: Playbook) -> TerminalChecklist:
        if self.as_json:
            return TerminalChecklist(lambda line: None)
        triage = sum(playbook.from_triage(s) for s in playbook.probes)
        beside = f" ({triage} of them the guide's triage)" if triage and not playbook.is_triage else ""
        self.write(f"Running {len(playbook.probes)} read-only checks{beside}...")
        return TerminalChecklist(self.write, playbook)

    def queued(self, incident: Incident, ahead: int) -> None:
        if not self.as_json:
            self.write(f"Queued behind {ahead} incidents: the checks start when one of them finishes.")

    def show_verdict(
        self,
        incident: Incident,
        diagnosis: Diagnosis,
        values: Mapping[str, str | None],
        severities: Sequence[Offer],
        fixes: Sequence[Offer],
    ) -> None:
        if self.as_json:
            query = self.matched.query if self.matched else incident.symptom
            self.write(json.dumps(diagnosis_json(query, incident.service, diagnosis, values), indent=2))
        else:
            self.write(terminal.diagnosis_text(diagnosis, values))

    def attach_evidence(self, incident: Incident, name: str, title: str, text: str) -> None:
        """The terminal printed the evidence with the verdict already."""

    def severity_changed(self, incident: Incident, user: str | None, sev: Sev, was: Sev | None) -> None:
        if not self.as_json:
            self.write(f"Severity: {sev}" + (f" (was {was})" if was else ""))

    def notify_tier(self, incident: Incident, tier: str, who: str, why: str, paged: bool) -> None:
        if not self.as_json:
            self.write(f"Notifying {tier} ({who}){' and paging' if paged else ''}: {why}")

    def page_refused(self, incident: Incident, tier: str, reason: str) -> None:
        self.write(f"PagerDuty refused the page to {tier}: {reason}")

    def refresh_root(
        self, incident: Incident, verdict: tuple[Status, str] | None, controls: Sequence[Offer]
    ) -> None:
        """A terminal has no channel message to redraw."""
