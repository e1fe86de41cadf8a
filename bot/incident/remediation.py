"""Fixes that need a second person: a fix button asks for a change; its preview binds the request to the exact
change (target and version); someone else approves; it runs once, is verified, and everything is audited.

    request   preview the live object; nothing to do -> say so; else a pending request, shown with
              Approve / Deny and who may approve (the requester never may)
    approve   refused unless allowed (live group membership), not the requester, and not expired; the object is
              read again: changed since the preview -> refused, a fresh preview offered; else pending -> executing
              in one conditional write (of any number of clicks, processes or replicas, one wins), then
              execute (guarded by the previewed version), verify, and post each step
    deny      an approver, or the requester taking it back: pending -> denied
    sweep     (the reconciler) pending requests past their expiry -> expired; executing ones the bot was
              interrupted in -> interrupted, said in the thread: nothing half-done goes unreported

The bot never runs a fix on its own: only `approve` executes, and only for a person's click.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal, Protocol

from bot.actions.base import ActionContext, ActionSpec, Outcome, Preview, Verification
from bot.clock import Clock
from bot.config import Config
from bot.errors import ActionError, StaleTarget
from bot.incident.approvals import Approvers, Directory, approvers_for
from bot.incident.offers import Offer, OfferKind
from bot.incident.requests import Asker
from bot.incidents import ActionRequest, Incident, RequestState, TimelineKind
from bot.playbook import Playbook
from bot.probes.base import Clients
from bot.registry import ACTIONS
from bot.store import Store

# An execution still `executing` this long after it started was cut short (the bot stopped mid-way).
INTERRUPTED_AFTER = timedelta(minutes=20)
VERDICTS = {
    "verified": RequestState.SUCCEEDED,
    "timed_out": RequestState.TIMED_OUT,
    "failed": RequestState.FAILED,
}

Refusal = Literal["unknown_button", "no_request", "decided", "expired", "self_approval", "not_approver", "approval_recorded",
                  "already_requested", "cannot_preview", "not_deniable", "resolved"]  # fmt: skip
MakeOffer = Callable[[OfferKind, str, dict[str, Any], Incident, Any], Offer]


@dataclass(frozen=True)
class Note:
    """One step of a request, posted in the thread."""

    kind: Literal["running", "outcome", "verification", "failed", "stale", "not_needed", "approval"]
    text: str = ""  # the system's own words (an outcome, an API error) or what a preview said
    warnings: tuple[str, ...] = ()
    ok: bool | None = None  # for a verification: did the change take effect


class RemediationView(Protocol):
    def show_request(
        self, incident: Incident, request: ActionRequest, approvers: Approvers, approve: Offer, deny: Offer
    ) -> str:
        """Post the request with its preview and buttons; the message's ts (so its state can be redrawn)."""
        ...

    def request_changed(self, incident: Incident, request: ActionRequest) -> None:
        """Redraw the request's message for its new state (approved, denied, expired, done...)."""
        ...

    def request_note(self, incident: Incident, title: str, note: Note) -> None:
        """A step of the fix called `title`, posted in the thread."""
        ...

    def refuse(self, asker: Asker, why: Refusal, request: ActionRequest | None, detail: str = "") -> None:
        """Tell only this person why their click changed nothing."""
        ...


