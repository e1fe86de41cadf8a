"""Block Kit for incidents: one pure renderer from the engine's results and the flows' offers, within Slack's limits.

Drawing creates nothing: every button carries the opaque state id its `Offer` came with. Several buttons of a
kind in one block get distinct action ids (`set_severity:0`, `set_severity:1`, ...: Slack requires an action_id
to be unique in its block), and the listeners match them by pattern. Everything foreign in mrkdwn is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.actions.base import Target
from bot.config import SevLevel
from bot.findings import Diagnosis, Finding
from bot.incident.offers import OfferKind
from bot.incident.summary import Summary, duration
from bot.incident.view import Offer
from bot.incidents import ActionRequest, Incident
from bot.matcher import MatchResult
from bot.playbook import Playbook
from bot.severity import Sev, Status
from bot.templating import render
from handlers import messages
from handlers.ids import ActionId, BlockId, CallbackId
from handlers.messages import escape

Block = dict[str, Any]

MAX_BLOCKS, MAX_VIEW_BLOCKS = 50, 100
MAX_SECTION_TEXT, MAX_BUTTON_TEXT, MAX_OPTION_TEXT = 3000, 75, 75
MAX_ELEMENTS = 25
MAX_ROOT_VERDICT = 300  # the channel shows the gist; the thread has the rest
MAX_HOME_INCIDENTS = 40
CONTROL_LABELS = {OfferKind.ACKNOWLEDGE: "Acknowledge", OfferKind.MITIGATE: "Mitigated", OfferKind.RESOLVE: "Resolve",
                  OfferKind.REOPEN: "Reopen"}  # fmt: skip
# The thread's words for the triage and verdict parts (kept beside the blocks that show them).
TRIAGE_HEADING = "_Triage: the guide's general checks, run with every incident_"
INVENTED = "_(our query and thresholds, not the guide's)_"
NO_SEV_SUGGESTED = "*Suggested severity:* none: no problem confirmed"
ESCALATION_HEADING = "*Escalation* (from the guide)"
STATUS_EMOJI = {
    None: ":hourglass_flowing_sand:",
    Status.OK: ":white_check_mark:",
    Status.WARN: ":warning:",
    Status.CRITICAL: ":red_circle:",
    Status.ERROR: ":x:",
    Status.SKIPPED: ":fast_forward:",
}


def clip(text: str, limit: int = MAX_SECTION_TEXT) -> str:
    """Text cut to Slack's limit with a visible marker (long evidence goes into a file, not here)."""
    return text if len(text) <= limit else text[: limit - 2] + " …"


def plain(text: str, limit: int = MAX_BUTTON_TEXT) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit), "emoji": True}


def section(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}
    if block_id:
        block["block_id"] = block_id
    return block


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text)}]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> Block:
    element: Block = {"type": "button", "text": plain(text), "action_id": action_id, "value": value}
    if style:
        element["style"] = style
    return element


def buttons(block_id: BlockId, offers: Sequence[Offer], label: Any = None) -> Block:
    """One actions block of offers, each with an action id unique in the block (`<kind>:<n>`)."""
    words = label or (lambda offer: offer.label)
    elements = [
        button(words(offer), ActionId(offer.kind.value).numbered(n), offer.state, offer.style)
        for n, offer in enumerate(offers[:MAX_ELEMENTS])
    ]
    return {"type": "actions", "block_id": block_id.value, "elements": elements}


def without_button(message_blocks: list[Block], value: str, note: str) -> list[Block]:
    """The message's blocks with the button carrying `value` taken out (and its row, if it was the last one),
    and `note` added below."""
    kept: list[Block] = []
    for block in message_blocks:
        if block.get("type") == "actions":
            elements = [e for e in block.get("elements", []) if e.get("value") != value]
            if not elements:
                continue
            block = {**block, "elements": elements}
        kept.append(block)
    return [*kept, context(note)][-MAX_BLOCKS:]


# -- the incident thread ----------------------------------------------------------------------------


