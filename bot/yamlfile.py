"""Read YAML files with the line of every key, and turn validation errors into file/line/key problems."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError

from bot.errors import Problem

Loc = tuple[str | int, ...]
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # CSafeLoader exists when PyYAML was built on libyaml
_EXPECTED: dict[str, str] = {}  # a field's regex -> what a person should write there


def expected(pattern: str, words: str) -> str:
    """A field's regex, with what it means in words: a mismatch says "expected <words>", not the regex."""
    _EXPECTED[pattern] = words
    return pattern


class YamlDocument:
    """A parsed YAML file: its data and the line where each key path starts."""

    def __init__(self, path: Path, data: Any, lines: dict[Loc, int], problems: list[Problem]) -> None:
        self.path, self.data, self.lines, self.problems = path, data, lines, problems

    def line_of(self, loc: Iterable[str | int]) -> int | None:
        """Line of the deepest existing prefix of a key path."""
        loc = tuple(loc)
        for end in range(len(loc), -1, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None

    def problem(self, loc: Iterable[str | int], message: str) -> Problem:
        loc = tuple(loc)
        return Problem(str(self.path), self.line_of(loc), dotted(loc), message)


def dotted(loc: Iterable[str | int]) -> str:
    return ".".join(str(part) for part in loc)


def read(path: Path) -> YamlDocument:
    """Parse a YAML file safely; syntax errors and repeated keys come back as problems, not exceptions."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        return YamlDocument(path, None, {}, [Problem(str(path), None, "", f"cannot read file: {err}")])
    try:
        node, data = _parse(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(err, "problem", None) or str(err)
        return YamlDocument(path, None, {}, [Problem(str(path), line, "", f"invalid YAML: {reason}")])
    lines: dict[Loc, int] = {(): 1}
    problems: list[Problem] = []
    if node is not None:
        _walk(node, (), lines, problems, str(path))
    return YamlDocument(path, data, lines, problems)


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """Parse once: the node tree (its marks give every key's line) and the data built from that same tree.
    libyaml's parser where PyYAML has it (about 15x faster than the pure-Python one), with the safe constructor."""
    loader = LOADER(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _walk(node: yaml.Node, loc: Loc, lines: dict[Loc, int], problems: list[Problem], file: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value
            child = (*loc, key)
            if key in seen:
                problems.append(
                    Problem(file, key_node.start_mark.line + 1, dotted(child), "key appears twice")
                )
            seen.add(key)
            lines[child] = key_node.start_mark.line + 1
            _walk(value_node, child, lines, problems, file)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            lines[(*loc, index)] = item.start_mark.line + 1
            _walk(item, (*loc, index), lines, problems, file)


def validation_problems(
    doc: YamlDocument,
    err: ValidationError,
    prefix: Loc = (),
    model: type[BaseModel] | None = None,
    drop: frozenset[str] = frozenset(),
) -> list[Problem]:
    """One problem per pydantic error, with the file's line, the key path and what was expected.

    `drop` names parts of error locations that are pydantic's own (union tags), not keys of the file.
    `model` lists the allowed keys when an unknown key is found at the top of that model.
    """
    problems = []
    for error in err.errors():
        loc = prefix + tuple(p for p in error["loc"] if p not in drop)
        if loc[-1:] == ("[key]",):  # pydantic's mark for a bad key of a mapping: the key's own path says it
            loc = loc[:-1]
        problems.append(doc.problem(loc, _explain(error, model)))
    return problems


def _model_at(annotation: Any, loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model reached by following `loc` through fields, dict values, list items and unions."""
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return None
            annotation = field.annotation
        elif get_origin(annotation) in (dict, list):
            annotation = get_args(annotation)[-1]
        else:
            return None
    annotation = _unwrap(annotation)
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    """Strip Annotated[...] and `X | None` down to the type that holds keys."""
    while get_origin(annotation) is not None and get_origin(annotation) not in (dict, list):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if not args:
            break
        annotation = args[0]
    return annotation


def _explain(error: Any, model: type[BaseModel] | None) -> str:
    kind, got = error["type"], error.get("input")
    if kind == "extra_forbidden":
        key = str(error["loc"][-1])
        holder = _model_at(model, tuple(error["loc"][:-1])) if model else None
        if holder is not None:
            allowed = sorted(holder.model_fields)
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            return f"unknown key '{key}'{hint} (allowed: {', '.join(allowed) or 'none'})"
        return f"unknown key '{key}'"
    if kind == "missing":
        return "required key is missing"
    if kind == "string_pattern_mismatch" and error["ctx"]["pattern"] in _EXPECTED:
        return f"expected {_EXPECTED[error['ctx']['pattern']]} (got {got!r})"
    message = str(error["msg"]).removeprefix("Value error, ")
    message = message.replace("Input should be", "expected")
    if kind not in {"value_error", "assertion_error"} and not isinstance(got, dict | list):
        message += f" (got {got!r})"
    return message
