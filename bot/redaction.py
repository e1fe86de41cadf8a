"""Remove secrets from any text before it leaves the engine (Slack messages, files, the terminal, the store).

Patterns are specific on purpose: ordinary log lines ("password authentication failed for user", "Signature
has expired", image digests, UUIDs) must come through unchanged, or the evidence stops being evidence.
"""

from __future__ import annotations

import re

MASK = "[REDACTED]"
MARKER = re.compile(r"\[REDACTED[A-Z ]{0,30}\]")  # what redact() leaves in place of a secret

_SECRET_WORD = r"(?:password|passwd|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|secret[_-]?key|credentials?|private[_-]?key|client[_-]?secret|auth[_-]?token|session[_-]?id)"

# Words that follow "token:" or "password:" in error messages and are not values.
_NOT_A_VALUE = (
    r"(?:expired|invalid|missing|required|malformed|empty|none|null|not|no|is|was|has|had|the|a|an|for|from|of|in"
    r"|with|must|cannot|does|did|expected|failed|revoked|unknown|undefined|true|false|provided|verification"
    r"|validation|signature|mismatch|rejected|denied|error|reset|changed|token|password|secret|key|ok)\b"
)

# (pattern, replacement); applied in order, most specific first.
_RULES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(-----END [A-Z ]*PRIVATE KEY-----|\Z)", re.S),
        "[REDACTED PRIVATE KEY]",
    ),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"), "[REDACTED JWT]"),
    (re.compile(r"\b(xox[abposre]-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,})"), "[REDACTED SLACK TOKEN]"),
    (
        re.compile(r"https://hooks\.slack\.com/(services|workflows)/[A-Za-z0-9/_-]+"),
        "https://hooks.slack.com/[REDACTED]",
    ),
    (re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b"), "[REDACTED AWS KEY ID]"),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"), "[REDACTED GCP API KEY]"),
    (re.compile(r"\bya29\.[0-9A-Za-z_-]{20,}"), "[REDACTED GCP TOKEN]"),
    (re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,})\b"), "[REDACTED GITHUB TOKEN]"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{20,}"), "[REDACTED API KEY]"),
    # A credential after "Bearer"/"Basic"/"token" has a digit or is long; "token verification failed" is prose.
    (
        re.compile(
            r"(?i)\b(bearer|basic|token)(\s+)(?!\[REDACTED)"
            r"(?:(?=[A-Za-z0-9._~+/=-]*\d)[A-Za-z0-9._~+/=-]{12,}|[A-Za-z0-9._~+/=-]{24,})"
        ),
        rf"\1\2{MASK}",
    ),
    (
        re.compile(r"(?i)((?:x-api-key|x-admin-key|api-key|x-auth-token|cookie|set-cookie)\s*:\s*)[^\s,;]+"),
        rf"\1{MASK}",
    ),
    # user:password@ in URLs, also with an empty user (redis://:password@host).
    # The scheme is bounded: unbounded, a long line without "://" took time quadratic in its length.
    (re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]{0,30}://[^:/\s@]{0,256}:)([^@\s/]+)(@)"), rf"\1{MASK}\3"),
    (
        re.compile(
            r"(?i)([?&](?:[a-z0-9_-]*(?:token|key|signature|sig|password|secret|credential)[a-z0-9_-]*)=)"
            r"(?:\[REDACTED[^\]]*\]|[^&\s\"'])+"  # the whole value, even around a key already masked
        ),
        rf"\1{MASK}",
    ),
    (re.compile(rf"(?i)(\"[A-Za-z0-9_.-]*{_SECRET_WORD}\"\s*:\s*\")[^\"]+(\")"), rf"\1{MASK}\2"),
    # key = 'quoted value': the whole quoted value, spaces included.
    (
        re.compile(rf"(?i)(\b[A-Za-z0-9_.-]*{_SECRET_WORD}\b\s*[=:]\s*)(['\"])(?!\[REDACTED)[^'\"\n]+\2"),
        rf"\1\2{MASK}\2",
    ),
    # key=value / key: value; an "&" goes on unless a new key=value follows (a query string); prose such as
    # "invalid token: expired" keeps its words.
    (
        re.compile(
            rf"(?i)(\b[A-Za-z0-9_.-]*{_SECRET_WORD}\b\s*[=:]\s*)(['\"]?)(?!\[REDACTED)(?!{_NOT_A_VALUE})"
            r"[^\s'\"&,;}]+(?:&(?![A-Za-z0-9_.-]+=)[^\s'\"&,;}]*)*"
        ),
        rf"\1\2{MASK}",
    ),
]


def redact(text: str) -> str:
    """The text with secrets replaced by a marker that says what was removed."""
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text
