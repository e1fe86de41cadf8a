"""What `/incident` commands and an incident's own buttons (Acknowledge, Mitigated, Resolve, Reopen) do."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal, Protocol

from bot.incident.offers import OfferKind
from bot.incident.requests import Asker, DiagnoseRequest, IncidentCommand
from bot.incident.summary import Summary, summarize
from bot.incidents import Incident, IncidentStatus

if TYPE_CHECKING:
    from bot.incident.flows import IncidentFlows
    from bot.incident.view import IncidentView

CONTROLS = {OfferKind.ACKNOWLEDGE, OfferKind.MITIGATE, OfferKind.RESOLVE, OfferKind.REOPEN}
Trouble = Literal["no_open_incident", "none_resolved", "several_open", "unknown_incident", "not_moved"]
# Verbs that still mean something once an incident is resolved: without an id, they fall back to the channel's
# latest resolved incident (and reopen only ever means a resolved one).
AFTER_RESOLVE = frozenset({"reopen", "status", "summary"})


class CommandView(Protocol):
    def show_summary(self, incident: Incident, summary: Summary) -> None: ...
    def status_reply(self, asker: Asker, incident: Incident, summary: Summary) -> None: ...
    def command_trouble(
        self, asker: Asker, why: Trouble, incidents: list[Incident], verb: str = ""
    ) -> None: ...


class Commands:
    def __init__(self, flows: IncidentFlows) -> None:
        self.flows = flows

    def run(self, command: IncidentCommand, view: IncidentView) -> None:
        flows, asker = self.flows, command.asker
        if command.verb == "declare":
            assert command.service is not None, "parse_incident names the service of a declaration"
            flows.diagnose(
                DiagnoseRequest(asker, command.service, command.text, command.sev, title=command.text), view
            )
            return
        incident = self._which(command, view)
        if incident is None:
            return
        lifecycle, by = flows.lifecycle, asker.user
        moved: Incident | None = incident
        if command.verb == "sev":
            assert command.sev is not None
            moved = lifecycle.set_severity(incident, command.sev, by, "set with /incident", view) or incident
        elif command.verb == "ack":
            moved = lifecycle.set_status(incident, IncidentStatus.ACKNOWLEDGED, by, command.text, view)
        elif command.verb == "mitigated":
            moved = lifecycle.set_status(incident, IncidentStatus.MITIGATED, by, command.text, view)
        elif command.verb == "reopen":
            moved = lifecycle.set_status(incident, IncidentStatus.INVESTIGATING, by, command.text, view)
        elif command.verb == "resolve":
            moved = self.resolve(incident, by, command.text, view)
        elif command.verb == "commander":
            assert command.user is not None
            moved = lifecycle.set_commander(incident, command.user, by, view)
        elif command.verb == "note":
            lifecycle.add_note(incident, command.text, by, view)
        elif command.verb == "summary":
            view.show_summary(
                incident, summarize(flows.store, flows.store.require(incident.id), flows.clock.now())
            )
        else:  # status
            view.status_reply(asker, incident, summarize(flows.store, incident, flows.clock.now()))
        if moved is None:
            view.command_trouble(asker, "not_moved", [incident], command.verb)
        else:
            flows.refresh(moved, view)

    def control(self, kind: OfferKind, incident: Incident, asker: Asker, view: IncidentView) -> None:
        """One of the incident's own buttons; a double click finds it moved already and changes nothing."""
        lifecycle = self.flows.lifecycle
        if kind == OfferKind.RESOLVE:
            moved = self.resolve(incident, asker.user, "", view)
        else:
            status = {OfferKind.ACKNOWLEDGE: IncidentStatus.ACKNOWLEDGED, OfferKind.MITIGATE: IncidentStatus.MITIGATED,
                      OfferKind.REOPEN: IncidentStatus.INVESTIGATING}[kind]  # fmt: skip
            moved = lifecycle.set_status(incident, status, asker.user, "", view)
        if moved is not None:
            self.flows.refresh(moved, view)

    def resolve(self, incident: Incident, by: str, note: str, view: IncidentView) -> Incident | None:
        """Resolve, and post the incident's summary (once: a second resolve changes nothing)."""
        flows = self.flows
        resolved = flows.lifecycle.resolve(incident, by, note, view)
        if resolved is not None:
            view.show_summary(resolved, summarize(flows.store, resolved, flows.clock.now()))
        return resolved

    def _which(self, command: IncidentCommand, view: IncidentView) -> Incident | None:
        """The incident a command is about: the one it names, else the channel's one open incident (or, for a
        verb that applies after a resolve, its latest resolved one)."""
        store, asker = self.flows.store, command.asker
        if command.incident_id:
            named = store.get(command.incident_id)
            if named is None:
                view.command_trouble(asker, "unknown_incident", [], command.incident_id)
            return named
        here = (
            []
            if command.verb == "reopen"
            else [i for i in store.list_open(limit=1000) if i.channel == asker.channel]
        )
        if len(here) == 1:
            return here[0]
        if not here and command.verb in AFTER_RESOLVE:
            resolved = [i for i in store.list_all(limit=1000) if i.channel == asker.channel and i.resolved_at]
            if resolved:
                return max(resolved, key=lambda i: (i.resolved_at, i.id))
        trouble: Trouble = (
            "several_open" if here else "none_resolved" if command.verb == "reopen" else "no_open_incident"
        )
        view.command_trouble(asker, trouble, here, command.verb)
        return None
