"""Lint reports file, line and what is wrong; the loader refuses any invalid playbook."""

from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest

from bot.config import Config
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


ROOT = Path(__file__).resolve().parents[1]


def test_the_bundled_playbooks_lint_clean() -> None:
    count, problems = lint([ROOT / "playbooks"])
    assert count == 70, "65 guide entries and a triage per guide"
    assert problems == []


def test_every_bundled_step_can_run_with_the_example_config(example_config: Config) -> None:
    _, problems = lint([ROOT / "playbooks"], example_config, "config.example.yaml")
    assert [str(p) for p in problems] == []


# --- defects found by reading the playbooks beside their guides: each kind is a lint error ---


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (  # YAML cuts an unquoted `#incidents` into a comment: "Notify the team in the"
            "    - {sev: SEV-1, when: {probe: k8s.pods}, why: Nothing is serving.}\n",
            "    - {sev: SEV-1, when: {probe: k8s.pods}, why: Nothing is serving.}\n"
            "escalation:\n  - Notify the team in the #incidents Slack channel.\n",
            ":22: escalation.0: the text is cut at '#' (YAML reads 'Notify the team in the'): quote it",
        ),
        (  # fixes follow from findings: never offered unconditionally
            "    when: {probe: k8s.pods, status: [critical]}\n",
            "",
            ":14: remediations.0.action: a fix needs `when`: the findings that call for it",
        ),
        (  # ... and not from "any critical"
            "when: {probe: k8s.pods, status: [critical]}",
            "when: {status: [critical]}",
            ":16: remediations.0.when: a fix must follow from a named step or facts, not from any finding",
        ),
        (
            "when: {probe: k8s.pods, status: [critical]}",
            "when: {probe: k8s.pods, facts: [oom-kiled]}",
            "remediations.0.when.facts: unknown fact 'oom-kiled'; k8s.pods shows: crash-loop, no-pods, none-ready, not-ready, oom-killed",
        ),
        (  # a check that could not run proves nothing
            "when: {probe: k8s.pods}, why",
            "when: {probe: k8s.pods, status: [error]}, why",
            "severity.hints.0.when.status: 'error' means the check could not run, which proves nothing",
        ),
    ],
)
def test_lint_catches_the_kinds_of_defect_found_in_the_playbooks(
    tmp_path: Path, old: str, new: str, expected: str
) -> None:
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new))
    found = problems_of(path)
    assert any(expected in p for p in found), found


def test_a_comment_after_a_value_that_is_not_prose_is_fine(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("default: SEV-2", "default: SEV-2  # the guide's table"))
    assert problems_of(path) == []


def with_steps(steps: str) -> str:
    """GOOD with more diagnostics steps after its manual one."""
    return GOOD.replace("remediations:\n", steps + "remediations:\n")


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        (
            "  - probe: prometheus.query\n    params: {query: 'up{{metrics_selector}}', label: up}\n",
            "diagnostics.2: say where the query comes from: origin: guide (its metric names) or invented",
        ),
        (
            "  - probe: prometheus.query\n    origin: invented\n"
            "    params: {query: 'rate(http_requests_total{service=\"{service}\"}[5m])', label: rps}\n",
            "{service} is the catalogue's name, not a label value: use {metrics_selector}",
        ),
        (
            "  - probe: prometheus.query\n    origin: invented\n"
            "    params: {query: 'rate(x{{metrics_selector}, code=~\"5..\"}[5m])', label: errors}\n",
            "'code' is one service's status-code label: use {status_label}",
        ),
        (
            "  - probe: tcp.connect\n    params: {host: '{postgres_host}', port: 5432}\n",
            "diagnostics.2.params.port: the service's postgres port is configured: use {postgres_port}",
        ),
    ],
)
def test_queries_and_ports_come_from_the_services_config(tmp_path: Path, steps: str, expected: str) -> None:
    path = write(tmp_path, with_steps(steps))
    found = problems_of(path)
    assert any(expected in p for p in found), found


def test_a_condition_on_a_check_that_only_says_unreachable_is_refused(tmp_path: Path) -> None:
    steps = (
        "  - probe: tcp.connect\n    id: db\n    params: {host: '{postgres_host}', port: '{postgres_port}'}\n"
    )
    text = with_steps(steps).replace("when: {probe: k8s.pods}, why", "when: {probe: db}, why")
    found = problems_of(write(tmp_path, text))
    assert any("severity.hints.0.when.probe: tcp.connect shows no fault" in p for p in found), found


TRIAGE = GOOD.replace("id: demo/pods-crashing\n", "id: demo/triage\nkind: triage\n").replace(
    "signals:\n  patterns: ['Back-off restarting failed container']\n", ""
)


def test_a_triage_is_loaded_beside_the_issue_playbooks_and_never_matched(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    write(tmp_path, TRIAGE, "demo/triage.yaml")
    catalog = load_catalog(tmp_path)
    assert [p.id for p in catalog] == ["demo/pods-crashing"], "iterating (what matching ranks) leaves it out"
    assert catalog.triage("demo") is catalog.get("demo/triage")
    assert catalog.guides() == ["demo"]


@pytest.mark.parametrize(
    ("text", "name", "expected"),
    [
        (TRIAGE.replace("id: demo/triage", "id: demo/general"), "demo/general.yaml", "a triage playbook is 'demo/triage'"),
        (TRIAGE.replace("symptoms:", "signals: {phrases: [anything]}\nsymptoms:"), "demo/triage.yaml",
         "a triage playbook is never matched: no signals"),
        (GOOD.replace("demo/pods-crashing", "demo/triage"), "demo/triage.yaml", "set 'kind: triage'"),
    ],
)  # fmt: skip
def test_triage_playbooks_are_one_per_guide_and_have_no_signals(
    tmp_path: Path, text: str, name: str, expected: str
) -> None:
    found = problems_of(write(tmp_path, text, name))
    assert any(expected in p for p in found), found


def test_lint_with_a_config_reports_every_step_no_service_can_run(tmp_path: Path) -> None:
    steps = "  - probe: prometheus.query\n    origin: invented\n    params: {query: 'up{{metrics_selector}}', label: up}\n"
    path = write(tmp_path, with_steps(steps))
    config = Config.model_validate({
        "services": {"web": {"guide": "demo", "team": "t", "prometheus_url": "http://prometheus:9090"},
                     "db": {"guide": "demo", "team": "t"}},
        "teams": {"t": {"oncall": {"slack": "U0ONCALL"}}},
    })  # fmt: skip
    _, problems = lint([path], config, "chatops.yaml")
    found = [str(p) for p in problems]
    assert any(
        ":13: diagnostics.2: prometheus.query cannot run with chatops.yaml: "
        "db has no metrics.selector, prometheus_url; web has no metrics.selector" in p
        for p in found
    ), found
    assert any(
        "diagnostics.0: k8s.pods cannot run with chatops.yaml: db has no kubernetes" in p for p in found
    )
    assert any("remediations.0: k8s.rollout_undo cannot run" in p for p in found), "fixes too"
