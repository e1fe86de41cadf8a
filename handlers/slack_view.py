"""The incident flows' view in Slack: Block Kit through the Web API, every outgoing text redacted on its way out.

Failures of Slack never lose a result: a message Slack refuses for its blocks is posted again as text, the
live checklist falls back to a new message when its last update fails, a failed root refresh or file upload
is logged (and the file's absence said), and `not_in_channel` reaches the person as what to do about it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.alerts import Alert
from bot.clock import SYSTEM_CLOCK, Clock
from bot.config import EscalationStep, SevLevel
from bot.errors import ChatOpsError
from bot.findings import Diagnosis, Finding
from bot.incident.approvals import Approvers
from bot.incident.commands_flow import Trouble
from bot.incident.remediation import Note, Refusal
from bot.incident.requests import Asker, ButtonClick
from bot.incident.summary import Summary, duration
from bot.incident.view import Offer, OfferKind, Thread
from bot.incidents import ActionRequest, Incident, IncidentStatus
from bot.matcher import MatchResult
from bot.metrics import metrics
from bot.playbook import Playbook
from bot.redaction import redact
from bot.severity import Sev, Status
from handlers import blocks, messages
from handlers.slack_web import UPDATE_INTERVAL_S, LiveMessage, slack_error

log = logging.getLogger("chatops")
BLOCK_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_blocks_too_long", "invalid_attachments"}


def clean(value: Any) -> Any:
    """Every string of an outgoing text or Block Kit payload, redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: clean(item) for key, item in value.items()}
    if isinstance(value, list):
        return [clean(item) for item in value]
    return value


class SlackChecklist:
    """The live checklist message of one playbook run."""

    def __init__(self, live: LiveMessage, playbook: Playbook) -> None:
        self.live, self.playbook = live, playbook

    def update(self, findings: Mapping[str, Finding]) -> None:
        self.live.update(messages.CHECKS_RUNNING, clean(blocks.checklist(self.playbook, findings)))

    def close(self, findings: Mapping[str, Finding]) -> None:
        try:
            self.live.close(messages.CHECKS_DONE, clean(blocks.checklist(self.playbook, findings)))
        except SlackApiError as error:  # the findings are in the timeline and the verdict follows
            log.error("the checklist of %s could not be shown: %s", self.playbook.id, slack_error(error))


