"""Load and lint playbook files: strict models, registry-checked parameters, known placeholders, and the checks
of bot.playbook_lint (text cut by YAML, conditions on real facts, honest metrics, what a config cannot run)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot import catalogue_cache, playbook_lint, registry
from bot.config import Config
from bot.errors import PlaybookError, Problem, UnknownNameError
from bot.playbook import STEP_TAGS, ActionStep, ActionUndo, Condition, Playbook, ProbeStep
from bot.resources import bundled
from bot.templating import VARIABLES, unknown_placeholders
from bot.yamlfile import Loc, YamlDocument, read, validation_problems


def default_dir() -> Path:
    return bundled("playbooks")


def load_file(path: Path, root: Path | None = None) -> tuple[Playbook | None, list[Problem]]:
    """Validate one playbook file; with `root`, its id must also equal its path under root."""
    doc = read(path)
    if doc.problems or doc.data is None:
        return None, doc.problems or [doc.problem((), "the file is empty; expected a playbook mapping")]
    if not isinstance(doc.data, dict):
        return None, [doc.problem((), "expected a mapping of playbook keys at the top level")]
    try:
        playbook = Playbook.model_validate(doc.data)
    except ValidationError as err:
        return None, validation_problems(doc, err, model=Playbook, drop=STEP_TAGS)
    problems = _check_steps(doc, playbook) + _check_references(doc, playbook) + _check_placeholders(doc)
    if not problems:
        problems += playbook_lint.check(doc, playbook, path)
    if root is not None:
        expected = path.relative_to(root).with_suffix("").as_posix()
        if playbook.id != expected:
            problems.append(
                doc.problem(("id",), f"id '{playbook.id}' must equal the file's path '{expected}'")
            )
    return (None if problems else playbook), problems


def _check_steps(doc: YamlDocument, playbook: Playbook) -> list[Problem]:
    """Registry names and parameters; each step learns the playbook it comes from."""
    problems: list[Problem] = []
    steps: list[tuple[Loc, ProbeStep | ActionStep | ActionUndo]] = [
        (("diagnostics", i), s) for i, s in enumerate(playbook.diagnostics) if isinstance(s, ProbeStep)
    ] + [(("remediations", i), s) for i, s in enumerate(playbook.remediations) if isinstance(s, ActionStep)]
    steps += [
        (("remediations", i, "undo"), s.undo)
        for i, s in enumerate(playbook.remediations)
        if isinstance(s, ActionStep) and s.undo
    ]
    for index, action in enumerate(playbook.actions):
        action._source = (playbook.id, index)
    for loc, step in steps:
        kind, name = ("probe", step.probe) if isinstance(step, ProbeStep) else ("action", step.action)
        known = registry.PROBES if kind == "probe" else registry.ACTIONS
        spec = known.get(name)
        if spec is None:
            problems.append(doc.problem((*loc, kind), str(UnknownNameError(kind, name, list(known)))))
            continue
        try:
            step._typed = spec.params.model_validate(step.params)
        except ValidationError as err:
            problems += validation_problems(doc, err, prefix=(*loc, "params"), model=spec.params)
    return problems


def _check_references(doc: YamlDocument, playbook: Playbook) -> list[Problem]:
    """The id's guide matches the source; probe step ids are distinct; conditions name existing steps."""
    problems = []
    if playbook.id.split("/")[0] != playbook.guide:
        problems.append(
            doc.problem(("id",), f"id '{playbook.id}' must start with the guide '{playbook.guide}/'")
        )
    keys = [step.key for step in playbook.probes]
    for index, step in enumerate(playbook.diagnostics):
        if isinstance(step, ProbeStep) and keys.count(step.key) > 1:
            problems.append(
                doc.problem(("diagnostics", index), f"probe step id '{step.key}' is used twice; set 'id'")
            )
    conditions: list[tuple[Loc, Condition]] = [
        (("severity", "hints", i, "when", "probe"), h.when) for i, h in enumerate(playbook.severity.hints)
    ]
    for i, fix in enumerate(playbook.remediations):
        if isinstance(fix, ActionStep):
            listed = isinstance(fix.when, list)
            conditions += [
                (("remediations", i, "when", *((n,) if listed else ()), "probe"), c)
                for n, c in enumerate(fix.conditions)
            ]
    for loc, condition in conditions:
        if condition.probe and condition.probe not in keys:
            known = ", ".join(keys) or "none"
            problems.append(
                doc.problem(loc, f"no diagnostics step has the id '{condition.probe}' (ids: {known})")
            )
    return problems


