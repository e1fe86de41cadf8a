"""Lint reports file, line and what is wrong; the loader refuses any invalid playbook."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from bot.errors import PlaybookError
from bot.playbook import ProbeStep
from bot.playbooks_loader import lint, load_catalog
from bot.probes.kubernetes import PodsParams

GOOD = """\
id: demo/pods-crashing
title: Pods crashing
summary: Pods restart in a loop.
source: {guide: demo, section: Pods Crashing}
symptoms: [Pods restart in a loop]
signals:
  patterns: ['Back-off restarting failed container']
diagnostics:
  - probe: k8s.pods
    params: {warn_restarts: 5}
  - manual: Describe a pod
    command: kubectl describe pod -l {selector} -n {namespace}
remediations:
  - action: k8s.rollout_undo
    title: Roll back
    when: {probe: k8s.pods, status: [critical]}
severity:
  default: SEV-2
  hints:
    - {sev: SEV-1, when: {probe: k8s.pods}, why: Nothing is serving.}
"""


def write(root: Path, text: str, name: str = "demo/pods-crashing.yaml") -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dedent(text))
    return path


def problems_of(path: Path) -> list[str]:
    return [str(p) for p in lint([path])[1]]


def test_a_valid_playbook_loads_with_typed_parameters(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    catalog = load_catalog(tmp_path)
    step = catalog.get("demo/pods-crashing").diagnostics[0]
    assert isinstance(step, ProbeStep)
    assert step.typed_params == PodsParams(warn_restarts=5)
    assert problems_of(tmp_path) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            "probe: k8s.pods\n",
            "probe: k8s.podz\n",
            ":9: diagnostics.0.probe: unknown probe 'k8s.podz'; known: ",
        ),
        (
            "{warn_restarts: 5}",
            "{warn_restart: 5}",
            ":10: diagnostics.0.params.warn_restart: unknown key 'warn_restart'; did you mean 'warn_restarts'?",
        ),
        (
            "{warn_restarts: 5}",
            "{warn_restarts: lots}",
            ":10: diagnostics.0.params.warn_restarts: expected a valid integer",
        ),
        (
            "-n {namespace}",
            "-n {namespce}",
            ":12: diagnostics.1.command: unknown placeholder '{namespce}'; did you mean '{namespace}'?",
        ),
        (
            "['Back-off restarting failed container']",
            "['Back-off (restarting']",
            ":7: signals.patterns: invalid regular expression",
        ),
        (
            "default: SEV-2",
            "default: SEV-5",
            ":18: severity.default: expected 'SEV-1', 'SEV-2', 'SEV-3' or 'SEV-4'",
        ),
        (
            "title: Pods crashing\n",
            "title: Pods crashing\ntitel: typo\n",
            ":3: titel: unknown key 'titel'; did you mean 'title'?",
        ),
        ("summary: Pods restart in a loop.\n", "", ": summary: required key is missing"),
        (
            "  - manual: Describe a pod\n",
            "  - manul: Describe a pod\n",
            ":11: diagnostics.1: a step needs one of the keys 'probe' or 'manual'",
        ),
        (
            "when: {probe: k8s.pods, status: [critical]}",
            "when: {probe: pods, status: [critical]}",
            ":16: remediations.0.when.probe: no diagnostics step has the id 'pods' (ids: k8s.pods)",
        ),
        (
            "title: Roll back",
            "title: Roll back\n    params: {to_revision: 0}",
            ":16: remediations.0.params.to_revision: expected greater than or equal to 1",
        ),
        (
            "symptoms: [Pods restart in a loop]",
            "symptoms: [a]\nsymptoms: [b]",
            ":6: symptoms: key appears twice",
        ),
        ("diagnostics:\n", "diagnostics: [\n", "invalid YAML"),
    ],
)
def test_lint_names_file_line_and_what_is_wrong(tmp_path: Path, old: str, new: str, expected: str) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    found = problems_of(path)
    assert any(str(path) in p and expected in p for p in found), found


def test_the_id_must_match_the_file_path(tmp_path: Path) -> None:
    write(tmp_path, GOOD, name="demo/elsewhere.yaml")
    with pytest.raises(
        PlaybookError, match="id 'demo/pods-crashing' must equal the file's path 'demo/elsewhere'"
    ):
        load_catalog(tmp_path)


def test_one_bad_file_fails_the_whole_load_and_names_it(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    bad = write(
        tmp_path,
        GOOD.replace("pods-crashing", "other").replace("k8s.pods\n", "k8s.nope\n"),
        "demo/other.yaml",
    )
    with pytest.raises(PlaybookError) as caught:
        load_catalog(tmp_path)
    assert {p.file for p in caught.value.problems} == {str(bad)}


def test_duplicate_ids_across_files_are_reported(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    write(tmp_path, GOOD, name="demo/copy.yaml")
    found = problems_of(tmp_path)
    assert any("id 'demo/pods-crashing' is also used by" in p for p in found)


def test_the_bundled_playbooks_lint_clean() -> None:
    count, problems = lint([Path(__file__).resolve().parents[1] / "playbooks"])
    assert count == 65
    assert problems == []
