"""Block Kit for incident threads: one renderer from the engine's results, within Slack's limits.

Buttons carry only an opaque id of state kept in the store (`Stash`), never parameters we would trust.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from bot.findings import Diagnosis, Finding
from bot.incidents import Incident
from bot.matcher import MatchResult
from bot.playbook import Playbook
from bot.severity import Sev, Status
from bot.templating import render
from handlers import messages
from handlers.ids import ActionId, BlockId

Block = dict[str, Any]
Stash = Callable[[str, dict[str, Any]], str]  # (kind, payload) -> opaque id, e.g. Store.put_state

MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_BUTTON_TEXT = 75
MAX_ROOT_VERDICT = 300  # the channel shows the gist; the thread has the rest
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


def section(text: str, block_id: str | None = None) -> Block:
    block: Block = {"type": "section", "text": {"type": "mrkdwn", "text": clip(text)}}
    if block_id:
        block["block_id"] = block_id
    return block


def button(text: str, action_id: ActionId, value: str, style: str | None = None) -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": clip(text, MAX_BUTTON_TEXT), "emoji": True},
        "action_id": action_id.value,
        "value": value,
    }
    if style:
        element["style"] = style
    return element


def actions(block_id: BlockId, elements: list[Block]) -> Block:
    return {"type": "actions", "block_id": block_id.value, "elements": elements[:25]}


def context(text: str) -> Block:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text)}]}


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
    return [*kept, context(note)][:MAX_BLOCKS]


def incident_root(incident: Incident, verdict: tuple[Status, str] | None = None) -> list[Block]:
    """The channel message that names the incident, its SEV and the latest verdict (what someone scanning the
    channel needs); its thread holds everything else."""
    sev = f"  ·  *{incident.severity}*" if incident.severity else ""
    text = f":rotating_light: *{incident.id}*  ·  `{incident.service}`{sev}\n>{incident.symptom}"
    if verdict is not None:
        text += f"\n{STATUS_EMOJI[verdict[0]]} {clip(verdict[1], MAX_ROOT_VERDICT)}"
    return [section(text, BlockId.HEADER)]


def match_blocks(incident_id: str, result: MatchResult, stash: Stash) -> list[Block]:
    """The pick and why, with the runners-up as buttons; or, on abstention, the candidates as buttons."""
    if result.best is None:
        text = messages.closest(result.query) if result.matches else messages.nothing_fits(result.query)
        blocks = [section(text, BlockId.MATCH)]
        others = result.matches
    else:
        best = result.best
        why = "; ".join(best.why) or "best score"
        blocks = [
            section(
                f":book: Playbook *{best.playbook.title}* ({best.playbook.guide})\n_why: {why}_",
                BlockId.MATCH,
            )
        ]
        others = result.matches[1:]
    buttons = [
        button(f"Run {m.playbook.title} instead" if result.best else f"Run {m.playbook.title}", ActionId.RUN_PLAYBOOK,
               stash("run_playbook", {"incident": incident_id, "playbook": m.playbook.id}))
        for m in others
    ]  # fmt: skip
    if buttons:
        blocks.append(actions(BlockId.ALTERNATIVES, buttons))
    return blocks


def checklist(playbook: Playbook, findings: Mapping[str, Finding]) -> list[Block]:
    """The probes as a checklist that fills in: pending, then ok / warn / critical / error / skipped."""
    lines = []
    for step in playbook.probes:
        finding = findings.get(step.key)
        emoji = STATUS_EMOJI[finding.status if finding else None]
        title = step.title or step.probe
        lines.append(f"{emoji} *{title}*" + (f": {finding.summary}" if finding else ": running…"))
    return _sections("\n".join(lines), BlockId.CHECKLIST)


def verdict_blocks(
    diagnosis: Diagnosis, values: Mapping[str, str | None], incident_id: str, stash: Stash
) -> list[Block]:
    """Verdict, suggested SEV with buttons to set it, fixes as approval buttons, manual steps to copy."""
    reasons = "; ".join(diagnosis.sev_reasons)
    blocks = [
        section(f"*Verdict:* {diagnosis.verdict}", BlockId.VERDICT),
        section(f"*Suggested severity:* {diagnosis.suggested_sev} ({reasons})"),
        actions(BlockId.SEVERITY, [
            button(sev.value, ActionId.SET_SEVERITY, stash("set_severity", {"incident": incident_id, "sev": sev.value}),
                   "danger" if sev == diagnosis.suggested_sev and sev.rank <= 2 else None)
            for sev in Sev
        ]),
    ]  # fmt: skip
    if diagnosis.remediations:
        blocks.append(section("*Fixes that fit* (a second person must approve before anything runs):"))
        blocks.append(actions(BlockId.REMEDIATIONS, [
            button(step.title, ActionId.REQUEST_ACTION,
                   stash("request_action", {"incident": incident_id, "playbook": diagnosis.playbook.id, "action": i}))
            for i, step in enumerate(diagnosis.playbook.actions) if step in diagnosis.remediations
        ]))  # fmt: skip
    manual = diagnosis.playbook.manual_steps
    if manual:
        lines = ["*Manual steps*"]
        for step in manual:
            lines.append(f"• {step.manual}")
            if step.command:
                lines.append(f"```{render(step.command, values)}```")
            if step.note:
                lines.append(f"_{render(step.note, values)}_")
        blocks += _sections("\n".join(lines), BlockId.MANUAL)
    return blocks[:MAX_BLOCKS]


def _sections(text: str, block_id: BlockId) -> list[Block]:
    """Long text as several sections cut on line boundaries, each within the section limit."""
    chunks, current = [], ""
    for line in text.splitlines():
        if current and len(current) + len(line) + 1 > MAX_SECTION_TEXT:
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
    chunks.append(current)
    return [section(chunk, block_id.value if i == 0 else None) for i, chunk in enumerate(chunks)]