@dataclass
class Remediation:
    config: Config
    store: Store
    clients: Clients
    clock: Clock
    directory: Directory
    offer: MakeOffer

    def request(
        self, incident: Incident, playbook: Playbook, index: int, asker: Asker, view: RemediationView
    ) -> None:
        """A fix button: preview the change and ask for approval (once per button, while it is pending)."""
        step = playbook.actions[index]
        spec = ACTIONS[step.action]
        try:
            preview = self._preview(spec, step.typed_params, incident)
        except ActionError as error:
            self.store.append(incident.id, TimelineKind.ACTION_RESULT, f"{step.title}: cannot be previewed: {error}",
                              asker.user, {"action": step.action})  # fmt: skip
            view.refuse(asker, "cannot_preview", None, str(error))
            return
        if preview.no_op:
            self.store.append(incident.id, TimelineKind.ACTION_RESULT, f"{step.title}: not needed: {preview.no_op}",
                              asker.user, {"action": step.action})  # fmt: skip
            view.request_note(incident, step.title, Note("not_needed", preview.no_op))
            return
        self._create(incident, playbook.id, step.action, step.title, step.params, preview, asker.user, view)

    def approve(self, request_id: str, asker: Asker, view: RemediationView) -> None:
        request = self._pending(request_id, asker, view)
        if request is None:
            return
        incident = self.store.require(request.incident_id)
        if not incident.is_open:  # resolved while the request waited: nothing runs in a closed incident
            self.store.record_audit(
                incident.id, request.id, "approval_refused", asker.user, {"why": "resolved"}
            )
            view.refuse(asker, "resolved", request, incident.id)
            return
        approvers = approvers_for(self.config, incident.service, request.action)
        if asker.user == request.requested_by:
            self.store.record_audit(incident.id, request.id, "self_approval_refused", asker.user, {})
            view.refuse(asker, "self_approval", request)
            return
        if not approvers.allows(asker.user, self.directory):
            self.store.record_audit(
                incident.id, request.id, "approval_refused", asker.user, {"approvers": approvers.ids}
            )
            view.refuse(asker, "not_approver", request, ", ".join(approvers.ids))
            return
        spec = ACTIONS[request.action]
        params = spec.params.model_validate(request.params)
        approved = Preview.model_validate(request.preview)
        try:
            fresh = self._preview(spec, params, incident)
        except ActionError as error:
            self._finish(incident, request, RequestState.FAILED, asker, view, Note("failed", str(error)))
            return
        if fresh.target.version != approved.target.version or fresh.changes != approved.changes:
            self._refresh(incident, request, fresh, asker, view)
            return
        count, won = self.store.approve(request.id, asker.user)
        latest = self.store.get_request(request.id) or request
        if not won:
            if latest.state == RequestState.PENDING:  # more approvals needed
                view.request_note(incident, latest.title, Note("approval", f"{count} of {latest.needed}"))
                view.refuse(asker, "approval_recorded", latest, f"{count} of {latest.needed}")
            else:
                view.refuse(asker, "decided", latest)
            return
        self.store.append(incident.id, TimelineKind.ACTION_APPROVED, f"{request.title}: approved", asker.user,
                          {"request": request.id})  # fmt: skip
        self._run(incident, latest, spec, params, approved, asker, view)

    def deny(self, request_id: str, asker: Asker, view: RemediationView) -> None:
        request = self._pending(request_id, asker, view)
        if request is None:
            return
        incident = self.store.require(request.incident_id)
        approvers = approvers_for(self.config, incident.service, request.action)
        if asker.user != request.requested_by and not approvers.allows(asker.user, self.directory):
            view.refuse(asker, "not_deniable", request, ", ".join(approvers.ids))
            return
        if self.store.move_request(request.id, [RequestState.PENDING], RequestState.DENIED, asker.user):
            self.store.append(incident.id, TimelineKind.ACTION_DENIED, f"{request.title}: denied", asker.user,
                              {"request": request.id})  # fmt: skip
            view.request_changed(incident, self.store.get_request(request.id) or request)
        else:
            view.refuse(asker, "decided", self.store.get_request(request.id))

    def sweep(self, view: RemediationView) -> None:
        """Expire what waited too long; report what a stopped bot left half-done."""
        now = self.clock.now()
        for request in self.store.requests_by_state(RequestState.PENDING):
            if request.expires_at <= now and self.store.expire_request(request.id):
                view.request_changed(
                    self.store.require(request.incident_id), replace(request, state=RequestState.EXPIRED)
                )
        for request in self.store.requests_by_state(RequestState.EXECUTING):
            started = self.store.audit(request.incident_id)
            ran = [
                e.at
                for e in started
                if e.request_id == request.id and e.event == RequestState.EXECUTING.value
            ]
            if ran and now - ran[-1] > INTERRUPTED_AFTER and self.store.move_request(
                request.id, [RequestState.EXECUTING], RequestState.INTERRUPTED, None,
                {"why": "the bot stopped while the fix ran"},
            ):  # fmt: skip
                incident = self.store.require(request.incident_id)
                latest = self.store.get_request(request.id) or request
                view.request_changed(incident, latest)
                view.request_note(incident, latest.title, Note("failed", "the bot stopped while this fix ran: check the "
                                                                   "target before trying again"))  # fmt: skip

    # -- steps ------------------------------------------------------------------------------------

    def _run(
        self,
        incident: Incident,
        request: ActionRequest,
        spec: ActionSpec,
        params: Any,
        approved: Preview,
        asker: Asker,
        view: RemediationView,
    ) -> None:
        assert spec.execute is not None and spec.verify is not None, f"{spec.name} has no execute/verify"
        view.request_changed(incident, request)
        view.request_note(incident, request.title, Note("running"))
        ctx = self._context(incident)
        try:
            outcome = spec.execute(ctx, params, approved)
        except StaleTarget as error:
            self.store.move_request(
                request.id, [RequestState.EXECUTING], RequestState.STALE, None, {"why": str(error)}
            )
            view.request_note(incident, request.title, Note("stale", str(error)))
            self._offer_fresh(incident, request, spec, params, view)
            return
        except ActionError as error:
            self._finish(incident, request, RequestState.FAILED, asker, view, Note("failed", str(error)),
                         outcome={"error": str(error)}, current=RequestState.EXECUTING)  # fmt: skip
            return
        except Exception:  # a bug of ours: the request must still end, and say so, before the error id
            self._finish(incident, request, RequestState.FAILED, asker, view,
                         Note("failed", "the bot failed while running it: see the logs"),
                         current=RequestState.EXECUTING)  # fmt: skip
            raise
        view.request_note(incident, request.title, Note("outcome", outcome.summary, tuple(outcome.warnings)))
        verification = self._verify(spec, ctx, params, approved, outcome)
        self._finish(incident, request, VERDICTS[verification.status], asker, view,
                     Note("verification", verification.summary, ok=verification.status == "verified"),
                     outcome=outcome.model_dump(mode="json"),
                     verification=verification.model_dump(mode="json"), current=RequestState.EXECUTING)  # fmt: skip

    def _verify(
        self, spec: ActionSpec, ctx: ActionContext, params: Any, approved: Preview, outcome: Outcome
    ) -> Verification:
        assert spec.verify is not None
        try:
            return spec.verify(ctx, params, approved, outcome, spec.verify_timeout_s)
        except ActionError as error:
            return Verification(status="failed", summary=f"could not verify: {error}")

    def _finish(
        self,
        incident: Incident,
        request: ActionRequest,
        state: RequestState,
        asker: Asker,
        view: RemediationView,
        note: Note,
        outcome: dict[str, Any] | None = None,
        verification: dict[str, Any] | None = None,
        current: RequestState = RequestState.PENDING,
    ) -> None:
        moved = self.store.move_request(request.id, [current], state, None, {"note": note.text}, outcome or {"summary": note.text},
                                        verification)  # fmt: skip
        latest = self.store.get_request(request.id) or request
        self.store.append(incident.id, TimelineKind.ACTION_RESULT, f"{request.title}: {state.value}: {note.text}",
                          asker.user, {"request": request.id, "state": state.value})  # fmt: skip
        if moved:
            view.request_note(incident, latest.title, note)
            view.request_changed(incident, latest)

    def _refresh(
        self, incident: Incident, request: ActionRequest, fresh: Preview, asker: Asker, view: RemediationView
    ) -> None:
        """The object changed since the preview: this request is refused, and a fresh one is offered."""
        was = Preview.model_validate(request.preview).target.version
        if not self.store.move_request(request.id, [RequestState.PENDING], RequestState.STALE, asker.user,
                                       {"was": was, "now": fresh.target.version}):  # fmt: skip
            view.refuse(asker, "decided", self.store.get_request(request.id))
            return
        latest = self.store.get_request(request.id) or request
        view.request_changed(incident, latest)
        view.request_note(incident, latest.title, Note("stale", f"{fresh.target} changed since the preview "
                                                          f"({was} -> {fresh.target.version})"))  # fmt: skip
        self._create(incident, request.playbook_id, request.action, request.title, request.params, fresh,
                     request.requested_by, view)  # fmt: skip

    def _offer_fresh(
        self, incident: Incident, request: ActionRequest, spec: ActionSpec, params: Any, view: RemediationView
    ) -> None:
        try:
            fresh = self._preview(spec, params, incident)
        except ActionError:
            return
        if not fresh.no_op:
            self._create(incident, request.playbook_id, request.action, request.title, request.params, fresh,
                         request.requested_by, view)  # fmt: skip

    def _create(
        self,
        incident: Incident,
        playbook_id: str,
        action: str,
        title: str,
        params: dict[str, Any],
        preview: Preview,
        requested_by: str,
        view: RemediationView,
    ) -> None:
        approvers = approvers_for(self.config, incident.service, action)
        expires = self.clock.now() + self.config.policy.approval_expiry
        request = self.store.create_request(incident.id, playbook_id, action, title, params,
                                            preview.model_dump(mode="json"), requested_by, expires, approvers.needed)  # fmt: skip
        self.store.append(incident.id, TimelineKind.ACTION_REQUESTED, f"{title}: requested", requested_by,
                          {"request": request.id, "action": action, "changes": [str(c) for c in preview.changes]})  # fmt: skip
        payload = {"request": request.id}
        approve = self.offer(OfferKind.APPROVE_ACTION, title, payload, incident, "primary")
        deny = self.offer(OfferKind.DENY_ACTION, title, payload, incident, "danger")
        self.store.set_request_message(
            request.id, view.show_request(incident, request, approvers, approve, deny)
        )

    def _pending(self, request_id: str, asker: Asker, view: RemediationView) -> ActionRequest | None:
        """The request a click is about, if it can still be decided; otherwise the person is told why not."""
        request = self.store.get_request(request_id)
        if request is None:
            view.refuse(asker, "no_request", None)
            return None
        if request.state != RequestState.PENDING:
            view.refuse(asker, "decided", request)
            return None
        if request.expires_at <= self.clock.now():
            if self.store.expire_request(request.id):
                view.request_changed(
                    self.store.require(request.incident_id), replace(request, state=RequestState.EXPIRED)
                )
            view.refuse(asker, "expired", request)
            return None
        return request

    def _preview(self, spec: ActionSpec, params: Any, incident: Incident) -> Preview:
        assert spec.preview is not None, f"{spec.name} has no preview"
        return spec.preview(self._context(incident), params)

    def _context(self, incident: Incident) -> ActionContext:
        return ActionContext(
            incident.service, self.config.services[incident.service], self.clients, self.clock
        )
