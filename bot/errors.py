"""The bot's exceptions, one tree.

ChatOpsError                  root: anything the bot reports to a person
├── ConfigError               chatops.yaml or the environment is invalid (file, key path, expectation)
├── PlaybookError             a playbook file is invalid (file, line, what is wrong)
└── UnknownNameError          a playbook id or service name that does not exist (with the known ones)
"""

from __future__ import annotations

from dataclasses import dataclass


class ChatOpsError(Exception):
    """Root of the bot's errors; `str(err)` is the text a person sees."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file: where (file, line, key path) and what was expected."""

    file: str
    line: int | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        key = f" {self.path}:" if self.path else ""
        return f"{where}:{key} {self.message}"


class ProblemsError(ChatOpsError):
    """Base for errors that carry a list of problems found in files."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class ConfigError(ProblemsError):
    """The configuration file or environment is invalid."""


class PlaybookError(ProblemsError):
    """One or more playbook files are invalid."""


class UnknownNameError(ChatOpsError):
    """A name (playbook id, service) that is not known; the message lists the known ones."""

    def __init__(self, kind: str, name: str, known: list[str]) -> None:
        self.kind, self.name, self.known = kind, name, known
        super().__init__(f"unknown {kind} '{name}'; known: {', '.join(sorted(known)) or '(none)'}")
