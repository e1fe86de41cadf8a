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
    assert set(result) == {"query", "service", "abstained", "not_incident", "matches"}
    assert result["service"] == "tldr-api" and result["abstained"] is False
    best = result["matches"][0]
    assert set(best) == {"id", "title", "guide", "section", "score", "why"}
    assert best["id"] == "tldr-highlight-api/connection-pool-exhausted"
    assert best["why"]


def test_a_symptom_may_be_typed_unquoted_as_after_the_slash_command() -> None:
    quoted = chatops("match", "FATAL: sorry, too many clients already", "--json")
    unquoted = chatops("match", "FATAL:", "sorry,", "too", "many", "clients", "already", "--json")
    assert unquoted.returncode == 0, unquoted.stderr
    assert json.loads(unquoted.stdout) == json.loads(quoted.stdout)
    run = chatops("diagnose", "--sandbox", "healthy", "ai-gateway", "504s", "since", "the", "deploy")
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("Incident: api-gateway: 504s since the deploy\n"), (
        "the first word names the service"
    )


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


@pytest.mark.parametrize("where", ["before", "after", "after="])
def test_config_and_playbooks_may_follow_the_command_as_people_type_them(tmp_path: Path, where: str) -> None:
    config = tmp_path / "mine.yaml"
    config.write_text((ROOT / "config.example.yaml").read_text().replace("  imgstream:", "  Img_Stream:"))
    options = [f"--config={config}"] if where == "after=" else ["--config", str(config)]
    args = [*options, "config", "check"] if where == "before" else ["config", "check", *options]
    run = chatops(*args)
    assert (run.returncode, run.stdout) == (2, "")
    assert (
        f"{config}:10: services.Img_Stream: expected a name of lowercase letters, digits and dashes"
        in run.stderr
    )
    missing = chatops("match", "pods", "crash", "--playbooks", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert f"{tmp_path / 'nowhere'}: no such file or folder" in missing.stderr


def test_config_from_the_environment_variable(tmp_path: Path) -> None:
    config = tmp_path / "elsewhere.yaml"
    config.write_text((ROOT / "config.example.yaml").read_text())
    exe = shutil.which("chatops", path=str(Path(sys.executable).parent)) or "chatops"
    env_run = subprocess.run(
        [exe, "config", "check"],
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
    assert "`api-gateway`: investigating, SEV-1" in out, "@chatops status answered in the thread"
    assert "That sounds like Database connection pool exhausted" in out, "a reply got an offer"
    assert "You asked for fix request 1" in out, "bob's own approval was refused"
    assert "Approved by @alice: running" in out and "Verified: Roll back the recent deployment" in out
    assert "3/3 pods of revision 9 ready (ghcr.io/acme/api-gateway:1.8.2)" in out, (
        "pods ready on the old image"
    )
    assert "executing by U0ALICE" in out and "self_approval_refused by U0BOB" in out, "the audit log"
    assert "Closest playbooks:" in out and "(alice pressed [" in out
    assert "I don't know a service called `api-gatway`" in out and "] Diagnose api-gateway)" in out
    assert "(a form opens for alice)" in out and "What is wrong?" in out, "the modal"
    assert 'used "Diagnose this" on: [FIRING:1] KubePodCrashLooping' in out, "the message shortcut"
    assert "Opened from this message" in out, "the incident links the message it came from"
    assert "bob's App Home" in out and out.count("·  `api-gateway`  ·") >= 5, "App Home lists the incidents"
    assert "Escalating to the on-call @platform-oncall: not acknowledged after 15 min (paged)" in out, (
        "the ladder"
    )
    assert "(PagerDuty got: acknowledge INC-" in out and "📝 Summary of INC-" in out, "ack, resolve, summary"
    assert "The severity is SEV-3, from the alert's severity label." in out, "an Alertmanager alert"
    assert "Verdict: Problem confirmed: revision imgstream-production-00043-abc failed" in out, (
        "checked on Cloud Run"
    )
    assert "Imported 3 playbooks from guide 'shop' for service shop-api" in out and "lint: clean" in out
    assert "📖 Playbook Shop API pods crash after a deploy (shop)" in out, (
        "/diagnose with the imported playbooks"
    )
    assert "[8] Roll back the release" in out, "the guide's fix, as an action"
    assert "Suggested severity: SEV-1 (No pod of the service is ready: nothing serves it.)" in out, (
        "a guide without a SEV table still gets an outage called one"
    )
    assert "Verdict: Checks are healthy (5 ok, 3 skipped)" in out and (
        "revision 9 rolled out 16 min ago: ghcr.io/acme/api-gateway 1.9.0 -> 1.8.2 (rollback by chatops"
        in out
    ), "after the rollback: healthy, and the change named as the bot's own fix"
    assert "Warning signs" not in out, "the bot's rollback is no change to suspect"
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
    """Each API call takes 3 s: even the logs check (a list, then every pod's log at once) fits the 10 s budget."""
    result = diagnose_json("slow-apiserver", "pods keep restarting, OOMKilled since the last deploy")
    kube = {k: v for k, v in statuses(result).items() if k.startswith("k8s.")}
    assert kube and {status for status, _ in kube.values()} == {"ok"}, kube


def test_config_check_refuses_fixes_that_only_one_person_could_approve(tmp_path: Path) -> None:
    config = tmp_path / "chatops.yaml"
    text = (ROOT / "config.example.yaml").read_text()
    config.write_text(text.replace("approvers: [U0SRLEAD01, S0SVCONCALL]", "approvers: [U0SRLEAD01]"))
    run = chatops("--config", str(config), "config", "check")
    assert run.returncode == 1
    assert (
        "services.business-logic.approvers: fixes are offered" in run.stderr
        and "only U0SRLEAD01" in run.stderr
    )
    assert chatops("config", "check").returncode == 0, "the bundled example can be approved at 3 a.m."


def test_audit_lists_who_asked_approved_and_what_changed(tmp_path: Path) -> None:
    from datetime import timedelta

    from bot.clock import ManualClock
    from bot.incidents import RequestState
    from bot.store import open_store

    url, clock = f"sqlite:///{tmp_path / 'chatops.db'}", ManualClock()
    with open_store(url, clock) as store:
        incident = store.open_incident("api-gateway", "504s", "C1", "U0BOB")
        preview = {
            "changes": [{"what": "image ghcr.io/acme/api-gateway", "before": "1.9.0", "after": "1.8.2"}]
        }
        request = store.create_request(incident.id, "ai-platform/5xx-errors", "k8s.rollout_undo", "Roll back", {},
                                       preview, "U0BOB", clock.now() + timedelta(minutes=15), 1)  # fmt: skip
        store.approve(request.id, "U0ALICE")
        store.move_request(request.id, [RequestState.EXECUTING], RequestState.SUCCEEDED,
                           outcome={"summary": "rolled back"})  # fmt: skip
    exe = shutil.which("chatops", path=str(Path(sys.executable).parent)) or "chatops"
    env = {"PATH": str(Path(sys.executable).parent), "CHATOPS_STORE_URL": url}
    run = subprocess.run([exe, "audit"], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "requested by U0BOB  image ghcr.io/acme/api-gateway: 1.9.0 -> 1.8.2" in lines[0]
    assert "executing by U0ALICE" in lines[1] and "succeeded" in lines[2] and lines[-1] == "3 audit entries"
    as_json = subprocess.run([exe, "audit", "--json", "--incident", incident.id], capture_output=True, text=True,
                             env=env, timeout=60, check=True)  # fmt: skip
    assert [e["event"] for e in json.loads(as_json.stdout)] == ["requested", "executing", "succeeded"]
