"""What the importer made of a guide: one draft playbook per entry, what each command and guide step became."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Outcome:
    """What one guide step became, for the report."""

    part: str
    title: str
    command: str | None
    line: int
    became: list[str]  # "probe k8s.pods", "action k8s.scale", "manual"
    why: str
    warning: str | None = None


def suggested(became: str, title: str, words: str, line: int) -> Outcome:
    """The outcome of a probe or action the entry's words called for (no command of the guide gave it)."""
    return Outcome("suggested", title, None, line, [became], f"suggested by the words '{words}'")


@dataclass
class Draft:
    id: str
    section: str
    line: int
    data: dict[str, Any]
    outcomes: list[Outcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class Mapped:
    """What one command became: a probe or action with parameters, or a manual step, and why."""

    kind: str  # probe | action | manual
    name: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    why: str = ""
    approximate: bool = False  # the probe checks the same thing another way: keep the command too
    warning: str | None = None
