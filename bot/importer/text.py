"""Text helpers of the importer: undo mis-encoded UTF-8 (mojibake), make slugs, tidy headings.

Guides get copied through editors that read UTF-8 as Windows-1252: an emoji such as U+1F50D becomes
'ðŸ”' (and the byte 0x8D, undefined in cp1252, is lost on the way). Repairing re-encodes each suspicious
run of characters to the bytes they came from and decodes those as UTF-8; a character whose bytes were lost
cannot come back and is dropped, and the caller reports how many were.
"""

from __future__ import annotations

import re
import unicodedata

# A run of characters that cp1252 (or Latin-1, for the C1 controls cp1252 leaves undefined) maps to bytes.
_RUN = re.compile(r"[\u0080-\u00ff\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc\u2013\u2014"
                  r"\u2018-\u201a\u201c-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]{2,}")  # fmt: skip
# Emoji, symbols and "1. " before a heading's words; not "5xx", nor a quote or bracket that opens them.
_DECORATION = re.compile(r"^(?:[^\w\s\"'`(\[]|_|\s|\d+[.)]\s)+")
_ISSUE = re.compile(r"^\s*(?:issue|problem)\s*:\s*", re.IGNORECASE)  # "Issue: X", "Problem: X"


def _byte(char: str) -> int:
    try:
        return char.encode("cp1252")[0]
    except UnicodeEncodeError:
        return char.encode("latin-1")[0]


def repair_mojibake(text: str) -> tuple[str, int]:
    """The text with UTF-8-read-as-cp1252 runs decoded again, and how many characters could not be saved.

    Only runs that start like a UTF-8 multi-byte sequence (a lead byte then a continuation byte) are
    touched, so real Latin-1 text such as 'café' or 'naïve' stays as it is.
    """
    lost = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal lost
        raw = bytes(_byte(c) for c in match.group(0))
        if not (0xC2 <= raw[0] <= 0xF4 and 0x80 <= raw[1] <= 0xBF):
            return match.group(0)
        decoded = raw.decode("utf-8", errors="replace")
        kept = decoded.replace("\ufffd", "")
        if not kept.strip() and "\ufffd" not in decoded:
            return match.group(0)
        if "\ufffd" in decoded:  # a byte of the last character was lost on the way: drop that character
            lost += 1
        return kept

    return _RUN.sub(fix, text), lost


def strip_decoration(heading: str) -> str:
    """A heading without leading emoji, symbols and list numbers ('🚨 1. Common Issues' -> 'Common Issues')."""
    return _DECORATION.sub("", heading).strip()


def without_issue_prefix(heading: str) -> tuple[str, bool]:
    """('Port Already in Use', True) for 'Issue: Port Already in Use' (or 'Problem: ...'); the heading itself
    otherwise."""
    stripped = _ISSUE.sub("", heading)
    return stripped.strip(), stripped != heading


def slug(text: str, limit: int = 60) -> str:
    """A playbook slug: lowercase ASCII words joined by hyphens ('SSL/TLS Issues' -> 'ssl-tls-issues')."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    out = "-".join(words)[:limit].strip("-")
    return out or "entry"


def squash(text: str) -> str:
    """Whitespace runs folded to one space."""
    return re.sub(r"\s+", " ", text).strip()
