"""The `chatops` command as a user runs it (the installed entry point, in a subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT


def chatops(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("chatops", path=str(Path(sys.executable).parent)) or "chatops"
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=cwd, timeout=60, check=False)


def test_playbooks_list_shows_all_65() -> None:
    run = chatops("playbooks", "list")
    assert run.returncode == 0, run.stderr
    assert "65 playbooks from 5 guides" in run.stdout
    assert "microservices-platform/replication-lag" in run.stdout


def test_playbooks_show_fills_the_services_values() -> None:
    run = chatops("playbooks", "show", "ai-platform/high-latency-or-timeouts", "--service", "api-gateway")
    assert run.returncode == 0, run.stderr
    assert (
        "kubectl exec -it deployment/api-gateway -n arch-separation -- netstat -tlnp | grep :5432"
        in run.stdout
    )
    assert "[action, needs approval]  k8s.scale" in run.stdout


def test_show_of_an_unknown_playbook_lists_nothing_else_and_exits_2() -> None:
    run = chatops("playbooks", "show", "ai-platform/nope")
    assert run.returncode == 2
    assert "unknown playbook 'ai-platform/nope'" in run.stderr
    assert "Traceback" not in run.stderr


def test_lint_is_clean_on_the_bundled_playbooks() -> None:
    run = chatops("playbooks", "lint")
    assert run.returncode == 0, run.stdout
    assert "65 files checked, 0 with problems" in run.stderr


def test_lint_reports_a_users_broken_playbook_and_fails(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "id: team/x\ntitle: X\nsummary: s\nsource: {guide: team, section: X}\nsymptoms: [x]\n"
        "diagnostics:\n  - probe: k8s.pods\n    params: {warn_restarts: -1}\nseverity: {default: SEV-3}\n"
    )
    run = chatops("playbooks", "lint", str(path))
    assert run.returncode == 1
    assert (
        f"{path}:8: diagnostics.0.params.warn_restarts: expected greater than or equal to 0 (got -1)"
        in run.stdout
    )


def test_match_json_has_the_documented_shape() -> None:
    run = chatops("match", "FATAL: sorry, too many clients already", "--service", "tldr-api", "--json")
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert set(result) == {"query", "service", "abstained", "matches"}
    assert result["service"] == "tldr-api" and result["abstained"] is False
    best = result["matches"][0]
    assert set(best) == {"id", "title", "guide", "section", "score", "why"}
    assert best["id"] == "tldr-highlight-api/connection-pool-exhausted"
    assert best["why"]


def test_match_abstains_on_text_no_playbook_fits() -> None:
    run = chatops("match", "how do I enable dark mode")
    assert run.returncode == 0
    assert run.stdout.startswith('No confident match for "how do I enable dark mode"')


def test_match_with_an_unknown_service_lists_the_known_ones() -> None:
    run = chatops("match", "slow", "--service", "billing")
    assert run.returncode == 2
    assert "unknown service 'billing'; known: ai-worker, api-gateway, auth-service" in run.stderr


def test_a_bad_config_exits_2_with_the_key_path_and_no_traceback(tmp_path: Path) -> None:
    config = tmp_path / "chatops.yaml"
    config.write_text(
        (ROOT / "config.example.yaml").read_text().replace("namespace: arch-separation", "namespace: [a]")
    )
    run = chatops("--config", str(config), "match", "slow")
    assert run.returncode == 2
    assert f"{config}:30: services.api-gateway.kubernetes.namespace: expected a valid string" in run.stderr
    assert "Traceback" not in run.stderr


def test_config_from_the_environment_variable(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.yaml"
    config.write_text((ROOT / "config.example.yaml").read_text())
    env_run = subprocess.run(
        [sys.executable, "-m", "bot", "config", "check"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"CHATOPS_CONFIG": str(config), "PATH": ""},
        timeout=60,
        check=False,
    )
    assert env_run.returncode == 0, env_run.stderr
    assert f"{config}: OK, 10 services, 5 teams" in env_run.stdout


@pytest.mark.parametrize("args", [(), ("playbooks",), ("match",)])
def test_usage_errors_exit_2(args: tuple[str, ...]) -> None:
    run = chatops(*args)
    assert run.returncode == 2
    assert "usage: chatops" in run.stderr


def test_demo_runs_on_the_embedded_defaults(tmp_path: Path) -> None:
    run = chatops("demo", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert "config.example.yaml" in run.stdout
    assert "/diagnose auth-service pods keep restarting" in run.stdout
    assert "[probe]  k8s.pods" in run.stdout
