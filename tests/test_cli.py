"""The `chatops` command as a user runs it (the installed entry point, in a subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

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
    assert "70 files checked, 0 with problems" in run.stderr


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


def test_demo_plays_a_full_incident_in_the_local_slack_workspace(tmp_path: Path) -> None:
    run = chatops("demo", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "config.example.yaml" in out
    assert "alice> /diagnose api-gateway pods keep restarting, OOMKilled since the last deploy" in out
    assert "(only alice sees this) Opening an incident for `api-gateway`" in out
    assert "0/3 pods ready: 3 CrashLoopBackOff; last exit OOMKilled (137)" in out
    assert "Suggested severity: SEV-1" in out
    assert "@alice set the severity to SEV-1." in out, "the SEV button was pressed"
    assert "`api-gateway`: open, SEV-1" in out, "@chatops status answered in the thread"
    assert "That sounds like Database connection pool exhausted" in out, "a reply got an offer"
    assert "Closest playbooks:" in out and "(alice pressed [" in out
    assert "Did you mean `api-gateway`?" in out
    assert list(tmp_path.iterdir()) == [], "the demo leaves nothing behind in the working directory"


def diagnose_json(scenario: str, text: str) -> dict[str, Any]:
    run = chatops("diagnose", text, "--service", "api-gateway", "--sandbox", scenario, "--json")
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout))


def statuses(result: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {f["probe"] + ":" + f["step"]: (f["status"], f["summary"]) for f in result["findings"]}


def test_diagnose_finds_the_crash_looping_bad_deploy() -> None:
    result = diagnose_json("crashloop-oom", "pods keep restarting, OOMKilled since the last deploy")
    found = statuses(result)
    assert result["playbook"]["id"] == "ai-platform/5xx-errors"
    assert result["worst"] == "critical" and result["suggested_sev"] == "SEV-1"
    pods = next(v for k, v in found.items() if k.startswith("k8s.pods"))
    assert pods[0] == "critical" and "3 CrashLoopBackOff; last exit OOMKilled (137)" in pods[1]
    rollout = next(v for k, v in found.items() if k.startswith("k8s.rollout"))
    assert "1.8.2 -> 1.9.0" in rollout[1]
    assert [r["action"] for r in result["remediations"]] == ["k8s.rollout_undo"]
    assert all(r["needs_approval"] for r in result["remediations"])


def test_diagnose_on_a_healthy_cluster_reports_healthy_checks() -> None:
    result = diagnose_json("healthy", "pods keep restarting, OOMKilled since the last deploy")
    kube = {k: v for k, v in statuses(result).items() if k.startswith("k8s.")}
    assert kube and {status for status, _ in kube.values()} == {"ok"}
    assert result["remediations"] == []  # the rollback is offered only when the rollout looks bad


def test_diagnose_finds_pending_pods_that_cannot_be_scheduled() -> None:
    result = diagnose_json("pending-memory", "api-gateway returning 502s, pods not ready")
    pods = next(v for k, v in statuses(result).items() if k.startswith("k8s.pods"))
    assert pods[0] == "critical" and "Insufficient memory" in pods[1]


def test_diagnose_finds_a_service_with_nothing_serving() -> None:
    result = diagnose_json("no-endpoints", "inter-service communication failures, calls to the gateway fail")
    endpoints = [v for k, v in statuses(result).items() if k.startswith("k8s.endpoints")]
    assert endpoints and endpoints[0][0] == "critical" and "nothing is serving api-gateway" in endpoints[0][1]


def test_diagnose_finds_the_expired_certificate() -> None:
    result = diagnose_json("expired-certificate", "certificate errors on https://api.your-domain.com")
    assert result["playbook"]["id"] == "ai-platform/ssl-tls-issues"
    cert = next(v for k, v in statuses(result).items() if k.startswith("k8s.certificate"))
    assert cert[0] == "critical" and "expired 2 d ago" in cert[1]


def test_diagnose_against_a_slow_api_server_finishes_with_findings_not_a_crash() -> None:
    """Each API call takes 3 s: single reads fit the 10 s probe budget, multi-call probes run out of it."""
    result = diagnose_json("slow-apiserver", "pods keep restarting, OOMKilled since the last deploy")
    kube = {k: v for k, v in statuses(result).items() if k.startswith("k8s.")}
    assert {status for status, _ in kube.values()} <= {"ok", "error"}
    errors = [summary for status, summary in kube.values() if status == "error"]
    assert errors and all(
        s.startswith("kube-apiserver at http://127.0.0.1:") and "timed out" in s for s in errors
    )
