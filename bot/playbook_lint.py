"""Checks of a valid playbook beyond its schema, each for a kind of defect found by reading the playbooks beside
their guides, so that kind cannot come back:

- guide text cut by YAML at `#` (an unquoted `#incidents` starts a comment);
- triage playbooks: one per guide, `<guide>/triage`, never matched (no signals);
- fixes offered with no condition, or on "any probe" without a fact; facts no probe shows;
- metric queries whose origin is not stated, that use the catalogue name `{service}` as a label value or
  hard-code the status-code label instead of the service's `metrics:` settings;
- TCP checks of the service's database or Redis on a hard-coded port instead of the configured one;
- and, with a config, every step that no service of the guide can run (`unrunnable`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from bot.config import Config
from bot.errors import Problem
from bot.faults import ALL_FACTS, FACTS
from bot.playbook import ActionStep, ActionUndo, Condition, Playbook, ProbeStep, Signals
from bot.templating import missing_values
from bot.yamlfile import Loc, YamlDocument

# What a probe or action family needs from the service beyond the placeholders of its parameters.
FAMILY_NEEDS = {
    "k8s": ["namespace"],
    "prometheus": ["prometheus_url"],
    "alertmanager": ["alertmanager_url"],
    "cloud_run": ["project", "region", "cloud_run_service"],
}
# Where in chatops.yaml a placeholder's value is set, where that is not its own name.
CONFIG_KEYS = {
    "metrics_selector": "metrics.selector", "status_label": "metrics.status_label",
    "namespace": "kubernetes", "deployment": "kubernetes", "selector": "kubernetes", "k8s_service": "kubernetes",
    "configmap": "kubernetes.configmap", "ingress": "kubernetes.ingress", "certificate": "kubernetes.certificate",
    "container": "kubernetes.container", "project": "cloud_run (or cloud_logging) project",
    "region": "cloud_run", "cloud_run_service": "cloud_run", "log_filter": "cloud_logging",
    "postgres_host": "postgres", "postgres_port": "postgres", "redis_host": "redis", "redis_port": "redis",
    "host": "health_url", "base_url": "health_url",
}  # fmt: skip
_STATUS_LABEL = re.compile(r"\b(code|status|status_code|http_status)\s*=~?\s*\"")
_HOST_PLACEHOLDER = re.compile(r"^\{(postgres|redis)_host\}$")


def check(doc: YamlDocument, playbook: Playbook, path: Path) -> list[Problem]:
    """Every check of this module for one playbook file."""
    return (
        _cut_text(doc)
        + _kind(doc, playbook, path)
        + _conditions(doc, playbook)
        + _metrics(doc, playbook)
        + _ports(doc, playbook)
    )


# --- text cut at '#' -------------------------------------------------------------------------------


# Keys holding the guide's prose, where no comment belongs after the text.
PROSE = frozenset({"title", "summary", "section", "symptoms", "escalation", "manual", "note", "why"})


def _cut_text(doc: YamlDocument) -> list[Problem]:
    """A plain (unquoted) scalar followed by a comment on its line: YAML cut the text where `#` began.

    Prose is never followed by a comment; elsewhere, `#word` (a channel, a tag) is text, `# note` a comment.
    """
    text = doc.path.read_text(encoding="utf-8")
    lines = text.splitlines()
    problems = []
    for loc, node in _scalars(yaml.compose(text, Loader=yaml.SafeLoader), ()):
        if node.style is not None or node.end_mark.line >= len(lines):
            continue
        rest = lines[node.end_mark.line][node.end_mark.column :]
        comment = rest.lstrip()
        prose = any(part in PROSE for part in loc if isinstance(part, str))
        if rest[:1].isspace() and comment.startswith("#") and (prose or comment[1:2].strip()):
            cut = f"{node.value} {rest.strip()}"
            problems.append(
                doc.problem(loc, f"the text is cut at '#' (YAML reads '{node.value}'): quote it: '{cut}'")
            )
    return problems


def _scalars(node: yaml.Node | None, loc: Loc) -> Iterator[tuple[Loc, yaml.ScalarNode]]:
    if isinstance(node, yaml.ScalarNode):
        yield loc, node
    elif isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _scalars(value, (*loc, key.value))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            yield from _scalars(item, (*loc, index))


# --- triage ----------------------------------------------------------------------------------------


def _kind(doc: YamlDocument, playbook: Playbook, path: Path) -> list[Problem]:
    problems = []
    if playbook.is_triage:
        if playbook.id != f"{playbook.guide}/triage":
            problems.append(doc.problem(("id",), f"a triage playbook is '{playbook.guide}/triage'"))
        if playbook.signals != Signals():
            problems.append(doc.problem(("signals",), "a triage playbook is never matched: no signals"))
    elif path.stem == "triage":
        problems.append(doc.problem(("kind",), "triage.yaml holds the guide's triage: set 'kind: triage'"))
    return problems


# --- conditions ------------------------------------------------------------------------------------


def _conditions(doc: YamlDocument, playbook: Playbook) -> list[Problem]:
    """Fixes follow from specific findings; every fact named is one its probe can show."""
    steps = {s.key: s for s in playbook.probes}
    problems = []
    for index, step in enumerate(playbook.remediations):
        if not isinstance(step, ActionStep):
            continue
        loc: Loc = ("remediations", index)
        if step.when is None:
            problems.append(
                doc.problem((*loc, "action"), "a fix needs `when`: the findings that call for it")
            )
        for n, condition in enumerate(step.conditions):
            where = (*loc, "when", *((n,) if isinstance(step.when, list) else ()))
            if condition.probe is None and not condition.facts:
                problems.append(
                    doc.problem(where, "a fix must follow from a named step or facts, not from any finding")
                )
            problems += _facts(doc, where, condition, steps)
    for index, hint in enumerate(playbook.severity.hints):
        problems += _facts(doc, ("severity", "hints", index, "when"), hint.when, steps)
    return problems


def _facts(doc: YamlDocument, loc: Loc, condition: Condition, steps: dict[str, ProbeStep]) -> list[Problem]:
    step = steps.get(condition.probe) if condition.probe else None
    known = FACTS.get(step.probe, frozenset()) if step else ALL_FACTS
    if step is not None and not known:  # e.g. tcp.connect: failing, it only says the bot could not reach it
        return [doc.problem((*loc, "probe"), f"{step.probe} shows no fault, only ok or could-not-check: "
                                             "nothing can rest on it")]  # fmt: skip
    problems = []
    for name, wanted, allowed in (("facts", condition.facts, known), ("unless", condition.unless, ALL_FACTS)):
        for fact in wanted:
            if fact not in allowed:
                shown = ", ".join(sorted(allowed)) or "none"
                whose = f"{step.probe} shows" if step and name == "facts" else "known facts"
                problems.append(doc.problem((*loc, name), f"unknown fact '{fact}'; {whose}: {shown}"))
    return problems


# --- metrics and ports -----------------------------------------------------------------------------


def _metrics(doc: YamlDocument, playbook: Playbook) -> list[Problem]:
    """Queries are per-service configuration, and say whether they are the guide's or ours."""
    problems = []
    for index, step in _probe_steps(playbook, "prometheus.query"):
        loc: Loc = ("diagnostics", index)
        raw = doc.data["diagnostics"][index]
        if "origin" not in raw:
            problems.append(
                doc.problem(
                    loc, "say where the query comes from: origin: guide (its metric names) or invented"
                )
            )
        query = str(step.params.get("query", ""))
        if "{service}" in query:
            problems.append(
                doc.problem((*loc, "params", "query"),
                            "{service} is the catalogue's name, not a label value: use {metrics_selector}")
            )  # fmt: skip
        found = _STATUS_LABEL.search(query)
        if found:
            problems.append(
                doc.problem((*loc, "params", "query"),
                            f"'{found.group(1)}' is one service's status-code label: use {{status_label}}")
            )  # fmt: skip
    return problems


