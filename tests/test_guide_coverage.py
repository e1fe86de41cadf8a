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


# A guide command that a registered action performs: the playbook must offer that action as a button.
COMMAND_ACTIONS = {
    r"kubectl rollout undo": "k8s.rollout_undo",
    r"kubectl rollout restart": "k8s.rollout_restart",
    r"kubectl scale deployment": "k8s.scale",
    r"kubectl set resources": "k8s.set_resources",
    r"gcloud run services update-traffic": "cloud_run.traffic_rollback",
    r"gcloud run services update \S+.*?--memory": "cloud_run.update_resources",
}


@pytest.mark.parametrize("guide", sorted(EXPECTED_COUNTS))
def test_guide_commands_that_an_action_performs_become_approval_buttons(catalog: Catalog, guide: str) -> None:
    by_section = {p.source.section: p for p in catalog if p.guide == guide}
    for entry in entries(guide):
        offered = {step.action for step in by_section[entry.heading].actions}
        body = re.sub(r"\\\n\s*", " ", entry.body)  # join shell line continuations
        wanted = {action for command, action in COMMAND_ACTIONS.items() if re.search(command, body, re.S)}
        assert wanted <= offered, f"{guide}: {entry.heading}: missing {sorted(wanted - offered)}"


def test_most_entries_are_checked_by_probes_not_only_manual_steps(catalog: Catalog) -> None:
    without = sorted(p.id for p in catalog if not p.probes)
    assert len(catalog) == 65
    assert len(without) <= 10, without
