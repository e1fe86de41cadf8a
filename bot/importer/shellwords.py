"""Shell commands taken apart without running them: pipeline stages, words, flags, and whether they write.

Nothing from a guide is ever executed; this only tokenizes (shlex) so the classifier can read a command.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

# Flags that take a value (`-n ns` or `--namespace=ns`); any other flag is a switch.
VALUE_FLAGS = frozenset(
    {
        "-n", "--namespace", "-l", "--selector", "--tail", "--since", "-o", "--output", "--context",
        "--replicas", "--to-revision", "--limits", "--requests", "-c", "--container", "--sort-by",
        "--field-selector", "--image", "--region", "--project", "--limit", "--filter", "--format",
        "--to-revisions", "--memory", "--cpu", "--timeout", "--concurrency", "--min-instances",
        "--max-instances", "--set-env-vars", "--update-env-vars", "-H", "--header", "-X", "--request",
        "-d", "--data", "-w", "--write-out", "--service", "--connect", "-connect", "-servername",
        "--after", "--before", "--freshness", "--namespace-id", "-U", "--env",
    }
)  # fmt: skip
# curl's flags that take a value, and those that send a body (a POST unless -G makes them a query string).
CURL_DATA_FLAGS = frozenset({"-d", "--data", "--data-urlencode", "--data-raw", "--data-binary", "-F", "--form",
                             "-T", "--upload-file", "--json"})  # fmt: skip
CURL_VALUE_FLAGS = CURL_DATA_FLAGS | {
    "-H", "--header", "-X", "--request", "-w", "--write-out", "-o", "--output", "-u", "--user", "-m",
    "--max-time", "--connect-timeout", "-A", "--user-agent", "--resolve", "--cacert", "--cert", "-e",
    "--referer", "-b", "--cookie", "--oauth2-bearer",
}  # fmt: skip


@dataclass
class Words:
    """One pipeline stage: positional words and flags (value, or True for a switch)."""

    positional: list[str] = field(default_factory=list)
    flags: dict[str, str | bool] = field(default_factory=dict)
    after_dashes: list[str] = field(default_factory=list)  # `kubectl exec pod -- CMD ...`
    repeated: dict[str, list[str]] = field(default_factory=dict)  # every value of a flag given twice (-H)

    def flag(self, *names: str) -> str | None:
        for name in names:
            value = self.flags.get(name)
            if isinstance(value, str):
                return value
        return None

    def has(self, *names: str) -> bool:
        return any(name in self.flags for name in names)

    def all(self, name: str) -> list[str]:
        """Every value given for the flag, in order (`-H a -H b`)."""
        return self.repeated.get(name, [])


def minutes(duration: str) -> int:
    """Minutes of a duration flag such as `--since=30m`, `--freshness=1h`, `2d` (60 when it cannot be read)."""
    m = re.match(r"(\d+)([smhd])", duration)
    if not m:
        return 60
    return max(1, int(m.group(1)) * {"s": 0, "m": 1, "h": 60, "d": 1440}[m.group(2)] or 1)


def logical(command: str) -> str:
    """The command on one line: `\\` continuations joined, comment-only lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", command)
    return "\n".join(ln for ln in joined.splitlines() if not ln.strip().startswith("#")).strip()


def stages(command: str) -> list[list[str]] | None:
    """The words of each pipeline stage (`a | b` -> [[a...], [b...]]), or None if shlex cannot read it."""
    lexer = shlex.shlex(logical(command), posix=True, punctuation_chars="|;&")
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:
        return None
    out: list[list[str]] = [[]]
    for token in tokens:
        if token in ("|", ";", "&&", "||", "&"):
            out.append([])
        else:
            out[-1].append(token)
    return [stage for stage in out if stage]


def parse_words(tokens: list[str], value_flags: frozenset[str] = VALUE_FLAGS) -> Words:
    """Positional words and flags of one stage; `value_flags` are the flags that take a value."""
    words = Words()
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token == "--":
            words.after_dashes = tokens[index + 1 :]
            break
        if token.startswith("-") and len(token) > 1 and not token.lstrip("-").isdigit():
            name, eq, value = token.partition("=")
            if not eq and name in value_flags and index + 1 < len(tokens):
                value, eq = tokens[index + 1], "="
                index += 1
            if eq:
                words.flags[name] = value
                words.repeated.setdefault(name, []).append(value)
            else:
                words.flags[name] = True
        else:
            words.positional.append(token)
        index += 1
    return words


_KUBECTL_WRITES = {
    "apply", "create", "delete", "patch", "replace", "scale", "set", "edit", "label", "annotate",
    "cordon", "uncordon", "drain", "taint", "run", "expose", "autoscale",
}  # fmt: skip
_GCLOUD_WRITES = re.compile(r"\b(update|update-traffic|create|delete|deploy|enable|disable|add-iam-policy-binding|"
                            r"remove-iam-policy-binding|set-iam-policy|login|reset|restart|cancel)\b")  # fmt: skip
