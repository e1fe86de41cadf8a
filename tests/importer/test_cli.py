"""`chatops playbooks import` as a user runs it: files, lint, re-import with hand edits, the round trip."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from bot.playbooks_loader import load_catalog

ROOT = Path(__file__).resolve().parents[2]
GUIDE = ROOT / "guides" / "ai-platform.md"


def chatops(*args: str) -> subprocess.CompletedProcess[str]:
    exe = shutil.which("chatops", path=str(Path(sys.executable).parent)) or "chatops"
    return subprocess.run([exe, *args], capture_output=True, text=True, cwd=ROOT, timeout=120, check=False)


def import_into(out: Path, guide: Path = GUIDE, *extra: str) -> subprocess.CompletedProcess[str]:
    return chatops("playbooks", "import", str(guide), "--guide", "ai-platform", "--service", "api-gateway",
                   "--out", str(out), *extra)  # fmt: skip


def platform_only_config(path: Path) -> Path:
    """The example config with only the ai-platform services, for a playbooks folder of that one guide."""
    config = yaml.safe_load((ROOT / "config.example.yaml").read_text())
    config["services"] = {n: s for n, s in config["services"].items() if s["guide"] == "ai-platform"}
    config["teams"] = {"platform": config["teams"]["platform"]}
    path.write_text(yaml.safe_dump(config))
    return path


def test_import_writes_lint_clean_playbooks_and_a_config_snippet(tmp_path: Path) -> None:
    out = tmp_path / "ai-platform"
    run = import_into(out)
    assert run.returncode == 0, run.stderr
    assert run.stdout.rstrip().endswith("lint: clean")
    assert len(list(out.glob("*.yaml"))) == 11  # ten entries and the triage playbook
    assert (out / "config-snippet.yaml.sample").exists()
    lint = chatops("playbooks", "lint", str(out))
    assert lint.returncode == 0, lint.stdout
    assert "11 files checked, 0 with problems" in lint.stderr
    catalog = load_catalog(tmp_path)
    assert len(catalog) == 10 and catalog.triage("ai-platform") is not None, "the triage is never matched"


def test_the_placeholders_of_the_service_replace_its_literals(tmp_path: Path) -> None:
    import_into(tmp_path / "ai-platform")
    data = yaml.safe_load((tmp_path / "ai-platform" / "high-latency-or-timeouts.yaml").read_text())
    manual = next(s for s in data["diagnostics"] if "manual" in s)
    assert (
        manual["command"]
        == "kubectl exec -it deployment/{deployment} -n {namespace} -- netstat -tlnp | grep :5432"
    )
    scale = {"action": "k8s.scale", "title": "Scale horizontally", "params": {"replicas": 3}}
    assert {**scale, "when": {"facts": ["cpu-high", "over-threshold", "slow"]}} in data["remediations"]


def test_dry_run_reports_and_writes_nothing(tmp_path: Path) -> None:
    run = import_into(tmp_path / "ai-platform", GUIDE, "--dry-run", "--json")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert not (tmp_path / "ai-platform").exists()
    assert report["dry_run"] is True and report["lint"] == []
    latency = next(e for e in report["entries"] if e["id"] == "ai-platform/high-latency-or-timeouts")
    steps = {s["command"]: s for s in latency["steps"] if s["command"]}
    assert steps["kubectl top pods -n arch-separation"]["became"] == ["probe k8s.resource_usage"]
    netstat = next(s for c, s in steps.items() if "netstat" in c)
    assert netstat["became"] == ["probe tcp.connect + manual"]
    assert {f["status"] for f in report["files"]} == {"created"}


def test_reimport_keeps_hand_edits_and_updates_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "ai-platform"
    import_into(out)
    edited = out / "5xx-errors.yaml"
    edited.write_text(edited.read_text().replace("title: 5xx Errors", "title: Gateway 5xx"))
    guide = tmp_path / "ai-platform.md"
    guide.write_text(GUIDE.read_text(encoding="utf-8").replace("- 502 Bad Gateway", "- 502 Bad Gateway\n- 503 from the gateway")
                     .replace("- 504 Gateway Timeout errors", "- 504 Gateway Timeout errors\n- Clients retry"),
                     encoding="utf-8")  # fmt: skip
    again = import_into(out, guide)
    assert again.returncode == 0, again.stderr
    report = again.stdout
    assert f"conflict  {edited} -> new draft {edited}.new (edited by hand since the last import)" in report
    assert "title: Gateway 5xx" in edited.read_text()  # the hand edit survives
    assert "503 from the gateway" in (out / "5xx-errors.yaml.new").read_text()
    assert f"updated   {out / 'high-latency-or-timeouts.yaml'}" in report
    assert "+- Clients retry" in report  # the diff of the regenerated file
    assert "- Clients retry" in (out / "high-latency-or-timeouts.yaml").read_text()
    assert f"unchanged {out / 'alert-fatigue.yaml'}" in report


def diagnose(tmp_path: Path, text: str) -> dict[str, Any]:
    config = platform_only_config(tmp_path / "chatops.yaml")
    run = chatops("--config", str(config), "--playbooks", str(tmp_path / "playbooks"), "diagnose", text,
                  "--service", "api-gateway", "--sandbox", "crashloop-oom", "--json")  # fmt: skip
    assert run.returncode == 0, run.stderr
    return dict(json.loads(run.stdout))


def test_round_trip_the_imported_playbook_matches_and_its_checks_run_on_the_sandbox(tmp_path: Path) -> None:
    import_into(tmp_path / "playbooks" / "ai-platform")
    result = diagnose(tmp_path, "gateway answers 502 Bad Gateway and 500 Internal Server Error")
    assert result["playbook"]["id"] == "ai-platform/5xx-errors"
    findings = {f["probe"]: f for f in result["findings"]}
    assert findings["k8s.pods"]["status"] == "critical"
    assert "CrashLoopBackOff" in findings["k8s.pods"]["summary"]
    assert findings["k8s.logs"]["status"] != "error"


def test_a_service_not_yet_in_the_config_says_how_to_go_on() -> None:
    run = chatops("playbooks", "import", str(GUIDE), "--guide", "shop", "--service", "payments", "--dry-run")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "unknown service 'payments'" in run.stderr and "or import without --service" in run.stderr
