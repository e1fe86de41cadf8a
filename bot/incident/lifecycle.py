"""How an incident is run, as the guides define it: its SEV with meaning, paging by SEV, the escalation ladder,
acknowledge / mitigate / resolve / reopen, the commander, notes.

    severity   set by a person (or an alert's own severity label), never by the bot's suggestion; the ladder is
               planned from the incident's opening; reaching a paged SEV pages on-call
    ladder     rows in the store with due times (bot.store.lifecycle); `tick()`, run by one reconciler, fires what
               is due once, if its condition still holds (not acknowledged / not resolved), and flushes the outbox
    ack        stops the "not acknowledged" rungs and acknowledges the page; resolve stops everything, resolves the
               page and posts the summary
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.clock import Clock
from bot.config import TIER_NAMES, Config, EscalationStep
from bot.incidents import EscalationStep as LadderRow
from bot.incidents import Incident, IncidentStatus, Outgoing, TimelineKind
from bot.paging.outbox import Action, Pager, PageView
from bot.severity import Sev
from bot.store import Store

STATUS_VERBS = {IncidentStatus.ACKNOWLEDGED: "acknowledge", IncidentStatus.MITIGATED: "mitigate",
                IncidentStatus.INVESTIGATING: "reopen"}  # fmt: skip


class SeverityView(PageView, Protocol):
    """What setting a SEV shows (every surface that opens incidents has it)."""

    def severity_changed(self, incident: Incident, user: str | None, sev: Sev, was: Sev | None) -> None: ...
    def notify_tier(self, incident: Incident, tier: str, who: str, why: str, paged: bool) -> None:
        """Mention a tier in the thread (and say whether it was paged)."""
        ...


class LifecycleView(SeverityView, Protocol):
    def status_changed(
        self, incident: Incident, user: str | None, status: IncidentStatus, note: str
    ) -> None: ...
    def commander_set(self, incident: Incident, user: str, commander: str) -> None: ...
    def note_added(self, incident: Incident, user: str, text: str) -> None: ...
    def escalated(
        self, incident: Incident, step: EscalationStep, who: str, contacts: list[str], paged: bool
    ) -> None: ...


@dataclass
class Lifecycle:
    config: Config
    store: Store
    pager: Pager | None
    clock: Clock

    # -- SEV, paging and the ladder ---------------------------------------------------------------

    def set_severity(
        self, incident: Incident, sev: Sev, by: str | None, why: str, view: SeverityView
    ) -> Incident | None:
        """None when it already was that SEV (a double click)."""
        updated = self.store.set_severity(incident.id, sev, by, why)
        if updated is None:
            return None
        self.plan(updated)
        view.severity_changed(updated, by, sev, incident.severity)
        levels = self.config.policy.severities
        was_paged = incident.severity is not None and levels[incident.severity].page_oncall
        if levels[sev].page_oncall and not was_paged and updated.is_open:
            self._notify(updated, "oncall", f"{sev} ({levels[sev].name}): {levels[sev].meaning}", view)
        return updated

    def plan(self, incident: Incident) -> None:
        """The incident's ladder from its opening time, for its SEV and team (nothing without a SEV)."""
        if incident.severity is None or not incident.is_open:
            return
        ladder = self.config.ladder(incident.service, incident.severity)
        acknowledged = incident.status is not IncidentStatus.INVESTIGATING
        steps = [(n, s.tier, s.when, incident.created_at + s.after) for n, s in enumerate(ladder, 1)
                 if not (acknowledged and s.when == "not_acknowledged")]  # fmt: skip
        self.store.plan_escalation(incident.id, steps)

    def tick(self, view: LifecycleView) -> None:
        """Fire the rungs that are due (each once, whoever else is reconciling), then deliver pages."""
        for row in self.store.due_escalations():
            incident = self.store.get(row.incident_id)
            if incident is None or not self._still_holds(row, incident):
                self.store.cancel_escalations(row.incident_id, row.condition)
            else:
                self._escalate(incident, row, view)
        if self.pager is not None:
            self.pager.flush(view)

    def _still_holds(self, row: LadderRow, incident: Incident) -> bool:
        if not incident.is_open:
            return False
        return row.condition == "not_resolved" or incident.status is IncidentStatus.INVESTIGATING

    def _escalate(self, incident: Incident, row: LadderRow, view: LifecycleView) -> None:
        """Fire a due rung (if this caller wins it) and tell the thread; its page is kept as the rung fires."""
        team = self.config.teams[self.config.services[incident.service].team]
        contact = team.contact(row.tier)
        step = next((s for s in self.config.ladder(incident.service, incident.severity or Sev.SEV1)
                     if s.tier == row.tier and s.when == row.condition), None)  # fmt: skip
        pages = step is not None and step.pages(self.config.policy.severities[incident.severity or Sev.SEV1])
        page = self._page_message(incident, row.tier) if pages else None
        if not self.store.fire_escalation(row.id, page) or contact is None or step is None:
            return
        paged = page is not None
        self.store.append(incident.id, TimelineKind.ESCALATED, f"escalated to the {TIER_NAMES[row.tier]}: {row.condition.replace('_', ' ')}",
                          None, {"tier": row.tier, "condition": row.condition, "paged": paged})  # fmt: skip
        view.escalated(incident, step, contact.slack, team.contacts, paged)
        if paged and self.pager is not None:
            self.pager.flush(view)

    def _notify(self, incident: Incident, tier: str, why: str, view: SeverityView) -> None:
        team = self.config.teams[self.config.services[incident.service].team]
        contact = team.contact(tier)
        if contact is None:
            return
        page = self._page_message(incident, tier)
        if page is not None:
            self.store.enqueue(incident.id, page)
        view.notify_tier(incident, tier, contact.slack, why, page is not None)
        if page is not None and self.pager is not None:
            self.pager.flush(view)

    def _page_message(self, incident: Incident, tier: str) -> Outgoing | None:
        """The tier's page (a trigger), if it has a routing key and there is a pager; None otherwise."""
        team = self.config.teams[self.config.services[incident.service].team]
        contact = team.contact(tier)
        if self.pager is None or contact is None or not contact.pagerduty_routing_key_env:
            return None
        return self.pager.message(incident, tier, contact.pagerduty_routing_key_env, "trigger")

    def _page_all(self, incident: Incident, action: Action, view: LifecycleView) -> None:
        if self.pager is None:
            return
        for key_env, tier in self.pager.paged_keys(incident.id).items():
            self.store.enqueue(incident.id, self.pager.message(incident, tier, key_env, action))
        self.pager.flush(view)

    # -- status and people ------------------------------------------------------------------------

    def set_status(
        self, incident: Incident, status: IncidentStatus, by: str, note: str, view: LifecycleView
    ) -> Incident | None:
        """Acknowledge, mitigate or reopen; None when it could not move from where it is."""
        updated = self.store.set_status(incident.id, status, by, note)
        if updated is None:
            return None
        if status is IncidentStatus.ACKNOWLEDGED:
            self.store.cancel_escalations(incident.id, "not_acknowledged")
            self._page_all(updated, "acknowledge", view)
        if status is IncidentStatus.INVESTIGATING:  # reopened: the ladder starts again where it stands
            self.plan(updated)
        view.status_changed(updated, by, status, note)
        return updated

    def resolve(self, incident: Incident, by: str, note: str, view: LifecycleView) -> Incident | None:
        if not self.store.resolve(incident.id, by, note):
            return None
        self.store.cancel_escalations(incident.id)
        updated = self.store.require(incident.id)
        self._page_all(updated, "resolve", view)
        view.status_changed(updated, by, IncidentStatus.RESOLVED, note)
        return updated

    def set_commander(self, incident: Incident, commander: str, by: str, view: LifecycleView) -> Incident:
        updated = self.store.set_commander(incident.id, commander, by)
        view.commander_set(updated, by, commander)
        return updated

    def add_note(self, incident: Incident, text: str, by: str, view: LifecycleView) -> None:
        self.store.append(incident.id, TimelineKind.NOTE, text, by, {})
        view.note_added(incident, by, text)
