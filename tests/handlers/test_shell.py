"""`chatops shell`: what a person types goes through the real Bolt app; they see the bot's messages, live."""

from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

from bot.playbooks_loader import Catalog
from bot.settings import Settings
from handlers.shell.repl import run_shell

OOM = "/diagnose api-gateway pods keep restarting, OOMKilled since the last deploy"


def play(settings: Settings, catalog: Catalog, scenario: str, *lines: str) -> str:
    out = io.StringIO()
    assert run_shell(settings, catalog, scenario, lines, out) == 0
    return out.getvalue()


def test_the_checklist_fills_in_live_and_buttons_press_by_number(
    example_settings: Settings, catalog: Catalog
) -> None:
    out = play(example_settings, catalog, "slow-apiserver", OOM, "press SEV-1", "as bob", "press 1")
    assert "thread · chatops (updated):" in out, "the checklist is shown as it changes"
    pods = [line for line in out.splitlines() if "Pods that are not Running" in line]
    assert "running…" in pods[0] and "running…" not in pods[-1]  # whatever it found (the API server is slow)
    assert "(alice pressed [" in out and "] SEV-1)" in out and "@alice set the severity to SEV-1." in out
    assert "[1] Acknowledge" in out, "the incident's own buttons, on its channel message"
    assert "(bob pressed [1] Acknowledge)" in out and "@bob acknowledged the incident." in out


def test_mistakes_in_the_shell_get_a_hint(example_settings: Settings, catalog: Catalog) -> None:
    out = play(example_settings, catalog, "healthy", "press 9", "as carol", "/weather london", "help")
    assert "No button '9' on screen" in out
    assert "Who? People here: alice, bob." in out
    assert "/weather is not a command here" in out
    assert "press 3 | press SEV-1" in out


def test_replies_go_to_the_current_incident_thread(example_settings: Settings, catalog: Catalog) -> None:
    out = play(
        example_settings, catalog, "crashloop-oom", OOM, "the certificate expired, TLS handshake fails"
    )
    assert "That sounds like TLS certificate errors" in out


def test_chatops_shell_reads_what_is_typed_on_stdin(tmp_path: Path) -> None:
    chatops = Path(sys.executable).parent / "chatops"
    typed = "/diagnose\n/diagnose api-gateway pods keep restarting, OOMKilled\nquit\n/diagnose never read\n"
    run = subprocess.run([str(chatops), "shell", "--sandbox"], input=typed, capture_output=True, text=True,
                         cwd=tmp_path, timeout=120, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "alice> /diagnose\n  (a form opens for alice)\n  │ Diagnose" in run.stdout
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


def test_the_shell_at_a_terminal_prompts_and_answers(tmp_path: Path) -> None:
    """At a terminal (a pseudo-terminal here) the shell prompts, answers each line, and quits on `quit`."""
    chatops = Path(sys.executable).parent / "chatops"
    pid, terminal = pty.fork()
    if pid == 0:  # the child: the shell, at a terminal
        os.chdir(tmp_path)
        os.execv(str(chatops), [str(chatops), "shell", "--sandbox"])
    seen = b""

    def read_until(text: bytes) -> None:
        nonlocal seen
        while text not in seen:
            ready, _, _ = select.select([terminal], [], [], 60)
            assert ready, f"the shell never showed {text!r}; it showed:\n{seen.decode(errors='replace')}"
            seen += os.read(terminal, 65536)

    try:
        read_until(b"alice> ")
        os.write(terminal, b"/diagnose api-gateway pods keep restarting, OOMKilled since the last deploy\n")
        read_until(b"Verdict:")
        read_until(b"alice> ")
        os.write(terminal, b"quit\n")
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
    finally:
        os.close(terminal)
    assert b"Type `help` for what you can do." in seen and b"CrashLoopBackOff" in seen


def test_the_shell_runs_an_incident_moves_the_clock_and_delivers_alerts(
    example_settings: Settings, catalog: Catalog
) -> None:
    out = play(example_settings, catalog, "healthy", "/incident declare api-gateway checkout down sev 1", "wait 16m",
               "/incident ack", "/incident commander @bob", "/incident resolve fixed",
               "alert DatabaseDown service=tldr-api severity=critical tldr-api cannot reach PostgreSQL",
               "alert DatabaseDown resolved", "wait soon")  # fmt: skip
    assert "(PagerDuty got: trigger INC-" in out and "[SEV-1] api-gateway: checkout down -> 202)" in out
    assert (
        "(16m later:" in out
        and "Escalating to the on-call @platform-oncall: not acknowledged after 15 min" in out
    )
    assert "(PagerDuty got: acknowledge INC-" in out and "made @bob the incident commander" in out
    assert "📝 Summary of INC-" in out and "Resolution: fixed" in out
    assert "(Alertmanager delivered DatabaseDown firing: the bot answered 200" in out
    assert "The severity is SEV-1, from the alert's severity label." in out
    assert "🟢 Alert DatabaseDown resolved: tldr-api cannot reach PostgreSQL" in out
    assert "expected a duration such as 15m" in out


def test_a_new_form_starts_empty_and_a_refused_one_keeps_what_was_filled_in(
    example_settings: Settings, catalog: Catalog
) -> None:
    out = play(example_settings, catalog, "healthy", "/diagnose", "fill service api-gateway", "submit",
               "/diagnose", "fill what pods restart", "submit", "fill service api-gateway", "submit")  # fmt: skip
    assert out.count("(the form says)") == 2
    assert "(the form says) Pick one of the services" in out, "the first form's service is not the second's"
    assert out.count("#incidents · chatops:\n  🚨 INC-") == 1