_SQL_WRITES = re.compile(r"\b(ALTER|DROP|DELETE|UPDATE|INSERT|CREATE|TRUNCATE|GRANT|REVOKE|pg_terminate_backend|"
                         r"pg_cancel_backend|pg_reload_conf)\b", re.IGNORECASE)  # fmt: skip
_OTHER_WRITES: list[tuple[str, re.Pattern[str]]] = [
    ("docker-compose", re.compile(r"^(up|down|restart|stop|start|rm|kill)$")),
    ("docker", re.compile(r"^(run|rm|kill|stop|restart|build|push)$")),
    ("redis-cli", re.compile(r"^(FLUSHDB|FLUSHALL|CONFIG|DEL|SET)$", re.IGNORECASE)),
    ("bq", re.compile(r"^(rm|mk|cancel|update|cp|load|insert)$")),
    ("gsutil", re.compile(r"^(mb|rb|rm|cp|mv|rsync|ch|set)$")),  # `gsutil iam get` reads, `iam ch` writes
    ("aws", re.compile(r"^(mb|rb|rm|cp|mv|sync|put-\S+|delete-\S+|create-\S+)$")),
    ("wrangler", re.compile(r"^(deploy|publish|delete|put)$")),
    ("alembic", re.compile(r"^(upgrade|downgrade|stamp)$")),
    ("celery", re.compile(r"^(purge)$")),
    ("helm", re.compile(r"^(install|upgrade|rollback|uninstall)$")),
    ("git", re.compile(r"^(push|reset|commit|checkout)$")),
]
_ALWAYS_WRITES = {"kill", "rm", "mkdir", "chmod", "cp", "mv", "createdb", "pip", "systemctl", "tcpdump"}


def _curl_method(words: Words) -> str:
    """GET, or the method the request uses: -X, else POST when it sends a body (-d, -F) without -G."""
    method = (words.flag("-X", "--request") or "").upper()
    if method:
        return "GET" if method in ("GET", "HEAD", "OPTIONS") else method
    sends_body = any(words.has(flag) for flag in CURL_DATA_FLAGS)
    return "POST" if sends_body and not words.has("-G", "--get") else "GET"


def _carried(tool: str, words: list[str]) -> list[str] | None:
    """What a runner (`uv run X`) or a container (`docker compose exec S X`, `kubectl exec P -- X`) runs."""
    if tool in ("uv", "poetry", "pipenv") and words[1:2] == ["run"]:
        return words[2:]
    if tool == "kubectl" and "exec" in words and "--" in words:
        return words[words.index("--") + 1 :]
    if tool in ("docker", "docker-compose") and "exec" in words[1:4]:
        after = words[words.index("exec") + 1 :]
        while after and after[0].startswith("-"):
            after = after[1:]
        return after[1:]
    return None


def writes(command: str) -> str | None:
    """Why the command changes something (a verb that writes), or None when it only reads."""
    text = logical(command)
    for stage in stages(command) or [text.split()]:
        words = [w for w in stage if not re.match(r"^[A-Z_][A-Z0-9_]*=", w)]  # VAR=value prefixes
        if not words:
            continue
        tool = words[0].rsplit("/", 1)[-1]
        rest = [w for w in words[1:] if not w.startswith("-")]
        rollout_write = rest[:1] == ["rollout"] and rest[1:2] in (
            ["undo"],
            ["restart"],
            ["pause"],
            ["resume"],
        )
        if tool == "kubectl" and rest and (rest[0] in _KUBECTL_WRITES or rollout_write):
            return f"kubectl {' '.join(rest[:2])} changes the cluster"
        if tool == "gcloud" and (m := _GCLOUD_WRITES.search(" ".join(rest))):
            return f"gcloud ... {m.group(1)} changes the project"
        if tool == "curl" and _curl_method(parse_words(words[1:], CURL_VALUE_FLAGS)) != "GET":
            return "the request writes (POST/PUT/PATCH/DELETE)"
        if tool in _ALWAYS_WRITES or tool.endswith(("createdb", "dropdb")):
            return f"{tool} changes the machine or the data"
        for name, verbs in _OTHER_WRITES:
            if tool == name and any(verbs.match(w) for w in rest[:3]):
                return f"{name} {next(w for w in rest[:3] if verbs.match(w))} changes something"
        if tool in ("python", "python3") and "alembic" in words:
            return writes(" ".join(words[words.index("alembic") :]))
        if (inner := _carried(tool, words)) and (why := writes(shlex.join(inner))):
            return why
    if _SQL_WRITES.search(text) and re.search(r"\b(SELECT|psql|ALTER|CREATE|UPDATE|DELETE|DROP)\b", text):
        return "the SQL writes (" + _SQL_WRITES.search(text).group(1) + ")"  # type: ignore[union-attr]
    return None