def incident_root(
    incident: Incident,
    verdict: tuple[Status, str] | None = None,
    controls: Sequence[Offer] = (),
    levels: Mapping[Sev, SevLevel] | None = None,
) -> list[Block]:
    """The channel message that names the incident, its status, SEV (with what it means) and the latest
    verdict: what someone scanning the channel needs. Its buttons run it; its thread holds everything else."""
    level = levels.get(incident.severity) if levels and incident.severity else None
    sev = f"  ·  *{incident.severity}*" + (f" {level.name}" if level else "") if incident.severity else ""
    who = f"  ·  commander <@{incident.commander}>" if incident.commander else ""
    text = f":rotating_light: *{incident.id}*  ·  `{incident.service}`{sev}  ·  {incident.status.value}{who}"
    text += f"\n>{escape(incident.name)}"
    if verdict is not None:
        # Once resolved, what was found is history: a red circle would read as a live alarm to anyone scanning.
        mark = (
            STATUS_EMOJI[verdict[0]] if incident.is_open else ":white_check_mark: Resolved. Found while open:"
        )
        text += f"\n{mark} {escape(clip(verdict[1], MAX_ROOT_VERDICT))}"
    if level is not None:
        within = f"respond within {_age(level.respond_within)}" if level.respond_within else "respond at once"
        text += f"\n_{incident.severity}: {escape(level.meaning)}; {within}_"
    blocks = [section(text, BlockId.HEADER)]
    if incident.source_link:
        blocks.append(context(messages.source(incident.source_link)))
    buttons_ = [o for o in controls if o.kind != OfferKind.SET_SEVERITY]
    sevs = [o for o in controls if o.kind == OfferKind.SET_SEVERITY]
    elements = (
        buttons(BlockId.CONTROLS, buttons_, lambda o: CONTROL_LABELS[o.kind])["elements"] if buttons_ else []
    )
    for element, offer in zip(elements, buttons_, strict=True):
        if offer.kind in (OfferKind.RESOLVE, OfferKind.ACKNOWLEDGE):
            element["style"] = "primary" if offer.kind == OfferKind.ACKNOWLEDGE else "danger"
    if sevs:
        options = [{"text": plain(f"{o.label} {levels[Sev(o.label)].name}" if levels else o.label, MAX_OPTION_TEXT),
                    "value": o.state} for o in sevs]  # fmt: skip
        elements.append({"type": "static_select", "action_id": ActionId.SET_SEVERITY.numbered(len(elements)),
                         "placeholder": plain("Set SEV", 150), "options": options})  # fmt: skip
    if elements:
        blocks.append({"type": "actions", "block_id": BlockId.CONTROLS.value, "elements": elements})
    return blocks


def match_blocks(result: MatchResult, offers: Sequence[Offer], triage: bool = False) -> list[Block]:
    """The pick and why, with the runners-up as buttons; or, on abstention, the candidates as buttons (and, with
    `triage`, word that the guide's general checks run meanwhile)."""
    if result.best is None:
        said = messages.closest if offers else messages.nothing_fits
        text = said(result.query, result.not_incident) + (f"\n{messages.TRIAGE_ALONE}" if triage else "")
        blocks = [section(text, BlockId.MATCH)]
    else:
        best = result.best
        why = escape("; ".join(best.why) or "best score")
        title = f":book: Playbook *{best.playbook.title}* ({best.playbook.guide})\n_why: {why}_"
        blocks = [section(title, BlockId.MATCH)]
    if offers:
        instead = " instead" if result.best else ""
        blocks.append(buttons(BlockId.ALTERNATIVES, offers, lambda o: f"Run {o.label}{instead}"))
    return blocks


def checklist(playbook: Playbook, findings: Mapping[str, Finding]) -> list[Block]:
    """The probes as a checklist that fills in: pending, then ok / warn / critical / error / skipped; the
    guide's triage checks under their own heading, a check whose query is ours marked as such."""
    lines = []
    for step in playbook.probes:
        if playbook.from_triage(step) and TRIAGE_HEADING not in lines:
            lines.append(TRIAGE_HEADING)
        finding = findings.get(step.key)
        emoji = STATUS_EMOJI[finding.status if finding else None]
        title = f"*{step.title or step.probe}*" + (f" {INVENTED}" if step.origin == "invented" else "")
        lines.append(f"{emoji} {title}" + (f": {escape(said(finding))}" if finding else ": running…"))
    return _sections("\n".join(lines), BlockId.CHECKLIST)


def said(finding: Finding) -> str:
    """A finding's summary; one that could not run says so, whatever its reason says."""
    if finding.status == Status.ERROR and not finding.summary.startswith("could not"):
        return f"could not check: {finding.summary}"
    return finding.summary


