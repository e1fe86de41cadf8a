"""The guide's severity table and escalation path as a `policy`/`teams` config snippet, and escalation notes.

Severity levels come from a Markdown table or a list ("**SEV-1 (Critical)**: meaning" with "Response within
1 hour" underneath); escalation tiers from list items naming a role (on-call, team lead, engineering
manager, VP) and a time ("after 4 hours", "(15 minutes)"). The policy part is validated with the bot's
own config model before it is offered; team contacts are left for a person to fill in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from bot.config import Policy, default_severities
from bot.importer.guide import General
from bot.importer.markdown import Block, Item, ListBlock, Para, Table
from bot.importer.text import squash
from bot.severity import Sev

_SEV = re.compile(r"\bSEV[- ]?([1-4])\b", re.IGNORECASE)
_WITHIN = re.compile(r"(\d+)\s*(minute|min|hour|hr|day|h|m|d)s?\b", re.IGNORECASE)
_TIERS = [
    (re.compile(r"vp|vice president", re.I), "vp_engineering"),
    (re.compile(r"engineering manager|\bem\b", re.I), "engineering_manager"),
    (re.compile(r"team lead|tech lead|\blead\b", re.I), "team_lead"),
    (re.compile(r"on-?call", re.I), "oncall"),
]
_CHANNEL = re.compile(r"(#[a-z0-9][a-z0-9_-]+)")


@dataclass
class Policyish:
    """What the guide says about severities and escalation, and the notes for every playbook."""

    severities: dict[str, dict[str, Any]] = field(default_factory=dict)
    escalation: list[dict[str, str]] = field(default_factory=list)
    first_response: str | None = None
    channels: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    defaulted: list[str] = field(default_factory=list)  # levels the guide's table leaves out

    def snippet(self, team: str) -> dict[str, Any] | None:
        """The config snippet, or None when the guide has neither a severity table nor an escalation path."""
        if not (self.severities or self.escalation or self.channels):
            return None
        policy: dict[str, Any] = {}
        if self.first_response:
            policy["first_response_within"] = self.first_response
        if self.severities:
            policy["severities"] = dict(sorted(self.severities.items()))
        if self.escalation:
            policy["escalation"] = self.escalation
        out: dict[str, Any] = {}
        if policy:
            try:
                Policy.model_validate(policy)
                out["policy"] = policy
            except ValidationError as err:
                self.problems += [f"policy.{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()]
        contact = {"slack": "REPLACE_WITH_SLACK_ID"}
        out["teams"] = {team: {**({"channel": self.channels[0]} if self.channels else {}), "oncall": contact}}
        return out


def read_policy(sections: list[General]) -> Policyish:
    found = Policyish()
    for general in sections:
        blocks = general.section.blocks
        if general.kind == "severity" or any(_is_sev_table(b) for b in blocks):
            _severities(blocks, found)
        if general.kind in ("escalation", "contacts"):
            _escalation(blocks, found, general.kind)
    if found.severities:
        _complete(found)
    return found


def _complete(found: Policyish) -> None:
    """The config wants every level: one the guide's table leaves out keeps the default's."""
    defaults = default_severities()
    for sev in Sev:
        if sev.value not in found.severities:
            found.defaulted.append(sev.value)
            minutes = int(defaults[sev].respond_within.total_seconds() // 60)
            within = f"{minutes // 60}h" if minutes and not minutes % 60 else f"{minutes}m"
            found.severities[sev.value] = {**defaults[sev].model_dump(), "respond_within": within}


def _is_sev_table(block: Block) -> bool:
    return isinstance(block, Table) and any(_SEV.search(" ".join(row)) for row in block.rows)


def _duration(text: str) -> str | None:
    if m := _WITHIN.search(text):
        return f"{m.group(1)}{m.group(2)[0].lower()}"
    return "0m" if re.search(r"\bimmediate(ly)?\b", text, re.I) else None


def _level(sev: str, name: str, meaning: str, details: str) -> tuple[str, dict[str, Any]]:
    within = _duration(details) or _duration(meaning)
    # Paged when the guide says so; a guide silent on it keeps the default (SEV-1 pages on-call).
    page = (
        bool(re.search(r"wake|page|on-?call", details, re.I))
        or default_severities()[Sev(f"SEV-{sev}")].page_oncall
    )
    level = {"name": name or f"SEV-{sev}", "meaning": meaning or name, "respond_within": within or "24h"}
    return f"SEV-{sev}", {**level, "page_oncall": page}


def _severities(blocks: list[Block], found: Policyish) -> None:
    for block in blocks:
        if isinstance(block, Table):
            header = [h.lower() for h in block.header]
            for row in block.rows:
                cells = dict(zip(header, row, strict=False))
                text = " | ".join(row)
                if not (m := _SEV.search(text)):
                    continue
                meaning = next((v for k, v in cells.items() if re.search(r"mean|descr|impact|defin", k)), "")
                details = next((v for k, v in cells.items() if re.search(r"respon|time|action|sla", k)), text)
                name = re.sub(r"SEV[- ]?\d\s*", "", row[0], flags=re.I).strip(" ()-") or ""
                sev, level = _level(m.group(1), name, meaning, details)
                found.severities[sev] = level
        elif isinstance(block, ListBlock):
            for item in block.items:
                if m := _SEV.search(item.inline.text):
                    name = next((b for b in item.inline.bold), item.inline.text)
                    name = re.sub(r".*\((.+)\).*", r"\1", name) if "(" in name else ""
                    meaning = item.inline.text.partition(":")[2].strip()
                    details = " ".join(
                        i.inline.text for b in item.blocks if isinstance(b, ListBlock) for i in b.items
                    )
                    sev, level = _level(m.group(1), name, meaning, details)
                    found.severities[sev] = level


def _escalation(blocks: list[Block], found: Policyish, kind: str) -> None:
    items: list[Item] = [i for b in blocks if isinstance(b, ListBlock) for i in b.items]
    texts = [squash(i.inline.text) for i in items]
    texts += [
        squash(b.inline.text) for b in blocks if isinstance(b, Para) and not b.inline.text.endswith(":")
    ]
    for text in texts:
        found.channels += [c for c in _CHANNEL.findall(text) if c not in found.channels]
        # One step per clause: "Page on-call first; after 30 minutes escalate to the lead" is two.
        for clause in re.split(r";\s+|\.\s+(?=[A-Z])", text) if kind == "escalation" else ():
            tier = next((t for pattern, t in _TIERS if pattern.search(clause)), None)
            after = _duration(clause)
            if tier == "oncall" and after and not re.search(r"unresolved|after", clause, re.I):
                found.first_response, after = after, "0m"  # "on-call responds within 15 minutes"
            elif tier == "oncall" and after is None and re.search(r"\bfirst\b|\bpage\b", clause, re.I):
                after = "0m"  # "Page on-call first": at once
            if tier and after and all(step["tier"] != tier for step in found.escalation):
                found.escalation.append({"tier": tier, "after": after})
        found.notes.append(text)
