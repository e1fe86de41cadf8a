"""Every issue entry of the five guides is a playbook, faithfully: headings, symptoms, registry names."""

from __future__ import annotations

import re

import pytest
from guide_sections import entries, guide_names

from bot import registry
from bot.playbooks_loader import Catalog

EXPECTED_COUNTS = {
    "imgstream": 11,
    "ai-platform": 10,
    "tldr-highlight-api": 18,
    "convergence-data-pipeline": 12,
    "microservices-platform": 14,
}


def _plain(text: str) -> str:
    """Guide text without markdown emphasis, backticks and repeated spaces, for verbatim comparison."""
    return re.sub(r"\s+", " ", re.sub(r"[*`]", "", text)).strip().lower()


def test_the_guides_have_sixty_five_entries() -> None:
    assert {g: len(entries(g)) for g in guide_names()} == EXPECTED_COUNTS


@pytest.mark.parametrize("guide", sorted(EXPECTED_COUNTS))
def test_each_guide_heading_is_exactly_one_playbook_section(catalog: Catalog, guide: str) -> None:
    headings = sorted(e.heading for e in entries(guide))
    sections = sorted(p.source.section for p in catalog if p.guide == guide)
    assert sections == headings


@pytest.mark.parametrize("guide", sorted(EXPECTED_COUNTS))
def test_symptoms_are_the_guides_own_lines(catalog: Catalog, guide: str) -> None:
    bodies = {e.heading: _plain(e.body) for e in entries(guide)}
    for playbook in (p for p in catalog if p.guide == guide):
        body = bodies[playbook.source.section]
        missing = [s for s in playbook.symptoms if _plain(s) not in body]
        assert not missing, f"{playbook.id}: symptoms not in the guide entry: {missing}"


def test_every_probe_and_action_named_is_registered(catalog: Catalog) -> None:
    probes = {step.probe for p in catalog for step in p.probes}
    actions = {step.action for p in catalog for step in p.actions}
    assert probes <= set(registry.PROBES)
    assert actions <= set(registry.ACTIONS)


def test_playbooks_use_the_engine_not_only_manual_steps(catalog: Catalog) -> None:
    """Most entries have at least one automated probe; a guide's fixes become buttons where they can."""
    with_probes = [p.id for p in catalog if p.probes]
    with_actions = [p.id for p in catalog if p.actions]
    assert len(catalog) == 65
    assert len(with_probes) >= 55, sorted(set(p.id for p in catalog) - set(with_probes))
    assert len(with_actions) >= 25