def verdict_blocks(
    diagnosis: Diagnosis,
    values: Mapping[str, str | None],
    severities: Sequence[Offer],
    fixes: Sequence[Offer],
) -> list[Block]:
    """Verdict and what changed since the last run, suggested SEV with buttons to set it, fixes as approval
    buttons, manual steps to copy, and the guide's escalation notes with the service's values."""
    if diagnosis.changes is None:
        blocks = [section(f"*Verdict:* {escape(diagnosis.verdict)}", BlockId.VERDICT)]
    else:  # a re-run says what changed rather than everything again
        said = f"{diagnosis.headline}. {diagnosis.changes.text} ({diagnosis.tally})"
        blocks = [section(f"*Verdict:* {escape(said)}", BlockId.VERDICT)]
    if diagnosis.suggested_sev is None:
        blocks.append(section(NO_SEV_SUGGESTED))
    else:
        blocks.append(
            section(f"*Suggested severity:* {diagnosis.suggested_sev} ({escape(diagnosis.sev_reason)})")
        )
    blocks.append(buttons(BlockId.SEVERITY, severities))
    if fixes:
        blocks.append(section("*Fixes that fit* (a second person must approve before anything runs):"))
        blocks.append(buttons(BlockId.REMEDIATIONS, fixes))
        ways_back = [
            f"{escape(a.title)}: way back, {escape(a.undo.title)}" for a in diagnosis.remediations if a.undo
        ]
        if ways_back:
            blocks.append(context("\n".join(ways_back)))
    manual = diagnosis.playbook.manual_steps
    if manual:
        lines = ["*Manual steps*"]
        for step in manual:
            lines.append(f"• {escape(step.manual)}")
            if step.command:
                lines.append(f"```{escape(render(step.command, values))}```")
            if step.note:
                lines.append(f"_{escape(render(step.note, values))}_")
        blocks += _sections("\n".join(lines), BlockId.MANUAL)
    if diagnosis.playbook.escalation:
        notes = [f"• {escape(render(note, values))}" for note in diagnosis.playbook.escalation]
        blocks.append(section("\n".join([ESCALATION_HEADING, *notes])))
    return blocks[:MAX_BLOCKS]


def offer_blocks(text: str, offer: Offer) -> list[Block]:
    return [section(text), buttons(BlockId.ALTERNATIVES, [offer], lambda o: f"Run {o.label}")]


def reopen_blocks(text: str, reopen: Sequence[Offer]) -> list[Block]:
    return [section(text), buttons(BlockId.CONTROLS, reopen, lambda o: CONTROL_LABELS[o.kind])]


def service_guesses(text: str, offers: Sequence[Offer]) -> list[Block]:
    return [section(text), buttons(BlockId.SERVICES, offers, lambda o: f"Diagnose {o.label}")]


def _sections(text: str, block_id: BlockId) -> list[Block]:
    """Long text as several sections cut on line boundaries, each within the section limit."""
    chunks, current = [], ""
    for line in text.splitlines():
        line = clip(line)
        if current and len(current) + len(line) + 1 > MAX_SECTION_TEXT:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    chunks.append(current)
    return [
        section(chunk, f"{block_id.value}_{i}" if i else block_id.value) for i, chunk in enumerate(chunks)
    ]


# -- the modal and App Home -------------------------------------------------------------------------


def diagnose_modal(
    services: Sequence[str], metadata: str, symptom: str = "", service: str | None = None
) -> Block:
    """`/diagnose` with no text, or a shortcut on a message naming no service: the form that opens an incident."""
    service_select: Block = {
        "type": "static_select",
        "action_id": ActionId.MODAL_SERVICE.value,
        "placeholder": plain("Pick the service"),
        "options": [{"text": plain(name, MAX_OPTION_TEXT), "value": name} for name in services[:100]],
    }
    if service is not None and service in services:
        service_select["initial_option"] = {"text": plain(service, MAX_OPTION_TEXT), "value": service}
    symptom_input: Block = {"type": "plain_text_input", "action_id": ActionId.MODAL_SYMPTOM.value,
                            "multiline": True, "max_length": 3000}  # fmt: skip
    if symptom:
        symptom_input["initial_value"] = symptom[:3000]
    severity_select = {
        "type": "static_select",
        "action_id": ActionId.MODAL_SEVERITY.value,
        "placeholder": plain("Not yet"),
        "options": [{"text": plain(sev.value, MAX_OPTION_TEXT), "value": sev.value} for sev in Sev],
    }
    return {
        "type": "modal",
        "callback_id": CallbackId.DIAGNOSE_MODAL.value,
        "title": plain(messages.MODAL_TITLE, 24),
        "submit": plain(messages.MODAL_SUBMIT, 24),
        "close": plain(messages.MODAL_CLOSE, 24),
        "private_metadata": metadata[:3000],
        "blocks": [
            {"type": "input", "block_id": BlockId.MODAL_SERVICE.value, "label": plain(messages.MODAL_SERVICE),
             "element": service_select},
            {"type": "input", "block_id": BlockId.MODAL_SYMPTOM.value, "label": plain(messages.MODAL_SYMPTOM),
             "hint": plain(messages.MODAL_SYMPTOM_HINT, 2000), "element": symptom_input},
            {"type": "input", "block_id": BlockId.MODAL_SEVERITY.value, "label": plain(messages.MODAL_SEVERITY),
             "optional": True, "element": severity_select},
        ],
    }  # fmt: skip


