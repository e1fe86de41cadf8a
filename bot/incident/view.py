"""How the incident flows talk to people: a narrow view interface, implemented with Block Kit by the Slack edge
(handlers.slack_view) and with text by the terminal (bot.terminal_view) for `chatops diagnose`.

The flows decide what happens and what to offer; a view decides how it looks. Buttons are `Offer`s whose
`state` is an opaque id of state the flow kept in the store: a view draws them and never makes them up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.findings import Diagnosis, Finding
from bot.incident.commands_flow import CommandView
from bot.incident.intake import AlertView
from bot.incident.lifecycle import LifecycleView, SeverityView
from bot.incident.offers import Offer, OfferKind
from bot.incident.remediation import RemediationView
from bot.incident.requests import Asker, ButtonClick
from bot.incident.summary import Summary
from bot.incidents import Incident
from bot.matcher import MatchResult
from bot.playbook import Playbook
from bot.severity import Status

__all__ = ["Checklist", "DiagnosisView", "IncidentView", "Offer", "OfferKind", "Thread"]


@dataclass(frozen=True)
class Thread:
    """Where an incident lives once its root message is posted."""

    ts: str
    permalink: str | None = None
    channel: str | None = None  # the channel's id, when the incident was opened by name ("#incidents")


class Checklist(Protocol):
    """A message that shows the checks filling in; `close` must leave the final state visible, whatever fails."""

    def update(self, findings: Mapping[str, Finding]) -> None: ...
    def close(self, findings: Mapping[str, Finding]) -> None: ...


class DiagnosisView(SeverityView, Protocol):
    """What diagnosing an incident shows (all `chatops diagnose` needs)."""

    def open_thread(self, incident: Incident) -> Thread: ...
    def source_link(self, channel: str, ts: str) -> str | None:
        """A link to a message elsewhere (the one a shortcut was used on)."""
        ...

    def show_match(
        self, incident: Incident, result: MatchResult, offers: Sequence[Offer], triage: bool = False
    ) -> None:
        """The pick and why, or the closest candidates; `triage`: the guide's general checks run (nothing fit)."""
        ...

    def start_checklist(self, incident: Incident, playbook: Playbook) -> Checklist: ...
    def queued(self, incident: Incident, ahead: int) -> None:
        """The checks wait for others to finish first (bot.incident.turns): say so, and how many are ahead."""
        ...

    def show_verdict(
        self,
        incident: Incident,
        diagnosis: Diagnosis,
        values: Mapping[str, str | None],
        severities: Sequence[Offer],
        fixes: Sequence[Offer],
    ) -> None: ...
    def attach_evidence(self, incident: Incident, name: str, title: str, text: str) -> None: ...
    def refresh_root(
        self, incident: Incident, verdict: tuple[Status, str] | None, controls: Sequence[Offer]
    ) -> None:
        """Redraw the incident's channel message: status, SEV, the latest verdict, and its own buttons."""
        ...


class IncidentView(DiagnosisView, RemediationView, LifecycleView, CommandView, AlertView, Protocol):
    """Everything else people see of incidents in a chat (Slack, the shell)."""

    def tell(self, asker: Asker, text: str) -> None:
        """A message only this person sees (errors, hints)."""
        ...

    def pressed(self, click: ButtonClick, kind: OfferKind, what: str) -> None:
        """Replace the pressed button with who pressed it and what it did, so nobody presses it again."""
        ...

    def offer_playbook(self, incident: Incident, result: MatchResult, offer: Offer) -> None: ...
    def status(self, incident: Incident, summary: Summary, thread_ts: str) -> None:
        """`@chatops status`: what `/incident status` tells, in the thread for everyone."""
        ...

    def mention_help(self, asker: Asker, reply_ts: str) -> None: ...
    def no_match(self, incident: Incident, result: MatchResult, thread_ts: str) -> None: ...
    def resolved_here(self, incident: Incident, thread_ts: str, reopen: Sequence[Offer]) -> None:
        """Asked to diagnose in a resolved incident's thread: say so, with its Reopen button."""
        ...

    def service_guesses(
        self, asker: Asker, symptom: str, offers: Sequence[Offer], typed: str | None
    ) -> None: ...
    def home(self, user: str, incidents: Sequence[Incident]) -> None: ...
