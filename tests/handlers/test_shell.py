"""`chatops shell`: what a person types goes through the real Bolt app; they see the bot's messages, live."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

from bot.config import Config
from bot.playbooks_loader import Catalog
from handlers.shell.repl import run_shell

OOM = "/diagnose api-gateway pods keep restarting, OOMKilled since the last deploy"


def play(config: Config, catalog: Catalog, scenario: str, *lines: str) -> str:
    out = io.StringIO()
    assert run_shell(config, catalog, scenario, lines, out) == 0
    return out.getvalue()


def test_the_checklist_fills_in_live_and_buttons_press_by_number(
    example_config: Config, catalog: Catalog
) -> None:
    out = play(example_config, catalog, "slow-apiserver", OOM, "press 3", "as bob", "press 6")
    assert "running…" in out and "thread · chatops (updated):" in out, "the checklist is shown as it changes"
    assert out.index("running…") < out.index("3/3 pods ready; 0 restarts")
    assert "[3] SEV-1" in out and "(alice pressed [3] SEV-1)" in out
    assert "@alice set the severity to SEV-1." in out
    assert "(bob pressed [6] SEV-4)" in out and "@bob set the severity to SEV-4." in out


def test_mistakes_in_the_shell_get_a_hint(example_config: Config, catalog: Catalog) -> None:
    out = play(example_config, catalog, "healthy", "press 9", "as carol", "/weather london", "help")
    assert "No button '9' on screen" in out
    assert "Who? People here: alice, bob." in out
    assert "/weather is not a command here" in out
    assert "press 3 | press SEV-1" in out


def test_replies_go_to_the_current_incident_thread(example_config: Config, catalog: Catalog) -> None:
    out = play(example_config, catalog, "crashloop-oom", OOM, "the certificate expired, TLS handshake fails")
    assert "That sounds like TLS certificate errors" in out


def test_chatops_shell_reads_what_is_typed_on_stdin(tmp_path: Path) -> None:
    chatops = Path(sys.executable).parent / "chatops"
    typed = "/diagnose\n/diagnose api-gateway pods keep restarting, OOMKilled\nquit\n/diagnose never read\n"
    run = subprocess.run([str(chatops), "shell", "--sandbox"], input=typed, capture_output=True, text=True,
                         cwd=tmp_path, timeout=120, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "alice> /diagnose\n  (only alice sees this) Usage: `/diagnose [service] <symptom>`" in run.stdout
    assert "CrashLoopBackOff" in run.stdout
    assert "never read" not in run.stdout, "quit ends the session"


def test_a_script_file_plays_like_typing(tmp_path: Path) -> None:
    script = tmp_path / "incident.txt"
    script.write_text("# a comment\n/diagnose api-gateway 504s since the deploy\n")
    chatops = Path(sys.executable).parent / "chatops"
    run = subprocess.run([str(chatops), "--config", str(ROOT / "config.example.yaml"), "shell", "--sandbox",
                          "healthy", "--script", str(script)], capture_output=True, text=True, timeout=120,
                         check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "# a comment\n\nalice> /diagnose api-gateway 504s since the deploy" in run.stdout
    assert "*Verdict:*" not in run.stdout and "Verdict:" in run.stdout
