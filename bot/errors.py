"""The bot's exceptions, one tree.

ChatOpsError                  root: anything the bot reports to a person; `str(err)` is what they read
├── ProblemsError             problems found in files, each with file, line, key path and expectation
│   ├── ConfigError           chatops.yaml or the environment is invalid
│   └── PlaybookError         a playbook file is invalid
├── UnknownNameError          a playbook id, service or incident that does not exist (with the known ones)
│   └── UnknownIncidentError  an incident id the store does not hold
├── StoreError                the store cannot be used (unreachable, or written by a newer version)
├── Skip                      a probe does not apply to this service: reported as `skipped`
├── ProbeFailure              a system could not be asked: reported as `error` ("could not check")
└── ActionError               a change was refused or failed (the API's own words)
    └── StaleTarget           the object changed after its preview: nothing was sent

Anything else raised in background work is a bug: the person sees an error id, the log has the rest.
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


class UnknownIncidentError(UnknownNameError):
    """An incident id the store does not hold."""

    def __init__(self, incident_id: str) -> None:
        ChatOpsError.__init__(self, f"unknown incident '{incident_id}'")
        self.kind, self.name, self.known = "incident", incident_id, []


class StoreError(ChatOpsError):
    """The store cannot be used (unreachable, or written by a newer version of the bot)."""


class Skip(ChatOpsError):
    """The probe does not apply to this service (e.g. no Kubernetes settings): reported as `skipped`."""


class ProbeFailure(ChatOpsError):
    """The system could not be asked (unreachable, refused, timed out): reported as `error` with this reason."""


class ActionError(ChatOpsError):
    """The system refused or failed the change; the message carries the API's own words."""


class StaleTarget(ActionError):
    """The object changed after the preview was approved: nothing was sent; a fresh preview is needed."""
