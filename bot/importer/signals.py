"""Matching signals from an entry's own words: quoted error strings, shown error lines, alert names.

Patterns are the guide's literal strings (quoted, shown in a block, or an HTTP status with its reason) escaped as case-insensitive regexes (spaces match any run of
whitespace); alert names are CamelCase words the text calls an alert (`HighErrorRate alert`, `alert:
QueueBacklog`); phrases are the heading's own words and its parenthesised part ("503 service unavailable").
"""

from __future__ import annotations

import re

from bot.importer.guide import Entry

_STATUS = re.compile(
    r"\b[1-5]\d\d\s+[A-Z][a-z]+(?:\s+[A-Z][a-z]+)*"
)  # "502 Bad Gateway", as clients print it
_QUOTED = re.compile(r"[\"“]([^\"”]{6,120})[\"”]")
_CAMEL = re.compile(r"\b[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+\b")
_ALERT_NEAR = re.compile(
    r"\b([A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+)\s+alerts?\b|\balert:?\s+([A-Z][a-z0-9]+(?:[A-Z][a-z0-9]+)+)\b"
)
ERROR_WORDS = re.compile(r"(error|exception|denied|refused|failed|fatal|invalid|not found|exceeded|timeout|could not|"
                         r"unable|cannot|can't|does not exist|already in use|stuck)", re.IGNORECASE)  # fmt: skip
# Kubernetes states worth a pattern of their own when an entry names them.
_STATES = ("CrashLoopBackOff", "OOMKilled", "ImagePullBackOff", "Evicted")


def pattern(literal: str) -> str:
    """A case-insensitive regex for a literal string, whitespace runs matching any whitespace."""
    words = [re.escape(w) for w in literal.split()]
    return r"\s+".join(words)


def literal(regex: str) -> str:
    """The literal a `pattern()` regex was made from."""
    return re.sub(r"\\(.)", r"\1", regex.replace(r"\s+", " "))


def signals(entry: Entry) -> dict[str, list[str]]:
    """phrases, patterns and alerts for the playbook's `signals` key (empty lists dropped)."""
    texts = [*entry.symptoms, *entry.text]
    literals: list[str] = []
    for text in texts:
        literals += [m.group(1).strip() for m in _QUOTED.finditer(text)]
    literals += [m.group(0) for text in entry.symptoms for m in _STATUS.finditer(text)]
    literals += [line for line in entry.evidence if ERROR_WORDS.search(line) and len(line) <= 160]
    patterns = _unique(pattern(lit) for lit in literals if not lit.startswith(("http", "/")))
    joined = " ".join(texts + entry.evidence)
    patterns += [rf"\b{state}\b" for state in _STATES if state in joined and rf"\b{state}\b" not in patterns]
    alerts = _unique(a or b for a, b in _ALERT_NEAR.findall(" ".join(texts)))
    heading = entry.heading
    phrases = [heading.lower()]
    if m := re.match(r"^(.*?)\s*\((.+)\)\s*$", heading):
        phrases = [m.group(1).lower(), m.group(2).lower()]
    out = {"phrases": _unique(p for p in phrases if p), "patterns": patterns, "alerts": alerts}
    return {key: value for key, value in out.items() if value}


def _unique(items: object) -> list[str]:
    seen: list[str] = []
    for item in items:  # type: ignore[attr-defined]
        if item and item not in seen:
            seen.append(item)
    return seen
