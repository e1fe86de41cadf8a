"""Read the troubleshooting guides' issue entries (heading + body) independently of the playbooks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

GUIDES_DIR = Path(__file__).resolve().parents[1] / "guides"

# Guides that mark entries "Issue: ..." need no more; for the others, the level-2 sections holding entries.
ENTRY_PARENTS = {
    "ai-platform": {"Common Issues and Solutions"},
    "microservices-platform": {
        "Common Issues", "Performance Problems", "Authentication Errors", "Service Health Issues",
        "Database Problems", "Network and Connectivity",
    },
}  # fmt: skip


@dataclass
class Entry:
    guide: str
    heading: str
    body: str


def fix_mojibake(text: str) -> str:
    """Undo UTF-8 read as cp1252/Latin-1 (ai-platform.md has 'ðŸ”' for an emoji); leave clean text alone."""
    try:
        return text.encode("cp1252").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


def clean_heading(text: str) -> str:
    text = text.replace("**", "").strip()
    return re.sub(r"^Issue\s*:\s*", "", text).strip()


def entries(guide: str) -> list[Entry]:
    """The issue entries of one guide, in order."""
    lines = (GUIDES_DIR / f"{guide}.md").read_text(encoding="utf-8").splitlines()
    headings: list[tuple[int, int, str]] = []  # (line index, level, text)
    in_code = False
    for index, line in enumerate(lines):
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and (m := re.match(r"^(#{1,6})\s+(.*)$", line)):
            headings.append((index, len(m.group(1)), m.group(2).strip()))
    found = []
    parent = ""
    for position, (index, level, text) in enumerate(headings):
        if level == 2:
            parent = re.sub(r"^[^A-Za-z]*", "", fix_mojibake(text)).strip()
        following = headings[position + 1 :]
        is_leaf = not following or following[0][1] <= level
        marked = clean_heading(text) != text.replace("**", "").strip()
        in_parent = parent in ENTRY_PARENTS.get(guide, set()) and level >= 3 and is_leaf
        if marked or in_parent:
            end = next((i for i, lvl, _ in following if lvl <= level), len(lines))
            found.append(Entry(guide, clean_heading(text), "\n".join(lines[index + 1 : end])))
    return found


def guide_names() -> list[str]:
    return sorted(p.stem for p in GUIDES_DIR.glob("*.md") if p.stem != "README")
