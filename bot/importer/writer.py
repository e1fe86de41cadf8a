"""Write drafts as YAML files that remember what was generated, so a re-import never loses a hand edit.

Every generated file starts with a header whose last line is `# chatops-import: sha256=<hash of the body>`.
On the next import, a file whose body still has that hash is ours and is replaced (a unified diff shows the
change); a file whose body no longer matches, or that has no header (written by hand), is left alone and the
new draft goes beside it as `<slug>.yaml.new`, which lint and the loader ignore (they read *.yaml only).
"""

from __future__ import annotations

import difflib
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MARK = "# chatops-import: sha256="
_HASH = re.compile(r"^# chatops-import: sha256=([0-9a-f]{64})$", re.MULTILINE)


class _Dumper(yaml.SafeDumper):
    """Block style; multi-line strings (commands) as literal blocks so they stay copyable."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=110, indent=2)


def digest(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def render(data: dict[str, Any], header: list[str]) -> str:
    """The file's text: header comments, the hash of the body, then the body."""
    body = to_yaml(data)
    lines = [f"# {line}" if line else "#" for line in header]
    return "\n".join([*lines, f"{MARK}{digest(body)}", body])


def split_header(text: str) -> tuple[str | None, str]:
    """(recorded hash, body) of a file; (None, text) for a file without our header."""
    match = _HASH.search(text)
    if match is None:
        return None, text
    return match.group(1), text[match.end() + 1 :]


@dataclass
class Written:
    """What happened to one file: created, updated, unchanged or conflict (and where the draft went)."""

    path: Path
    status: str  # created | updated | unchanged | conflict
    diff: str
    draft_path: Path | None = None
    why: str = ""


def plan(path: Path, text: str) -> Written:
    """Decide what writing `text` to `path` means, without writing anything."""
    if not path.exists():
        return Written(path, "created", _diff("", text, path, "(new)"))
    old = path.read_text(encoding="utf-8")
    recorded, body = split_header(old)
    new_body = split_header(text)[1]
    if recorded is not None and digest(body) == recorded:
        if body == new_body:
            return Written(path, "unchanged", "")
        return Written(path, "updated", _diff(old, text, path, "(generated, not edited)"))
    if body == new_body:
        return Written(path, "unchanged", "", why="edited by hand, but the new draft is the same")
    why = "edited by hand since the last import" if recorded else "not written by the importer (no header)"
    draft = path.with_name(path.name + ".new")
    return Written(path, "conflict", _diff(old, text, path, "(yours)", draft), draft, why)


def apply(written: Written, text: str) -> None:
    """Write the planned file: the draft itself, or beside a hand-edited file."""
    target = written.draft_path if written.status == "conflict" else written.path
    if written.status == "unchanged" or target is None:
        return
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")


def _diff(old: str, new: str, path: Path, label: str, other: Path | None = None) -> str:
    lines = difflib.unified_diff(
        old.splitlines(keepends=True),
        new.splitlines(keepends=True),
        fromfile=f"{path} {label}",
        tofile=str(other or path) + " (new draft)",
    )
    return "".join(lines)
