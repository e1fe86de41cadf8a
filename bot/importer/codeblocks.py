"""Split a guide's code block into the commands a person would copy one at a time, each with its title.

Shell blocks split at blank lines and `# comment` titles; a command goes on over `\\` continuations,
open quotes (`python -c "...`), `for`/`if` bodies, pipes and indented lines, and a line that only sets a
variable (`export X=1`) goes with the command right under it, which it is for. SQL blocks split at
`-- comment` titles. Other languages (Python, YAML, JSON...) and scripts with a shebang are one snippet.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

# First words that make a language-less block (or a code span) a shell command.
CLI_WORDS = frozenset(
    {
        "kubectl", "gcloud", "gsutil", "bq", "curl", "wget", "wrangler", "docker", "docker-compose",
        "helm", "psql", "redis-cli", "aws", "az", "uv", "python", "python3", "pip", "celery", "alembic",
        "lsof", "kill", "netstat", "ss", "nslookup", "dig", "openssl", "telnet", "ps", "grep", "cat",
        "echo", "export", "ls", "df", "du", "top", "watch", "git", "stern", "go", "mkdir", "chmod", "cp",
        "mv", "rm", "systemctl", "journalctl", "tail", "head", "jq", "pg_isready", "pg_dump", "yamllint",
        "py-spy", "node", "npm", "make", "ssh", "scp", "tcpdump", "cmctl", "pwd", "sh", "bash",
        "for", "while", "if",
    }
)  # fmt: skip
SHELL_LANGS = frozenset({"bash", "sh", "shell", "console", "zsh", "shell-session", "powershell"})
SQL_LANGS = frozenset({"sql", "postgresql", "psql", "pgsql", "mysql", "bigquery"})
_SQL_START = re.compile(
    r"^\s*(SELECT|WITH|EXPLAIN|ALTER|CREATE|DROP|UPDATE|INSERT|DELETE|SHOW|ANALYZE)\b", re.I
)
# PromQL without a language named: an aggregation or function call, or a selector with label matchers.
_PROMQL = re.compile(
    r"^\s*(?:(?:sum|avg|min|max|count|topk|bottomk|quantile|rate|irate|increase|delta|deriv|histogram_quantile|"
    r"absent)\s*(?:(?:by|without)\s*\([^)]*\)\s*)?\(|[a-zA-Z_:][a-zA-Z0-9_:]*\{[^}]*\}\s*(?:\[\w+\])?\s*$)"
)
_ENV_LINE = re.compile(r"^(export\s+)?[A-Z_][A-Z0-9_]*=\S*")
_SETTING = re.compile(
    r"^(export\s+)?[A-Za-z_][A-Za-z0-9_]*=(\"[^\"]*\"|'[^']*'|\S*)$"
)  # the whole line sets one variable
_OPENS = re.compile(r"^(for|while|until|if|case)\b")
_CLOSES = re.compile(r"^(done|fi|esac)\b")


@dataclass
class Command:
    """One command (or snippet) as the guide writes it, with the comment or sentence that names it."""

    text: str
    lang: str  # shell | sql | text | the block's language (python, yaml, ...)
    title: str | None
    note: str | None
    line: int


def first_word(text: str) -> str:
    """The first word of the first line that is not a comment ('./' for a script path)."""
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith(("#", "--")):
            word = line.split()[0]
            return "./" if word.startswith("./") else word
    return ""


def is_shell(text: str) -> bool:
    """True when the first command line starts with a known command, a script path, or sets a variable."""
    word = first_word(text)
    return word in CLI_WORDS or word == "./" or bool(_ENV_LINE.match(word))


def is_promql(text: str) -> bool:
    return bool(_PROMQL.match(text)) and "\n" not in text.strip()


def kind_of(lang: str, text: str) -> str:
    """shell, sql, text (output or prose in a block without a language) or the block's own language."""
    if lang in SHELL_LANGS:
        return "shell"
    if lang in SQL_LANGS:
        return "sql"
    if lang:
        return lang
    if is_shell(text):
        return "shell"
    if is_promql(text):
        return "promql"
    body = [ln for ln in text.splitlines() if ln.strip() and not ln.strip().startswith("--")]
    if body and _SQL_START.match(body[0]):
        return "sql"
    return "text"