def home_view(incidents: Sequence[Incident], now: datetime) -> Block:
    """The App Home tab: the open incidents, newest first, each linked to its thread."""
    blocks: list[Block] = [{"type": "header", "text": plain(messages.HOME_TITLE, 150)}]
    if not incidents:
        blocks.append(section(messages.HOME_NONE))
    shown = sorted(incidents, key=lambda i: i.created_at, reverse=True)[:MAX_HOME_INCIDENTS]
    for incident in shown:
        name = f"<{incident.permalink}|{incident.id}>" if incident.permalink else incident.id
        sev = incident.severity or "no SEV"
        age = _age(now - incident.created_at)
        text = f"*{name}*  ·  `{incident.service}`  ·  {sev}  ·  {incident.status}  ·  opened {age} ago\n>{escape(clip(incident.symptom, 200))}"
        blocks.append(section(text))
    if len(incidents) > len(shown):
        blocks.append(context(f"and {len(incidents) - len(shown)} more"))
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}


def _age(delta: Any) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 48 * 60:
        return f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "")
    return f"{minutes // 1440} days"


# -- fixes and their approval -------------------------------------------------------------------------


def _change_lines(preview: dict[str, Any]) -> str:
    target = preview.get("target") or {}
    where = str(Target.model_validate(target)) if target else "?"  # as the action names it
    changes = [
        f"• {escape(c['what'])}: {escape(c['before'])} → {escape(c['after'])}"
        for c in preview.get("changes", [])
    ]
    return (
        f"*Change* to `{escape(where)}` (version {escape(str(target.get('version', '?')))}):\n"
        + "\n".join(changes)
    )


def request_blocks(
    request: ActionRequest, approvers: Sequence[str], expires: str, approve: Offer | None, deny: Offer | None
) -> list[Block]:
    """A fix request: the exact change, who asked and who may approve; Approve (with Slack's confirmation
    dialog) and Deny while it waits, else what became of it."""
    preview = request.preview
    blocks = [
        section(
            f"{messages.request_title(request.seq, request.title)}\n{_change_lines(preview)}", BlockId.REQUEST
        )
    ]
    for warning in preview.get("warnings", [])[:5]:
        blocks.append(context(f":warning: {escape(warning)}"))
    if approve is not None and deny is not None:
        blocks.append(
            context(messages.request_asked(request.requested_by, approvers, request.needed, expires))
        )
        confirm = {
            "title": plain("Run this fix?", 100),
            "text": plain(f"{request.title}: it runs once, right away, and is verified.", 300),
            "confirm": plain("Approve and run", 30),
            "deny": plain("Cancel", 30),
            "style": "primary",
        }
        actions_block = buttons(
            BlockId.REQUEST_BUTTONS, [approve, deny], lambda o: "Approve" if o is approve else "Deny"
        )
        actions_block["elements"][0]["confirm"] = confirm
        blocks.append(actions_block)
    else:
        blocks.append(
            context(
                f"Asked by <@{request.requested_by}>. {messages.request_state(request.state, request.decided_by)}"
            )
        )
    return blocks


# -- the summary --------------------------------------------------------------------------------------


def summary_blocks(summary: Summary) -> list[Block]:
    """The incident summary, as posted on resolve or asked for with `/incident summary`."""
    incident = summary.incident
    lines = [f":memo: *Summary of {incident.id}*  ·  `{incident.service}`  ·  {incident.status.value}",
             f">{escape(incident.name)}"]  # fmt: skip
    if summary.milestones:
        lines.append("*When:* " + "; ".join(f"{m.name} {m.at:%H:%M UTC}" for m in summary.milestones))
    if summary.durations():
        lines.append("*How long:* " + "; ".join(f"{name} {duration(d)}" for name, d in summary.durations()))
    lines.append("*Severity:* " + ("; ".join(f"{sev} for {duration(d)}" + (f" (set by <@{who}>)" if who else "")
                                            for sev, d, who in summary.severities) or "none was set"))  # fmt: skip
    people = [p for p in summary.participants if p.startswith(("U", "W"))]
    if people:
        lines.append("*Who took part:* " + ", ".join(f"<@{p}>" for p in people))
    if summary.verdict:
        lines.append(f"*{summary.verdict_label}:* {escape(clip(summary.verdict, 500))}")
    lines += [f"• {escape(clip(f, 300))}" for f in summary.findings[:5]]
    if summary.pages or summary.escalations:
        lines.append("*Pages and escalations:* " + escape("; ".join(summary.pages + summary.escalations)))
    for action in summary.actions:
        approved = f", approved by <@{action.decided_by}>" if action.decided_by else ""
        lines.append(
            f"*Fix:* {escape(action.title)}: asked by <@{action.requested_by}>{approved}: {action.state.value}"
        )
    if summary.resolution:
        lines.append(f"*Resolution:* {escape(summary.resolution)}")
    if summary.follow_ups:
        lines.append("*Follow-ups:* " + escape("; ".join(summary.follow_ups)))
    return _sections("\n".join(lines), BlockId.SUMMARY)
