"""The incident flows, top to bottom: open an incident -> match -> run the playbook's checks -> verdict -> offers;
and what people do in its thread (press a button, reply, mention the bot).

Every surface shares them: Slack (through handlers.slack_view), `chatops diagnose` (bot.terminal_view), and
next the Alertmanager intake and the escalation scheduler. A flow keeps the state its buttons stand for and
records everything in the incident's timeline; the view only draws.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from bot import triage
from bot.changes import changes, finding_record, incident_verdict
from bot.clock import SYSTEM_CLOCK, Clock
from bot.config import Config
from bot.errors import UnknownNameError
from bot.findings import Diagnosis, Finding
from bot.incident.approvals import Directory
from bot.incident.commands_flow import CONTROLS, Commands
from bot.incident.intake import AlertIntake
from bot.incident.lifecycle import Lifecycle
from bot.incident.remediation import Remediation
from bot.incident.requests import (
    AlertsReceived,
    ButtonClick,
    DiagnoseRequest,
    GuessServiceRequest,
    HomeOpened,
    IncidentCommand,
    Mention,
    Request,
    ThreadReply,
)
from bot.incident.summary import summarize
from bot.incident.turns import UNLIMITED, Turns
from bot.incident.view import DiagnosisView, IncidentView, Offer, OfferKind
from bot.incidents import Incident, IncidentStatus, RequestState, TimelineKind
from bot.matcher import Matcher
from bot.paging.outbox import Pager
from bot.playbook import Playbook
from bot.playbooks_loader import Catalog
from bot.redaction import redact
from bot.reports import evidence_text
from bot.runner import Runner
from bot.severity import Sev, Status
from bot.store import Store
from bot.templating import missing_values

MAX_SERVICE_GUESSES = 5
DOUBLE_CLICK = timedelta(seconds=10)  # clicks this close together are one


class NoDirectory:
    """No user groups (the CLI): only approvers named by user id count."""

    def members(self, group: str) -> set[str]:
        return set()


@dataclass
class IncidentFlows:
    config: Config
    catalog: Catalog
    matcher: Matcher
    store: Store
    runner: Runner
    clock: Clock = SYSTEM_CLOCK
    directory: Directory = field(default_factory=NoDirectory)
    pager: Pager | None = None
    turns: Turns = UNLIMITED  # how many incidents run checks at once; past it they queue (bot.incident.turns)

    def __post_init__(self) -> None:
        self.remediation = Remediation(self.config, self.store, self.runner.clients, self.clock, self.directory,
                                       self._offer)  # fmt: skip
        self.lifecycle = Lifecycle(self.config, self.store, self.pager, self.clock)
        self.intake = AlertIntake(self)
        self.commands = Commands(self)

    def handle(self, request: Request, view: IncidentView) -> None:
        """Do what a request asks (in a worker: this is where every background request starts)."""
        match request:
            case DiagnoseRequest():
                self.diagnose(request, view)
            case GuessServiceRequest():
                self.guess_service(request, view)
            case ButtonClick():
                self.click(request, view)
            case ThreadReply():
                self.reply(request, view)
            case Mention():
                self.mention(request, view)
            case HomeOpened():
                view.home(request.user, self.store.list_open())
            case IncidentCommand():
                self.commands.run(request, view)
            case AlertsReceived():
                self.intake.take(request.intake_id, view)

    def tick(self, view: IncidentView) -> None:
        """What the one reconciler does every few seconds: due escalations, pages, expired fix requests."""
        self.lifecycle.tick(view)
        self.remediation.sweep(view)

    # -- opening and diagnosing -------------------------------------------------------------------

    def diagnose(self, request: DiagnoseRequest, view: DiagnosisView) -> Incident:
        """Open the incident, post its thread, match the symptom and run the best playbook's checks."""
        asker, service = request.asker, self.config.services[request.service]
        link = view.source_link(*request.source) if request.source else None
        incident = self.store.open_incident(request.service, request.symptom, asker.channel, asker.user,
                                            request.title, request.alert_key, request.detected_at, link)  # fmt: skip
        try:
            thread = view.open_thread(incident)
        except BaseException:  # no thread, no incident: don't leave one open that nobody can see
            self.store.resolve(
                incident.id, by=asker.user, note="never shown: the root message could not be posted"
            )
            raise
        incident = self.store.set_thread(incident.id, thread.ts, thread.permalink, thread.channel)
        if link:
            self.store.append(
                incident.id, TimelineKind.NOTE, f"opened from {link}", asker.user, {"source": link}
            )
        self.refresh(incident, view)  # the incident's own buttons, on its channel message
        if request.severity is not None:
            by, why = (
                (None, "from the alert's severity label")
                if request.alert_key
                else (asker.user, "chosen when opening")
            )
            incident = self.lifecycle.set_severity(incident, request.severity, by, why, view) or incident
        # The stored symptom is redacted: someone may paste a log line with a token into /diagnose.
        result = self.matcher.match(incident.symptom, guide=service.guide, service=request.service)
        others = result.matches if result.best is None else result.matches[1:]
        offers = [self._run_offer(incident, m.playbook) for m in others]
        # Nothing matched: the guide's triage runs alone, unless the text is not an incident at all.
        triage_alone = (
            result.best is None and bool(self.catalog.triage(service.guide)) and not result.not_incident
        )
        view.show_match(incident, result, offers, triage_alone)
        if result.best is not None or triage_alone:
            self.run_playbook(incident, result.best.playbook if result.best else None, None, view)
        return incident

    def run_playbook(
        self, incident: Incident, playbook: Playbook | None, actor: str | None, view: DiagnosisView
    ) -> Diagnosis:
        """Run a playbook's checks with its guide's triage beside them (the triage alone when nothing matched) in
        the incident's thread: a live checklist, then verdict, SEV and fixes, and what changed since the last run."""
        service = self.config.services[incident.service]
        run = triage.plan(playbook, self.catalog.triage(service.guide), service.variables(incident.service))
        if playbook is not None:
            self.store.set_playbook(incident.id, playbook.id, actor)
        before = self.store.timeline(incident.id)
        checklist = view.start_checklist(incident, run)
        done: dict[str, Finding] = {}

        def on_finding(finding: Finding) -> None:
            done[finding.step] = finding
            self.store.append(incident.id, TimelineKind.FINDING,
                              f"{finding.title}: {finding.status}: {finding.summary}",
                              data=finding_record(run, finding))  # fmt: skip
            checklist.update(dict(done))

        try:
            with self.turns.take(lambda ahead: view.queued(incident, ahead)):
                diagnosis = self.runner.run(run, incident.service, service, on_finding)
        finally:
            checklist.close(dict(done))
        diagnosis = replace(diagnosis, symptom=incident.symptom)
        diagnosis = replace(diagnosis, changes=changes(before, run, diagnosis))
        self.store.append(incident.id, TimelineKind.VERDICT, diagnosis.verdict,
                          data={"worst": diagnosis.worst.value, "playbook": run.id})  # fmt: skip
        severities = [
            self._offer(OfferKind.SET_SEVERITY, sev.value, {"incident": incident.id, "sev": sev.value}, incident,
                        "danger" if sev == diagnosis.suggested_sev and sev.rank <= 2 else None)
            for sev in Sev
        ]  # fmt: skip
        fixes = [
            self._offer(OfferKind.REQUEST_ACTION, step.title,
                        {"incident": incident.id, "playbook": step.source[0], "action": step.source[1]}, incident)
            for step in diagnosis.remediations
        ]  # fmt: skip
        view.show_verdict(incident, diagnosis, service.variables(incident.service), severities, fixes)
        evidence = evidence_text(incident.id, incident.service, diagnosis)
        if evidence:
            name = f"{incident.id}-{run.id.replace('/', '-')}-evidence.txt"
            view.attach_evidence(incident, name, f"Evidence: {run.title}", evidence)
        self.refresh(incident, view)
        return diagnosis

    def guess_service(self, request: GuessServiceRequest, view: IncidentView) -> None:
        """No service named: offer the services whose guides fit the symptom best, the symptom kept."""
        result = self.matcher.match(redact(request.symptom), top=MAX_SERVICE_GUESSES)
        names = [name for match in result.matches for name in self._services_for(match.playbook)]
        if request.typed:
            names = self._close_services(request.typed) + names
        names = list(dict.fromkeys(names or sorted(self.config.services)))[:MAX_SERVICE_GUESSES]
        offers = [
            self._offer(OfferKind.DIAGNOSE_SERVICE, name, {"service": name, "symptom": request.symptom})
            for name in names
        ]
        view.service_guesses(request.asker, redact(request.symptom), offers, request.typed)

    def _services_for(self, playbook: Playbook) -> list[str]:
        """The services of the playbook's guide, those whose config lets more of its checks run first."""
        services = [(n, s) for n, s in sorted(self.config.services.items()) if s.guide == playbook.guide]

        def runnable(name: str, service: Any) -> int:
            values = service.variables(name)
            return sum(not missing_values(step.typed_params, values) for step in playbook.probes)

        return [n for n, _ in sorted(services, key=lambda pair: -runnable(*pair))]

    def _close_services(self, typed: str) -> list[str]:
        return difflib.get_close_matches(typed.lower(), sorted(self.config.services), n=2, cutoff=0.6)

    # -- what people do in the thread -------------------------------------------------------------

    def click(self, click: ButtonClick, view: IncidentView) -> None:
        """A button: its state says what it stands for; an unknown (forged, expired) id changes nothing."""
        state = self.store.get_state(click.state_id)
        if state is None:  # forged, or from before the store was reset: an answer, never silence
            view.refuse(click.asker, "unknown_button", None)
            return
        user, payload = click.asker.user, state.payload
        if state.kind == OfferKind.SET_SEVERITY:
            self._set_severity(payload["incident"], Sev(payload["sev"]), user, view)
        elif state.kind == OfferKind.REQUEST_ACTION:
            self._request_fix(click, payload, view)
        elif state.kind == OfferKind.APPROVE_ACTION:
            self.remediation.approve(payload["request"], click.asker, view)
        elif state.kind == OfferKind.DENY_ACTION:
            self.remediation.deny(payload["request"], click.asker, view)
        elif state.kind in CONTROLS:
            self.commands.control(
                OfferKind(state.kind), self.store.require(payload["incident"]), click.asker, view
            )
        elif state.kind == OfferKind.RUN_PLAYBOOK and not self.store.require(payload["incident"]).is_open:
            # Refused before the claim below: the same button runs once the incident is reopened.
            view.refuse(click.asker, "resolved", None, payload["incident"])
        elif not self.store.claim(f"button:{click.state_id}", user):
            return  # pressed already (a double click): it runs once
        elif state.kind == OfferKind.RUN_PLAYBOOK:
            try:
                playbook = self.catalog.get(payload["playbook"])
            except UnknownNameError:
                return  # the playbook was removed since the button was posted
            view.pressed(click, OfferKind.RUN_PLAYBOOK, playbook.title)
            self.run_playbook(self.store.require(payload["incident"]), playbook, user, view)
        elif state.kind == OfferKind.DIAGNOSE_SERVICE and payload["service"] in self.config.services:
            view.pressed(click, OfferKind.DIAGNOSE_SERVICE, payload["service"])
            self.diagnose(DiagnoseRequest(click.asker, payload["service"], payload["symptom"]), view)

    def _request_fix(self, click: ButtonClick, payload: dict[str, Any], view: IncidentView) -> None:
        """A fix button: one request at a time per fix (a double click, or a click while one is pending, asks
        for nothing new)."""
        incident = self.store.require(payload["incident"])
        if not incident.is_open:
            view.refuse(click.asker, "resolved", None, incident.id)
            return
        playbook = self.catalog.get(payload["playbook"])
        action = playbook.actions[payload["action"]].action
        pending = [r for r in self.store.requests_in(incident.id)
                   if r.state == RequestState.PENDING and r.action == action and r.playbook_id == playbook.id]  # fmt: skip
        if pending or not self.store.claim(f"fix:{click.state_id}", click.asker.user, DOUBLE_CLICK):
            view.refuse(click.asker, "already_requested", pending[0] if pending else None)
            return
        self.remediation.request(incident, playbook, payload["action"], click.asker, view)

    def _set_severity(self, incident_id: str, sev: Sev, user: str, view: IncidentView) -> None:
        before = self.store.require(incident_id)
        incident = self.lifecycle.set_severity(before, sev, user, "set in the incident", view)
        if incident is not None:  # None: it already was that SEV (a double click)
            self.refresh(incident, view)

    def refresh(
        self, incident: Incident, view: DiagnosisView, verdict: tuple[Status, str] | None = None
    ) -> None:
        """Redraw the incident's channel message: its status, SEV, latest verdict and its own buttons."""
        incident = self.store.require(incident.id)
        view.refresh_root(incident, verdict or self._latest_verdict(incident), self._controls(incident))

    def _controls(self, incident: Incident) -> list[Offer]:
        """The buttons on an incident's channel message (the same state ids each time it is redrawn)."""
        wanted: list[tuple[OfferKind, Sev | None]] = [(OfferKind.REOPEN, None)]
        if incident.is_open:
            wanted = (
                [(OfferKind.ACKNOWLEDGE, None)] if incident.status is IncidentStatus.INVESTIGATING else []
            )
            if incident.status is not IncidentStatus.MITIGATED:
                wanted.append((OfferKind.MITIGATE, None))
            wanted += [(OfferKind.RESOLVE, None), *((OfferKind.SET_SEVERITY, sev) for sev in Sev)]
        known = self.store.states_of(incident.id)
        return [self._control(incident, kind, sev, known) for kind, sev in wanted]

    def _control(
        self,
        incident: Incident,
        kind: OfferKind,
        sev: Sev | None,
        known: dict[str, list[tuple[str, dict[str, Any]]]],
    ) -> Offer:
        payload = {"incident": incident.id, "control": True, **({"sev": sev.value} if sev else {})}
        state = next((i for i, p in known.get(kind.value, []) if p == payload), None)
        return Offer(
            kind,
            sev.value if sev else kind.value,
            state or self.store.put_state(kind.value, payload, incident.id),
        )

    def reply(self, reply: ThreadReply, view: IncidentView) -> None:
        """A reply in an incident's thread that confidently fits another playbook gets one offer to run it."""
        incident = self.store.by_thread(reply.asker.channel, reply.thread_ts)
        if incident is None or not incident.is_open:
            return
        guide = self.config.services[incident.service].guide
        result = self.matcher.match(redact(reply.text), guide=guide, service=incident.service)
        best = result.best
        if best is None or best.playbook.id == incident.playbook_id:
            return
        if not self.store.claim(f"offer:{incident.id}:{best.playbook.id}"):
            return  # one offer per playbook per incident: no spam
        view.offer_playbook(incident, result, self._run_offer(incident, best.playbook))

    def mention(self, mention: Mention, view: IncidentView) -> None:
        """`@chatops status | diagnose <symptom> | help`, in an incident thread (help anywhere else)."""
        command, _, rest = mention.text.strip().partition(" ")
        thread_ts = mention.thread_ts
        incident = self.store.by_thread(mention.asker.channel, thread_ts) if thread_ts else None
        if incident is None or thread_ts is None:
            view.mention_help(mention.asker, thread_ts or mention.ts)
        elif command.lower() == "status":
            view.status(incident, summarize(self.store, incident, self.clock.now()), thread_ts)
        elif command.lower() == "diagnose" and rest.strip() and not incident.is_open:
            view.resolved_here(incident, thread_ts, self._controls(incident))  # its one control: Reopen
        elif command.lower() == "diagnose" and rest.strip():
            guide = self.config.services[incident.service].guide
            result = self.matcher.match(redact(rest), guide=guide, service=incident.service)
            if result.best is not None:
                self.run_playbook(incident, result.best.playbook, mention.asker.user, view)
            else:
                view.no_match(incident, result, thread_ts)
        else:
            view.mention_help(mention.asker, thread_ts)

    # -- helpers ----------------------------------------------------------------------------------

    def _latest_verdict(self, incident: Incident) -> tuple[Status, str] | None:
        """The incident's worst open faults across its runs (bot.changes), for its root message."""
        return incident_verdict(self.store.timeline(incident.id), incident.symptom)

    def _run_offer(self, incident: Incident, playbook: Playbook) -> Offer:
        payload = {"incident": incident.id, "playbook": playbook.id}
        return self._offer(OfferKind.RUN_PLAYBOOK, playbook.title, payload, incident)

    def _offer(
        self,
        kind: OfferKind,
        label: str,
        payload: dict[str, Any],
        incident: Incident | None = None,
        style: Any = None,
    ) -> Offer:
        state = self.store.put_state(kind.value, payload, incident.id if incident else None)
        return Offer(kind, label, state, style)
