"""`chatops escalation check`: what each team's incidents will do, and what would make a ladder fail at 3 a.m."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from bot.config import Config, load_config
from bot.errors import ConfigError
from bot.escalation_check import ladder_lines, ladder_problems
from bot.settings import Settings

EXAMPLE = (ROOT / "config.example.yaml").read_text()
KEYS = {f"PAGERDUTY_KEY_{team}": "k" * 32 for team in ("PLATFORM", "IMGSTREAM", "TLDR", "DATA", "SERVICES")}
GUIDES = [
    "ai-platform",
    "convergence-data-pipeline",
    "imgstream",
    "microservices-platform",
    "tldr-highlight-api",
]


def settings(tmp_path: Path, text: str = EXAMPLE, env: dict[str, str] = KEYS) -> Settings:
    path = tmp_path / "chatops.yaml"
    path.write_text(text)
    return Settings.from_config(load_config(path, guides=GUIDES), path, env=env)


def changed(old: str, new: str) -> str:
    assert old in EXAMPLE, old
    return EXAMPLE.replace(old, new, 1)


def test_the_example_passes_once_its_routing_keys_are_set(tmp_path: Path) -> None:
    assert ladder_problems(settings(tmp_path)) == []


def test_each_ladder_reads_as_what_will_happen(example_config: Config) -> None:
    lines = ladder_lines(example_config)
    sev1 = next(line for line in lines if line.startswith("platform SEV-1:"))
    assert sev1.startswith(
        "platform SEV-1: page on-call at once; on-call S0PLATONCALL (paged) after 15 min if not acknowledged"
    )
    assert "VP Engineering U0VPENG001 (paged)" not in sev1, "the VP has no routing key: mentioned, not paged"
    sev2 = next(line for line in lines if line.startswith("platform SEV-2:"))
    assert "page" not in sev2.split(":", 1)[1], "SEV-2 pages nobody by default"
    assert "platform SEV-4: on-call S0PLATONCALL after 24 h if not acknowledged" in lines


def test_a_routing_key_missing_from_the_environment_is_named(tmp_path: Path) -> None:
    problems = ladder_problems(
        settings(tmp_path, env={k: v for k, v in KEYS.items() if k != "PAGERDUTY_KEY_TLDR"})
    )
    assert problems == [
        f"{tmp_path / 'chatops.yaml'}: teams.tldr.oncall.pagerduty_routing_key_env: PAGERDUTY_KEY_TLDR is not set "
        "in the environment"
    ]


def test_a_step_to_a_tier_the_team_lacks_is_a_problem(tmp_path: Path) -> None:
    text = changed("    engineering_manager: {slack: U0IMGEM001}\n", "")
    (problem,) = [p for p in ladder_problems(settings(tmp_path, text)) if "imgstream" in p]
    assert "teams.imgstream: the SEV-1, SEV-2 ladder escalates to engineering_manager" in problem
    assert "add teams.imgstream.engineering_manager.slack" in problem


def test_a_teams_own_ladder_out_of_time_order_is_refused_when_the_config_loads(tmp_path: Path) -> None:
    text = changed("    checklist: [Error messages,", "    escalation: [{tier: team_lead, after: 2h}, {tier: oncall, after: 1h}]\n"
                   "    checklist: [Error messages,")  # fmt: skip
    with pytest.raises(ConfigError, match=r"teams\.imgstream.*escalation steps must be in order of 'after'"):
        settings(tmp_path, text)


def test_a_paged_sev_without_an_on_call_routing_key_is_a_problem(tmp_path: Path) -> None:
    text = changed("    oncall: {slack: S0TLDRONCALL, pagerduty_routing_key_env: PAGERDUTY_KEY_TLDR}\n",
                   "    oncall: {slack: S0TLDRONCALL}\n")  # fmt: skip
    assert any("teams.tldr.oncall: SEV-1 pages on-call, but it has no pagerduty_routing_key_env" in p
               for p in ladder_problems(settings(tmp_path, text)))  # fmt: skip


def test_the_command_exits_1_on_a_problem_and_0_without(tmp_path: Path) -> None:
    exe = str(Path(sys.executable).parent / "chatops")
    base = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
    args = [exe, "--config", str(ROOT / "config.example.yaml"), "escalation", "check"]
    failing = subprocess.run(args, capture_output=True, text=True, env=base, timeout=60, check=False)
    assert (
        failing.returncode == 1 and "PAGERDUTY_KEY_PLATFORM is not set in the environment" in failing.stdout
    )
    passing = subprocess.run(
        args, capture_output=True, text=True, env={**base, **KEYS}, timeout=60, check=False
    )
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert passing.stdout.splitlines()[-1] == "5 teams checked, 0 problems"