class SlackView:
    def __init__(
        self,
        client: WebClient,
        clock: Clock = SYSTEM_CLOCK,
        interval: float = UPDATE_INTERVAL_S,
        levels: Mapping[Sev, SevLevel] | None = None,
    ) -> None:
        self.client, self.clock, self.interval = client, clock, interval
        self.levels = levels  # the policy's SEV table: what each level means, shown beside it

    # -- sending ----------------------------------------------------------------------------------

    def _post(
        self,
        channel: str,
        text: str,
        blocks_: list[dict[str, Any]] | None = None,
        thread_ts: str | None = None,
    ) -> Any:
        text, payload = clean(text), clean(blocks_) if blocks_ else None
        try:
            return self.client.chat_postMessage(
                channel=channel, thread_ts=thread_ts, text=text, blocks=payload
            )
        except SlackApiError as error:
            code = slack_error(error)
            if code == "not_in_channel":
                raise ChatOpsError(messages.INVITE_ME) from error
            if code not in BLOCK_ERRORS or not payload:
                raise
            # A bug of ours in the blocks must not swallow the message: the text carries the gist.
            log.error("Slack refused our blocks (%s): %s", code, error.response.get("response_metadata"))
            return self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=text)

    def _update(self, channel: str, ts: str, text: str, blocks_: list[dict[str, Any]]) -> None:
        try:
            self.client.chat_update(channel=channel, ts=ts, text=clean(text), blocks=clean(blocks_))
        except SlackApiError as error:  # the thread below still says everything
            log.warning("chat.update of %s failed: %s", ts, slack_error(error))

    def _thread(self, incident: Incident) -> str:
        assert incident.thread_ts is not None, "the incident's thread is posted first"
        return incident.thread_ts

    def tell(self, asker: Asker, text: str) -> None:
        self.client.chat_postEphemeral(channel=asker.channel, user=asker.user, text=clean(text))

    # -- diagnosing -------------------------------------------------------------------------------

    def open_thread(self, incident: Incident) -> Thread:
        root = self._post(
            incident.channel, messages.root_text(incident), blocks.incident_root(incident, levels=self.levels)
        )
        try:
            permalink = self.client.chat_getPermalink(channel=root["channel"], message_ts=root["ts"])[
                "permalink"
            ]
        except SlackApiError:
            permalink = None  # only App Home's links need it
        return Thread(root["ts"], permalink, root["channel"])

    def source_link(self, channel: str, ts: str) -> str | None:
        try:
            return str(self.client.chat_getPermalink(channel=channel, message_ts=ts)["permalink"])
        except SlackApiError as error:
            log.warning("no permalink for %s in %s: %s", ts, channel, slack_error(error))
            return None

    def show_match(
        self, incident: Incident, result: MatchResult, offers: Sequence[Offer], triage: bool = False
    ) -> None:
        self._post(incident.channel, messages.match_text(result), blocks.match_blocks(result, offers, triage),
                   self._thread(incident))  # fmt: skip

    def start_checklist(self, incident: Incident, playbook: Playbook) -> SlackChecklist:
        thread_ts = self._thread(incident)
        posted = self._post(
            incident.channel, messages.CHECKS_RUNNING, blocks.checklist(playbook, {}), thread_ts
        )
        live = LiveMessage(self.client, posted["channel"], posted["ts"], thread_ts, interval=self.interval)
        return SlackChecklist(live, playbook)

    def queued(self, incident: Incident, ahead: int) -> None:
        try:
            self._post(incident.channel, messages.queued(ahead), None, self._thread(incident))
        except SlackApiError as error:  # only a courtesy: the checks run when their turn comes all the same
            log.warning("could not say %s is queued: %s", incident.id, slack_error(error))

    def show_verdict(
        self,
        incident: Incident,
        diagnosis: Diagnosis,
        values: Mapping[str, str | None],
        severities: Sequence[Offer],
        fixes: Sequence[Offer],
    ) -> None:
        self._post(incident.channel, messages.escape(diagnosis.verdict),
                   blocks.verdict_blocks(diagnosis, values, severities, fixes), self._thread(incident))  # fmt: skip
        metrics().time_to_verdict.observe((self.clock.now() - incident.created_at).total_seconds())

    def attach_evidence(self, incident: Incident, name: str, title: str, text: str) -> None:
        try:
            self.client.files_upload_v2(channel=incident.channel, thread_ts=incident.thread_ts, content=redact(text),
                                        filename=name, title=redact(title), initial_comment=messages.EVIDENCE_ATTACHED)  # fmt: skip
        except SlackApiError as error:  # e.g. the app was installed without files:write
            self._post(incident.channel, messages.evidence_not_attached(slack_error(error)), None,
                       self._thread(incident))  # fmt: skip

    def refresh_root(
        self, incident: Incident, verdict: tuple[Status, str] | None, controls: Sequence[Offer]
    ) -> None:
        if incident.thread_ts:
            self._update(incident.channel, incident.thread_ts, messages.root_text(incident),
                         blocks.incident_root(incident, verdict, controls, self.levels))  # fmt: skip

    # -- the thread -------------------------------------------------------------------------------

    def severity_changed(self, incident: Incident, user: str | None, sev: Sev, was: Sev | None) -> None:
        self._say(incident, messages.severity_changed(user, sev, was))

    # -- running the incident ---------------------------------------------------------------------

    def _say(self, incident: Incident, text: str) -> None:
        """A line in the incident's thread."""
        self._post(incident.channel, text, None, self._thread(incident))

    def status_changed(self, incident: Incident, user: str | None, status: IncidentStatus, note: str) -> None:
        self._say(incident, messages.status_changed(user, status.value, note))

    def commander_set(self, incident: Incident, user: str, commander: str) -> None:
        self._say(incident, messages.commander_set(user, commander))

    def note_added(self, incident: Incident, user: str, text: str) -> None:
        self._say(incident, messages.note_added(user, text))

    def notify_tier(self, incident: Incident, tier: str, who: str, why: str, paged: bool) -> None:
        self._say(incident, messages.notify_tier(tier, who, why, paged))

    def escalated(
        self, incident: Incident, step: EscalationStep, who: str, contacts: list[str], paged: bool
    ) -> None:
        after = blocks._age(step.after)
        self._say(incident, messages.escalated(step.tier, who, after, step.when, contacts, paged))

    def page_refused(self, incident: Incident, tier: str, reason: str) -> None:
        self._say(incident, messages.page_refused(tier, reason))

    def show_summary(self, incident: Incident, summary: Summary) -> None:
        self._post(incident.channel, messages.escape(f"Summary of {incident.id}"), blocks.summary_blocks(summary),
                   self._thread(incident))  # fmt: skip

    def status_reply(self, asker: Asker, incident: Incident, summary: Summary) -> None:
        self.tell(asker, _status_text(incident, summary))

    def command_trouble(self, asker: Asker, why: Trouble, incidents: list[Incident], verb: str = "") -> None:
        status = incidents[0].status.value if incidents else ""
        self.tell(asker, messages.command_trouble(why, [i.id for i in incidents], verb, status))

    def alert_noted(self, incident: Incident, alert: Alert, what: str) -> None:
        self._say(incident, messages.alert_noted(alert.name, what, alert.title))

    def alert_unplaced(self, channel: str, alert: Alert) -> None:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(alert.labels.items()))
        self._post(channel, messages.alert_unplaced(alert.name, labels))

    def pressed(self, click: ButtonClick, kind: OfferKind, what: str) -> None:
        """The pressed button is replaced by who pressed it; ephemeral messages are replaced via response_url."""
        user = click.asker.user
        note = messages.picked(user, what) if kind == OfferKind.DIAGNOSE_SERVICE else messages.ran(user, what)
        if click.message_ts and click.message.get("blocks"):
            new = blocks.without_button(click.message["blocks"], click.state_id, note)
            self._update(click.asker.channel, click.message_ts, click.message.get("text", ""), new)
        elif click.response_url:
            try:
                WebhookClient(click.response_url).send(text=clean(note), replace_original=True)
            except Exception as error:
                log.warning("could not replace the ephemeral message: %s", error)

    def offer_playbook(self, incident: Incident, result: MatchResult, offer: Offer) -> None:
        assert result.best is not None
        text = messages.offer(result.best.playbook.title, result.best.why)
        self._post(incident.channel, text, blocks.offer_blocks(text, offer), self._thread(incident))

    def status(self, incident: Incident, summary: Summary, thread_ts: str) -> None:
        self._post(incident.channel, _status_text(incident, summary), None, thread_ts)

    def mention_help(self, asker: Asker, reply_ts: str) -> None:
        self._post(asker.channel, messages.MENTION_HELP, None, reply_ts)

    def no_match(self, incident: Incident, result: MatchResult, thread_ts: str) -> None:
        self._post(incident.channel, messages.match_text(result), None, thread_ts)

    def resolved_here(self, incident: Incident, thread_ts: str, reopen: Sequence[Offer]) -> None:
        text = messages.resolved_here(incident.id)
        self._post(incident.channel, text, blocks.reopen_blocks(text, reopen), thread_ts)

    def service_guesses(self, asker: Asker, symptom: str, offers: Sequence[Offer], typed: str | None) -> None:
        text = messages.which_service(typed)
        self.client.chat_postEphemeral(channel=asker.channel, user=asker.user, text=clean(text),
                                       blocks=clean(blocks.service_guesses(text, offers)))  # fmt: skip

    # -- fixes and their approval -----------------------------------------------------------------

    def show_request(
        self, incident: Incident, request: ActionRequest, approvers: Approvers, approve: Offer, deny: Offer
    ) -> str:
        drawn = blocks.request_blocks(request, approvers.ids, _clock_time(request.expires_at), approve, deny)
        posted = self._post(incident.channel, messages.escape(f"Fix request {request.seq}: {request.title}"), drawn,
                            self._thread(incident))  # fmt: skip
        return str(posted["ts"])

    def request_changed(self, incident: Incident, request: ActionRequest) -> None:
        if request.message_ts:
            drawn = blocks.request_blocks(request, (), "", None, None)
            self._update(incident.channel, request.message_ts, messages.escape(request.title), drawn)

    def request_note(self, incident: Incident, title: str, note: Note) -> None:
        text = messages.note(note.kind, title, note.text, note.ok)
        lines = [text, *(f":warning: {messages.escape(w)}" for w in note.warnings)]
        self._post(incident.channel, "\n".join(lines), None, self._thread(incident))

    def refuse(self, asker: Asker, why: Refusal, request: ActionRequest | None, detail: str = "") -> None:
        self.tell(asker, messages.refusal(why, request.seq if request else None, request.title if request else None,
                                          request.state.value if request else None,
                                          request.decided_by if request else None, detail))  # fmt: skip

    def home(self, user: str, incidents: Sequence[Incident]) -> None:
        self.client.views_publish(user_id=user, view=clean(blocks.home_view(incidents, self.clock.now())))


def _status_text(incident: Incident, summary: Summary) -> str:
    durations = "; ".join(f"{name} {duration(d)}" for name, d in summary.durations())
    return messages.incident_status(incident, summary.verdict, summary.verdict_label, durations)


def _clock_time(when: datetime) -> str:
    return when.strftime("%H:%M UTC")


class SlackDirectory:
    """User groups as Slack has them now (usergroups.users.list), asked at click time: someone removed from a
    group cannot approve any more."""

    def __init__(self, client: WebClient) -> None:
        self.client = client

    def members(self, group: str) -> set[str]:
        try:
            return set(self.client.usergroups_users_list(usergroup=group).get("users") or [])
        except SlackApiError as error:  # an unknown or deleted group lets nobody in
            log.warning("usergroups.users.list %s failed: %s", group, slack_error(error))
            return set()
