"""What the importer made of a guide: one draft playbook per entry, and what each guide step became."""

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


@dataclass
class Draft:
    id: str
    section: str
    line: int
    data: dict[str, Any]
    outcomes: list[Outcome] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