def _check_placeholders(doc: YamlDocument) -> list[Problem]:
    problems = []
    for loc, text in _strings(doc.data, ()):
        for name in unknown_placeholders(text):
            close = difflib.get_close_matches(name, VARIABLES, n=1)
            hint = f"did you mean '{{{close[0]}}}'?" if close else f"known: {', '.join(sorted(VARIABLES))}"
            problems.append(doc.problem(loc, f"unknown placeholder '{{{name}}}'; {hint}"))
    return problems


def _strings(value: Any, loc: Loc) -> Iterator[tuple[Loc, str]]:
    if isinstance(value, str):
        yield loc, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*loc, index))


def files_under(paths: Iterable[Path]) -> list[Path]:
    """The YAML files named, or found under the folders named, in a stable order."""
    found: list[Path] = []
    for path in paths:
        found += sorted(path.rglob("*.yaml")) + sorted(path.rglob("*.yml")) if path.is_dir() else [path]
    return found


def lint(
    paths: Iterable[Path], config: Config | None = None, config_name: str = "the config"
) -> tuple[int, list[Problem]]:
    """Check playbook files (or folders of them); returns how many files were checked and the problems.

    With a config, also every step that config leaves unable to run (no service of the guide has the values).
    """
    files = files_under(paths)
    problems: list[Problem] = []
    seen: dict[str, Path] = {}
    for path in files:
        playbook, found = load_file(path)
        problems += found
        if playbook is not None:
            if playbook.id in seen:
                problems.append(
                    Problem(str(path), 1, "id", f"id '{playbook.id}' is also used by {seen[playbook.id]}")
                )
            seen.setdefault(playbook.id, path)
            if config is not None:
                problems += playbook_lint.unrunnable(read(path), playbook, config, config_name)
    return len(files), problems


class Catalog:
    """The loaded playbooks, by id, in a stable order: the issue playbooks (what matching ranks, what iterating
    gives) and each guide's triage (run with every incident, never matched)."""

    def __init__(self, playbooks: Iterable[Playbook]) -> None:
        ordered = sorted(playbooks, key=lambda p: p.id)
        self.by_id = {p.id: p for p in ordered if not p.is_triage}
        self.triages = {p.guide: p for p in ordered if p.is_triage}

    def __iter__(self) -> Iterator[Playbook]:
        return iter(self.by_id.values())

    def __len__(self) -> int:
        return len(self.by_id)

    def get(self, playbook_id: str) -> Playbook:
        """An issue playbook or a triage, by id."""
        found = self.by_id.get(playbook_id) or next(
            (t for t in self.triages.values() if t.id == playbook_id), None
        )
        if found is None:
            raise UnknownNameError(
                "playbook", playbook_id, [*self.by_id, *(t.id for t in self.triages.values())]
            )
        return found

    def triage(self, guide: str) -> Playbook | None:
        """The guide's triage playbook, if it has one."""
        return self.triages.get(guide)

    def guides(self) -> list[str]:
        return sorted({p.guide for p in self} | set(self.triages))


def load_catalog(root: Path | None = None, cache_dir: Path | None = None) -> Catalog:
    """Load every playbook under root (the bundled ones by default); any problem fails the whole load.

    With `cache_dir`, the validated playbooks are kept there and read back while neither the files nor the
    code have changed (bot.catalogue_cache)."""
    root = root or default_dir()
    if not root.exists():
        raise PlaybookError([Problem(str(root), None, "", "no such file or folder")])
    files = files_under([root])
    cache = catalogue_cache.path_for(cache_dir, root) if cache_dir is not None else None
    built_from = catalogue_cache.key(root, files) if cache is not None else ""
    if cache is not None and (cached := catalogue_cache.load(cache, built_from)) is not None:
        return Catalog(cached)
    playbooks, problems = [], []
    for path in files:
        playbook, found = load_file(path, root)
        problems += found
        if playbook is not None:
            playbooks.append(playbook)
    if not playbooks and not problems:
        problems.append(Problem(str(root), None, "", "no playbook files found"))
    if problems:
        raise PlaybookError(problems)
    if cache is not None:
        catalogue_cache.save(cache, built_from, playbooks)
    return Catalog(playbooks)