def _ports(doc: YamlDocument, playbook: Playbook) -> list[Problem]:
    problems = []
    for index, step in _probe_steps(playbook, "tcp.connect"):
        host = _HOST_PLACEHOLDER.match(str(step.params.get("host", "")))
        wanted = f"{{{host.group(1)}_port}}" if host else None
        if wanted and str(step.params.get("port")) != wanted:
            problems.append(
                doc.problem(("diagnostics", index, "params", "port"),
                            f"the service's {host.group(1) if host else ''} port is configured: use {wanted}")
            )  # fmt: skip
    return problems


def _probe_steps(playbook: Playbook, probe: str) -> Iterator[tuple[int, ProbeStep]]:
    for index, step in enumerate(playbook.diagnostics):
        if isinstance(step, ProbeStep) and step.probe == probe:
            yield index, step


# --- what a config cannot run ----------------------------------------------------------------------


def unrunnable(doc: YamlDocument, playbook: Playbook, config: Config, config_name: str) -> list[Problem]:
    """Steps (probes, fixes and their ways back) that no service of the playbook's guide has the values for."""
    services = {
        name: s.variables(name) for name, s in sorted(config.services.items()) if s.guide == playbook.guide
    }
    if not services:
        return [
            doc.problem(
                ("source", "guide"), f"no service in {config_name} follows the guide '{playbook.guide}'"
            )
        ]
    problems = []
    for loc, name, params in _runnable_steps(playbook):
        needed = FAMILY_NEEDS.get(name.split(".")[0], [])
        missing = {
            service: sorted(set(missing_values(params, values)) | {n for n in needed if not values.get(n)})
            for service, values in services.items()
        }
        if all(missing.values()):
            why = "; ".join(
                f"{service} has no {', '.join(dict.fromkeys(CONFIG_KEYS.get(n, n) for n in names))}"
                for service, names in missing.items()
            )
            problems.append(doc.problem(loc, f"{name} cannot run with {config_name}: {why}"))
    return problems


def _runnable_steps(playbook: Playbook) -> Iterator[tuple[Loc, str, Any]]:
    for index, step in enumerate(playbook.diagnostics):
        if isinstance(step, ProbeStep):
            yield ("diagnostics", index), step.probe, step.typed_params
    for index, fix in enumerate(playbook.remediations):
        if isinstance(fix, ActionStep):
            yield ("remediations", index), fix.action, fix.typed_params
            if isinstance(fix.undo, ActionUndo):
                yield ("remediations", index, "undo"), fix.undo.action, fix.undo.typed_params
