"""Every issue entry of the five guides is a playbook, faithfully: headings, symptoms, registry names."""

from __future__ import annotations

import re

import pytest
from guide_sections import GUIDES_DIR, clean_heading, entries, fix_mojibake, guide_names

from bot import registry, terminal
from bot.config import Config
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


# --- defects found by reading every playbook beside its guide --------------------------------------


def _parents(guide: str) -> dict[str, str]:
    """Each entry's enclosing section heading (e.g. "Performance Issues"), read from the guide."""
    lines = (GUIDES_DIR / f"{guide}.md").read_text(encoding="utf-8").splitlines()
    found, stack, in_code = {}, [], False
    for line in lines:
        in_code = not in_code if line.startswith("```") else in_code
        heading = re.match(r"^(#{1,6})\s+(.*)$", line) if not in_code else None
        if heading:
            level, text = len(heading.group(1)), clean_heading(fix_mojibake(heading.group(2)))
            stack = [(lvl, t) for lvl, t in stack if lvl < level]
            found[text] = " / ".join(t for _, t in stack)
            stack.append((level, text))
    return found


PERFORMANCE = re.compile(r"latency|slow|timeout|cpu|memory|performance", re.IGNORECASE)


@pytest.mark.parametrize("guide", sorted(EXPECTED_COUNTS))
def test_performance_issues_are_sev_2_as_the_guides_severity_table_says(catalog: Catalog, guide: str) -> None:
    parents = _parents(guide)
    slow = [
        p for p in catalog
        if p.guide == guide and (PERFORMANCE.search(p.source.section) or "Performance" in parents[p.source.section])
    ]  # fmt: skip
    assert slow, "every guide has performance entries"
    assert [p.id for p in slow if p.severity.default.rank > 2] == []


# A namespace-wide command of the guide: the probe that stands for it looks at the whole namespace.
NAMESPACE_WIDE = {
    r"kubectl get pods -n \S+ \| grep -v Running": "k8s.pods",
    r"kubectl get endpoints -n \S+\s*$": "k8s.endpoints",
}


@pytest.mark.parametrize("guide", sorted(EXPECTED_COUNTS))
def test_namespace_wide_commands_become_namespace_wide_checks(catalog: Catalog, guide: str) -> None:
    by_section = {p.source.section: p for p in catalog if p.guide == guide}
    for entry in entries(guide):
        for command, probe in NAMESPACE_WIDE.items():
            if re.search(command, entry.body, re.MULTILINE):
                steps = [s for s in by_section[entry.heading].probes if s.probe == probe]
                assert any(s.typed_params.model_dump().get("scope") == "namespace" for s in steps), (
                    f"{guide}: {entry.heading}: `{command}` needs {probe} with scope: namespace"
                )


CUT = re.compile(r"\b(the|a|an|in|to|of|for|with|and|or|at|on)$", re.IGNORECASE)


def test_no_guide_line_of_a_playbook_ends_mid_sentence(catalog: Catalog) -> None:
    every = [*catalog, *catalog.triages.values()]
    cut = [
        (p.id, line) for p in every for line in [*p.symptoms, *p.escalation] if CUT.search(line.rstrip(". "))
    ]
    assert cut == [], "a line cut short, e.g. by YAML at an unquoted '#'"


def test_escalation_lines_are_the_guides_own_words(catalog: Catalog) -> None:
    """The convergence guide's escalation steps, as the playbooks quote them (none cut at '#incidents')."""
    text = (GUIDES_DIR / "convergence-data-pipeline.md").read_text(encoding="utf-8")
    assert "Post in #incidents Slack channel" in text
    lines = {line for p in catalog if p.guide == "convergence-data-pipeline" for line in p.escalation}
    assert "Notify the team in the #incidents Slack channel." in lines


_PROMQL_WORDS = frozenset(
    [
        "sum",
        "rate",
        "max",
        "min",
        "avg",
        "count",
        "by",
        "without",
        "on",
        "ignoring",
        "le",
        "histogram_quantile",
        "deriv",
        "predict_linear",
        "last_over_time",
        "vector",
        "or",
        "and",
        "unless",
    ]
)


def test_a_query_said_to_come_from_the_guide_uses_only_the_guides_metrics(catalog: Catalog) -> None:
    every = [*catalog, *catalog.triages.values()]
    queries = [(p, s) for p in every for s in p.probes if s.probe == "prometheus.query"]
    assert queries and {s.origin for _, s in queries} == {"guide", "invented"}
    for p, step in (q for q in queries if q[1].origin == "guide"):
        guide_text = (GUIDES_DIR / f"{p.guide}.md").read_text(encoding="utf-8")
        query = re.sub(r"\{[^{}]*\}|\[[^\]]*\]", "", str(step.params["query"]))  # matchers, ranges
        names = {m for m in re.findall(r"[a-z_:][a-z0-9_:]*", query) if m not in _PROMQL_WORDS}
        metrics = {re.sub(r"_(bucket|count|sum)$", "", m) for m in names}  # a histogram's series
        assert metrics and all(m in guide_text for m in metrics), f"{p.id}: {step.key}: {metrics}"


def test_playbooks_show_marks_invented_checks_and_fills_the_escalation(
    catalog: Catalog, example_config: Config
) -> None:
    values = example_config.services["ms-api-gateway"].variables("ms-api-gateway")
    text = terminal.playbook_text(catalog.get("microservices-platform/service-crashes"), values)
    assert "kubectl rollout undo deployment/api-gateway -n microservices" in text, (
        "escalation with the values"
    )
    shown = terminal.playbook_text(catalog.get("microservices-platform/high-latency"), values)
    assert "[probe, invented: our query and thresholds, not the guide's]  prometheus.query" in shown
    assert (
        'query=histogram_quantile(0.95, sum(rate(http_request_duration_seconds_bucket{job="api-gateway", '
        in shown
    )
