"""The import itself: a guide's Markdown to draft playbooks, the config snippet and what was skipped."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bot.importer.alert_rules import read_alert_rules
from bot.importer.draft import draft_entry, draft_triage
from bot.importer.guide import Guide, read_guide
from bot.importer.outcome import Draft
from bot.importer.placeholders import Context
from bot.importer.policy import Policyish, read_policy
from bot.importer.shellwords import parse_words, stages


@dataclass
class Imported:
    """Everything one import produced, before anything is written."""

    guide: str
    source: Guide
    drafts: list[Draft]
    policy: Policyish
    snippet: dict[str, Any] | None
    ctx: Context
    skipped: list[str] = field(default_factory=list)  # general sections not imported, and why


def import_guide(markdown: str, guide: str, ctx: Context, team: str | None = None) -> Imported:
    """Draft one playbook per issue entry plus `<guide>/triage`, and the config snippet."""
    source = read_guide(markdown)
    if ctx.namespace is None:
        ctx.namespace = _usual_namespace(source)
    policy = read_policy(source.general)
    alerts = read_alert_rules(c.text for c in source.code if c.lang in ("yaml", "yml", ""))
    drafts = [draft_entry(entry, guide, ctx, policy.notes, alerts) for entry in source.entries]
    triage = draft_triage(source.general, guide, ctx, policy.notes)
    if triage is not None:
        drafts.append(triage)
    skipped = [
        f"{g.heading} (line {g.line}): {g.kind} section, not a check"
        for g in source.general
        if g.kind == "other" and g.section.blocks
    ]
    return Imported(guide, source, drafts, policy, policy.snippet(team or guide), ctx, skipped)


def _usual_namespace(source: Guide) -> str | None:
    """The namespace most of the guide's kubectl commands name: taken as the service's when none is given."""
    counts: Counter[str] = Counter()
    for entry in source.entries:
        for step in entry.steps:
            for stage in stages(step.command or "") or []:
                if stage[:1] == ["kubectl"] and (
                    namespace := parse_words(stage[1:]).flag("-n", "--namespace")
                ):
                    counts[namespace] += 1
    return counts.most_common(1)[0][0] if counts else None