def split(lang: str, text: str, line: int) -> list[Command]:
    """The commands of a code block (see the module docstring); `line` is the block's first line."""
    kind = kind_of(lang, text)
    if kind == "shell" and not text.startswith("#!"):
        return _shell(text, line)
    if kind == "sql":
        return _sql(text, line)
    title = _leading_comment(text, "#" if kind in ("shell", "python", "yaml", "text") else "//")
    return [Command(text.rstrip("\n"), kind, title, None, line)]


def _leading_comment(text: str, marker: str) -> str | None:
    first = text.lstrip().splitlines()[0].strip() if text.strip() else ""
    if first.startswith(marker) and not first.startswith("#!"):
        return first.lstrip(marker).strip() or None
    return None


def _complete(text: str) -> bool:
    """No open quote, no trailing backslash or pipe."""
    stripped = text.rstrip()
    if stripped.endswith(("\\", "|", "&&", "||")):
        return False
    try:
        shlex.split(text, comments=True)
    except ValueError:  # "No closing quotation": the command goes on on the next line
        return False
    return True


def _shell(text: str, first_line: int) -> list[Command]:
    commands: list[Command] = []
    title: str | None = None
    notes: list[str] = []
    current: list[str] = []
    start = first_line
    depth = 0
    env_group = False

    def flush() -> None:
        nonlocal current, depth, env_group
        if current:
            body = "\n".join(current).rstrip()
            commands.append(Command(body, "shell", title, "; ".join(notes) or None, start))
        current, depth, env_group = [], 0, False

    lines = text.rstrip("\n").splitlines()
    for index, raw in enumerate(lines):
        stripped = raw.strip()
        number = first_line + 1 + index
        open_command = bool(current) and (depth > 0 or not _complete("\n".join(current)))
        if open_command or (current and raw[:1].isspace() and stripped):
            current.append(raw)
            depth += _depth(stripped)
            continue
        if not stripped:
            flush()
            title, notes = None, []
            continue
        if stripped.startswith("#"):
            comment = stripped.lstrip("#").strip()
            if current and _ends_block(lines, index):
                current.append(raw)  # "# Inside pod: wget ..." belongs to the command above it
                continue
            flush()
            if title is None or (commands and commands[-1].title == title):
                title, notes = comment, []
            else:
                notes.append(comment)
            continue
        if _ENV_LINE.match(stripped) and len(stripped.split()) == 1 and env_group:
            current.append(raw)  # consecutive settings (VAR=value lines) are one step
            continue
        if current and all(_SETTING.match(ln.strip()) for ln in current):
            current.append(raw)  # `export X=1` then `./script.sh`: the setting is for the command under it
            continue
        flush()
        current, start = [raw], number
        depth = _depth(stripped)
        env_group = bool(_ENV_LINE.match(stripped)) and len(stripped.split()) == 1
    flush()
    if not commands and title:  # only comments: a step to do by hand ("# Access Grafana UI and ...")
        commands.append(Command("", "text", title, "; ".join(notes) or None, first_line))
    return commands


def _ends_block(lines: list[str], index: int) -> bool:
    """True when only comments follow this line up to a blank line or the end of the block."""
    for later in lines[index + 1 :]:
        if not later.strip():
            return True
        if not later.strip().startswith("#"):
            return False
    return True


def _depth(stripped: str) -> int:
    return (1 if _OPENS.match(stripped) and not re.search(r"\b(done|fi|esac)\b", stripped) else 0) - (
        1 if _CLOSES.match(stripped) else 0
    )


def _sql(text: str, first_line: int) -> list[Command]:
    groups: list[Command] = []
    title: str | None = None
    current: list[str] = []
    start = first_line
    for index, raw in enumerate(text.rstrip("\n").splitlines()):
        stripped = raw.strip()
        if stripped.startswith("--") and not current:
            title = stripped.lstrip("-").strip() if title is None else title
            continue
        if stripped.startswith("--") or (not stripped and current):
            if current:
                groups.append(Command("\n".join(current).strip(), "sql", title, None, start))
            current = []
            title = stripped.lstrip("-").strip() if stripped else None
            continue
        if stripped:
            if not current:
                start = first_line + 1 + index
            current.append(raw)
    if current:
        groups.append(Command("\n".join(current).strip(), "sql", title, None, start))
    return groups
