"""Who may approve a fix, and how many approvals it needs: configuration per service and per action.

    services.<name>.actions.<action>.approvers / .approvals   (most specific)
    services.<name>.approvers / .approvals
    teams.<team>.approvers                                    (the service's team)

Approvers are Slack user ids (U..., W...) and user-group ids (S...). Groups are resolved when the button is
pressed, through a `Directory` (Slack's usergroups.users.list), so someone removed from the group cannot
approve any more. The requester never counts, whatever the list says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from bot.config import Config
from bot.errors import Problem
from bot.playbook import Playbook
from bot.registry import ACTIONS


class Directory(Protocol):
    def members(self, group: str) -> set[str]:
        """The users of a user group now (empty for a group that does not exist)."""
        ...


@dataclass(frozen=True)
class Approvers:
    ids: tuple[str, ...]  # users and groups, as configured
    needed: int

    @property
    def users(self) -> list[str]:
        return [i for i in self.ids if not i.startswith("S")]

    @property
    def groups(self) -> list[str]:
        return [i for i in self.ids if i.startswith("S")]

    def allows(self, user: str, directory: Directory) -> bool:
        return user in self.users or any(user in directory.members(group) for group in self.groups)


def approvers_for(config: Config, service_name: str, action: str) -> Approvers:
    service = config.services[service_name]
    override = service.actions.get(action)
    ids = (
        (override.approvers if override else []) or service.approvers or config.teams[service.team].approvers
    )
    needed = (override.approvals if override and override.approvals else None) or service.approvals
    return Approvers(tuple(ids), needed)


def approval_problems(config: Config, offered: dict[str, set[str]], file: str) -> list[Problem]:
    """Services whose fixes nobody could approve at 3 a.m.: no approver at all, or too few people besides a
    requester (a group counts as enough: its members are only known at click time). `offered` maps each
    service to the actions its guide's playbooks offer."""
    problems = []
    for name, actions in sorted(offered.items()):
        short = [a for a in sorted(actions) if not _enough(approvers_for(config, name, a))]
        if short:
            approvers = approvers_for(config, name, short[0])
            who = ", ".join(approvers.users) or "nobody"
            problems.append(Problem(file, None, f"services.{name}.approvers",
                                    f"fixes are offered ({', '.join(short)}) but only {who} may approve them, and "
                                    f"each needs {approvers.needed} approval(s) from someone other than the "
                                    "requester: add people or a user group (S...)"))  # fmt: skip
    return problems


def _enough(approvers: Approvers) -> bool:
    return bool(approvers.groups) or len(approvers.users) >= approvers.needed + 1


def unknown_actions(config: Config, file: str) -> list[Problem]:
    """Per-action approval settings that name no registered action (a typo would silently not apply)."""
    return [
        Problem(
            file,
            None,
            f"services.{name}.actions.{action}",
            f"unknown action '{action}'; actions: {', '.join(sorted(ACTIONS))}",
        )
        for name, service in config.services.items()
        for action in service.actions
        if action not in ACTIONS
    ]


def offered_actions(config: Config, playbooks: Iterable[Playbook]) -> dict[str, set[str]]:
    """For each service, the actions its guide's playbooks may offer."""
    by_guide: dict[str, set[str]] = {}
    for playbook in playbooks:
        by_guide.setdefault(playbook.guide, set()).update(a.action for a in playbook.actions)
    return {n: by_guide.get(s.guide, set()) for n, s in config.services.items() if by_guide.get(s.guide)}
