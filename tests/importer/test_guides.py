"""Importing the five bundled guides reproduces the hand-written playbooks' entries, symptoms and commands.

The probe/action agreement is measured as in benchmarks/importer.py (per entry, the names of probes and
actions, summed over a guide); the floors below are today's figures, so a change that loses mappings fails.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

from bot.importer.codeblocks import kind_of
from bot.importer.markdown import Block, Code, ListBlock, parse
from bot.importer.text import repair_mojibake
from bot.playbooks_loader import load_catalog

ROOT = Path(__file__).resolve().parents[2]
GUIDES = [
    "ai-platform",
    "convergence-data-pipeline",
    "imgstream",
    "microservices-platform",
    "tldr-highlight-api",
]
# recall, precision floors per guide (benchmarks/importer.py prints the current figures)
FLOORS = {
    "ai-platform": (0.95, 0.80),
    "convergence-data-pipeline": (0.95, 0.85),
    "imgstream": (0.95, 0.85),
    "microservices-platform": (0.90, 0.95),
    "tldr-highlight-api": (0.95, 0.95),
}


def _benchmark() -> ModuleType:
    spec = importlib.util.spec_from_file_location("importer_benchmark", ROOT / "benchmarks" / "importer.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


BENCH = _benchmark()


@pytest.fixture(scope="module", params=GUIDES)
def imported(request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    return request.param, BENCH.run_import(request.param)


def test_the_same_entries_as_the_hand_written_playbooks(imported) -> None:  # type: ignore[no-untyped-def]
    guide, result = imported
    hand = sorted(p.source.section for p in load_catalog(ROOT / "playbooks") if p.guide == guide)
    assert sorted(d.section for d in result.drafts if not d.id.endswith("/triage")) == hand
    assert any(d.id == f"{guide}/triage" for d in result.drafts)


def test_every_hand_written_symptom_line_is_imported(imported) -> None:  # type: ignore[no-untyped-def]
    guide, result = imported
    ours = {d.section: d.data["symptoms"] for d in result.drafts}
    for playbook in (p for p in load_catalog(ROOT / "playbooks") if p.guide == guide):
        assert ours[playbook.source.section] == playbook.symptoms, playbook.id


def test_every_command_of_an_entry_is_accounted_for(imported) -> None:  # type: ignore[no-untyped-def]
    _, result = imported
    for entry, draft in zip(result.source.entries, result.drafts, strict=False):
        accounted = " ".join(o.command or "" for o in draft.outcomes) + " ".join(
            entry.evidence + entry.symptoms
        )
        for line in _code_lines(result, entry.line):
            assert line in accounted, f"{draft.id}: {line!r} is neither a step nor shown as a symptom"


def _code_lines(result, line: int) -> list[str]:  # type: ignore[no-untyped-def]
    """The command lines (shell and SQL, comments left out) of the entry whose heading is on `line`."""
    text = (ROOT / "guides" / f"{result.guide}.md").read_text(encoding="utf-8")
    section = next(s for s in parse(repair_mojibake(text)[0]).walk() if s.line == line)
    lines = []
    for block in _code_blocks([b for s in section.walk() for b in s.blocks]):
        if kind_of(block.lang, block.text) in ("shell", "sql"):
            lines += [
                ln.strip()
                for ln in block.text.splitlines()
                if ln.strip() and not re.match(r"^(#|--)", ln.strip())
            ]
    return lines


def _code_blocks(blocks: list[Block]) -> list[Code]:
    found: list[Code] = []
    for block in blocks:
        if isinstance(block, Code):
            found.append(block)
        elif isinstance(block, ListBlock):
            found += _code_blocks([b for item in block.items for b in item.blocks])
    return found


@pytest.mark.parametrize("guide", GUIDES)
def test_probe_and_action_agreement_with_the_hand_written_playbooks(guide: str) -> None:
    agreement = BENCH.agreement(guide)
    recall, precision = FLOORS[guide]
    assert agreement.entries == len([p for p in load_catalog(ROOT / "playbooks") if p.guide == guide])
    assert agreement.recall >= recall, f"{guide}: recall {agreement.recall:.0%}"
    assert agreement.precision >= precision, f"{guide}: precision {agreement.precision:.0%}"
