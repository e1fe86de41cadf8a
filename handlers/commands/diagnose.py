"""`/diagnose [service] <symptom>`: ack at once (or an ephemeral hint), then open the incident thread and
fill it in live: the playbook and why, the checks as they finish, the verdict, SEV and fixes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack
from slack_sdk.errors import SlackApiError

from bot.errors import UnknownNameError
from bot.findings import Diagnosis, Finding
from bot.incidents import Incident
from bot.playbook import Playbook
from bot.reports import evidence_text
from bot.severity import Status
from handlers import blocks, messages
from handlers.deps import Deps
from handlers.routes import Route
from handlers.slack_web import LiveMessage

HELP_WORDS = {"", "help", "-h", "--help", "?"}


@dataclass(frozen=True)
class DiagnoseRequest:
    """A parsed /diagnose: the service (by name or alias) and the symptom text."""

    service: str
    symptom: str


def parse(text: str, deps: Deps) -> DiagnoseRequest | str:
    """The request, or the ephemeral hint to answer with (usage, or which services exist)."""
    text = (text or "").strip()
    if text.lower() in HELP_WORDS:  # empty too: the usage, with the services to pick from
        return messages.usage(sorted(deps.config.services))
    first, _, rest = text.partition(" ")
    name: str | None
    try:
        name, _ = deps.config.service(first)
        symptom = rest.strip()
    except UnknownNameError:  # the service may be named later in the text, or not at all
        name, symptom = deps.config.find_service_in(text), text
    if name is None:
        return messages.unknown_service(first, sorted(deps.config.services))
    if not symptom:
        return messages.usage(sorted(deps.config.services))
    return DiagnoseRequest(name, symptom)


def is_incident_channel(body: dict[str, Any], deps: Deps) -> bool:
    allowed = {c.lstrip("#") for c in deps.config.slack.incident_channels}
    return body.get("channel_name") in allowed or body.get("channel_id") in allowed


def handle_diagnose_command(ack: Ack, body: dict[str, Any], deps: Deps) -> None:
    """Answer within Slack's 3 s: a hint for bad input, otherwise an acknowledgement; the work runs lazily."""
    if not is_incident_channel(body, deps):
        ack(messages.use_incident_channels(deps.config.slack.incident_channels))
        return
    parsed = parse(body.get("text", ""), deps)
    ack(parsed if isinstance(parsed, str) else messages.opening(parsed.service))


def run_diagnose(deps: Deps, body: dict[str, Any]) -> None:
    """Open the incident thread and fill it in as the checks finish."""
    if not is_incident_channel(body, deps):
        return
    parsed = parse(body.get("text", ""), deps)
    if isinstance(parsed, str):
        return
    client, channel, user = deps.client, body["channel_id"], body["user_id"]
    service = deps.config.services[parsed.service]
    incident = deps.store.open_incident(parsed.service, parsed.symptom, channel, user)
    try:
        root = client.chat_postMessage(
            channel=channel, text=root_text(incident), blocks=blocks.incident_root(incident)
        )
    except SlackApiError as failure:  # no thread, no incident: don't leave one open that nobody can see
        deps.store.resolve(
            incident.id, by=user, note=f"never shown: Slack said {failure.response.get('error')}"
        )
        raise
    thread_ts = root["ts"]
    deps.store.set_thread(incident.id, thread_ts)
    # The stored symptom is redacted: someone may paste a log line with a token into /diagnose.
    result = deps.matcher.match(incident.symptom, guide=service.guide, service=parsed.service)
    match_blocks = blocks.match_blocks(incident.id, result, deps.store.put_state)
    client.chat_postMessage(
        channel=channel, thread_ts=thread_ts, text=messages.match_text(result), blocks=match_blocks
    )
    if result.best is not None:
        run_playbook(deps, incident.id, result.best.playbook)


def run_playbook(deps: Deps, incident_id: str, playbook: Playbook, actor: str | None = None) -> None:
    """Run a playbook's checks in the incident's thread: a live checklist, then verdict, SEV and fixes."""
    incident = deps.store.get(incident_id)
    if incident is None or incident.thread_ts is None:
        return
    client, channel, thread_ts = deps.client, incident.channel, incident.thread_ts
    service = deps.config.services[incident.service]
    deps.store.set_playbook(incident.id, playbook.id, actor)
    progress = client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=messages.CHECKS_RUNNING,
                                       blocks=blocks.checklist(playbook, {}))  # fmt: skip
    live = LiveMessage(client, channel, progress["ts"])
    done: dict[str, Finding] = {}

    def on_finding(finding: Finding) -> None:
        done[finding.step] = finding
        deps.store.append(incident.id, "finding", f"{finding.title}: {finding.status}: {finding.summary}")
        live.update(messages.CHECKS_RUNNING, blocks.checklist(playbook, done))

    diagnosis = deps.runner.run(playbook, incident.service, service, on_finding)
    live.close()
    values = service.variables(incident.service)
    deps.store.append(incident.id, "verdict", diagnosis.verdict, data={"worst": diagnosis.worst.value})
    client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=diagnosis.verdict,
                            blocks=blocks.verdict_blocks(diagnosis, values, incident.id, deps.store.put_state))  # fmt: skip
    attach_evidence(deps, incident, diagnosis)
    refresh_root(deps, incident.id)


def root_text(incident: Incident) -> str:
    return f"{incident.id} {incident.service}: {incident.symptom}"


def refresh_root(deps: Deps, incident_id: str) -> None:
    """Redraw the incident's channel message with its current SEV and latest verdict."""
    incident = deps.store.get(incident_id)
    if incident is None or incident.thread_ts is None:
        return
    verdicts = [e for e in deps.store.timeline(incident.id) if e.kind == "verdict"]
    verdict = (Status(verdicts[-1].data["worst"]), verdicts[-1].text) if verdicts else None
    deps.client.chat_update(channel=incident.channel, ts=incident.thread_ts, text=root_text(incident),
                            blocks=blocks.incident_root(incident, verdict))  # fmt: skip


def attach_evidence(deps: Deps, incident: Incident, diagnosis: Diagnosis) -> None:
    """The checks' full evidence as a file in the thread: the checklist keeps one line per check."""
    text = evidence_text(incident.id, incident.service, diagnosis)
    if not text:
        return
    name = f"{incident.id}-{diagnosis.playbook.id.replace('/', '-')}-evidence.txt"
    try:
        deps.client.files_upload_v2(channel=incident.channel, thread_ts=incident.thread_ts, content=text,
                                    filename=name, title=f"Evidence: {diagnosis.playbook.title}",
                                    initial_comment=messages.EVIDENCE_ATTACHED)  # fmt: skip
    except SlackApiError as failure:  # e.g. the app was installed without files:write
        deps.client.chat_postMessage(channel=incident.channel, thread_ts=incident.thread_ts,
                                     text=messages.evidence_not_attached(failure.response.get("error")))  # fmt: skip


def routes(deps: Deps) -> list[Route]:
    def on_diagnose(ack: Ack, body: dict[str, Any]) -> None:
        handle_diagnose_command(ack, body, deps)  # answers Slack at once
        deps.later(run_diagnose, body, tell=(body["channel_id"], body["user_id"]))

    return [Route("command", "/diagnose", on_diagnose)]
