"""`chatops escalation check`: every team's ladder, checked before an incident finds out it does not work.

Per team and SEV: each rung's tier has a contact on the team (else nobody is notified at that step), the SEVs
the policy pages have an on-call with a routing key, and every routing-key variable the config names is set in
this environment (a page with no key is refused at 3 a.m., not now). Steps out of time order are refused when
the config is loaded.
"""

from __future__ import annotations

import argparse
from typing import Any

from bot.config import TIER_NAMES, Config, EscalationStep
from bot.settings import Settings
from bot.severity import Sev


def ladder_problems(settings: Settings) -> list[str]:
    config, file = settings.config, str(settings.config_file)
    problems: list[str] = []
    for name, team in config.teams.items():
        where = f"{file}: teams.{name}"
        unreachable: dict[str, list[str]] = {}  # tier -> the SEVs whose ladder names it
        for sev in Sev:
            for step in config.team_ladder(name, sev):
                if team.contact(step.tier) is None:
                    unreachable.setdefault(step.tier, []).append(sev.value)
            if config.policy.severities[sev].page_oncall and not team.oncall.pagerduty_routing_key_env:
                problems.append(
                    f"{where}.oncall: {sev} pages on-call, but it has no pagerduty_routing_key_env"
                )
        for tier, sevs in unreachable.items():
            problems.append(f"{where}: the {', '.join(sevs)} ladder escalates to {tier}, but the team has no "
                            f"{tier} contact (add teams.{name}.{tier}.slack)")  # fmt: skip
        for tier in TIER_NAMES:
            contact = team.contact(tier)
            env = contact.pagerduty_routing_key_env if contact else None
            if env and env not in settings.secrets.pagerduty_keys:
                problems.append(
                    f"{where}.{tier}.pagerduty_routing_key_env: {env} is not set in the environment"
                )
    return problems


def ladder_lines(config: Config) -> list[str]:
    """What each team's incidents will do, in words; SEVs with the same ladder on one line."""
    lines = []
    for name, team in config.teams.items():
        by_ladder: dict[str, list[str]] = {}
        for sev in Sev:
            level = config.policy.severities[sev]
            rungs = ["page on-call at once"] if level.page_oncall else []
            for step in config.team_ladder(name, sev):
                contact = team.contact(step.tier)
                who = contact.slack if contact else "nobody"
                paged = (
                    " (paged)" if contact and contact.pagerduty_routing_key_env and step.pages(level) else ""
                )
                condition = step.when.replace("_", " ")
                rungs.append(f"{TIER_NAMES[step.tier]} {who}{paged} after {_duration(step)} if {condition}")
            by_ladder.setdefault("; ".join(rungs), []).append(sev.value)
        lines += [f"{name} {', '.join(sevs)}: {ladder}" for ladder, sevs in by_ladder.items()]
    return lines


def _duration(step: EscalationStep) -> str:
    minutes = int(step.after.total_seconds() // 60)
    return (
        f"{minutes} min"
        if minutes < 60
        else f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "")
    )


def cmd_check(app: Any, args: argparse.Namespace) -> int:
    for line in ladder_lines(app.config):
        print(line)
    problems = ladder_problems(app.settings)
    for problem in problems:
        print(f"problem: {problem}")
    print(f"{len(app.config.teams)} teams checked, {len(problems)} problems")
    return 1 if problems else 0


def add_escalation_command(sub: Any) -> None:
    group = sub.add_parser("escalation", help="the escalation ladders: what each team's incidents will do")
    verbs = group.add_subparsers(dest="action", required=True, metavar="ACTION")
    verbs.add_parser(
        "check", help="every tier reachable, the steps in order, routing keys set in this environment"
    ).set_defaults(func=cmd_check)
