"""The runner: probes run concurrently, each finding is reported as it completes, slow systems time out alone."""

from __future__ import annotations

from pathlib import Path

from builders import playbook, service
from fakes.http_server import RecordingServer

from bot.findings import Finding
from bot.runner import RunLimits, Runner
from bot.severity import Sev, Status


def health_checks(url: str) -> list[dict[str, object]]:
    return [
        {"probe": "http.check", "id": "fast", "title": "Fast", "params": {"url": f"{url}/fast"}},
        {
            "probe": "http.check",
            "id": "slow",
            "title": "Slow",
            "params": {"url": f"{url}/slow", "timeout_s": 30},
        },
        {"probe": "http.check", "id": "down", "title": "Down", "params": {"url": f"{url}/down"}},
        {
            "probe": "prometheus.query",
            "id": "p95",
            "origin": "invented",
            "params": {"query": "up", "label": "up"},
        },
    ]


def test_findings_stream_in_completion_order_and_a_slow_system_times_out_alone(tmp_path: Path) -> None:
    with RecordingServer() as server:
        server.route("/fast", json_body={"status": "ok"})
        server.route("/down", status=503, text="upstream connect error")
        server.route("/slow", json_body={"status": "ok"}, delay_s=30)
        book = playbook(
            tmp_path,
            health_checks(server.url),
            severity={
                "default": "SEV-3",
                "hints": [{"sev": "SEV-1", "when": {"probe": "down"}, "why": "Health endpoint failing."}],
            },
        )
        seen: list[Finding] = []
        runner = Runner(limits=RunLimits(probe_timeout_s=2.0, deadline_s=8.0))
        diagnosis = runner.run(book, "demo", service(), on_finding=seen.append)

    by_step = {f.step: f for f in diagnosis.findings}
    assert [f.step for f in diagnosis.findings] == [
        "fast",
        "slow",
        "down",
        "p95",
    ]  # playbook order in the roll-up
    assert seen[-1].step == "slow", "the slow probe is reported last, after the others completed"
    assert by_step["fast"].status == Status.OK
    assert by_step["down"].status == Status.CRITICAL and "503" in by_step["down"].summary
    # The service itself not answering in time is the finding (critical), named by the probe.
    assert by_step["slow"].status == Status.CRITICAL and "no answer within 1.5 s" in by_step["slow"].summary
    assert by_step["p95"].status == Status.SKIPPED and "prometheus_url" in by_step["p95"].summary
    assert diagnosis.suggested_sev == Sev.SEV1
    assert diagnosis.sev_reasons == ["Health endpoint failing."]
    assert diagnosis.verdict.startswith("Problem confirmed: ")
    assert diagnosis.verdict.endswith("(2 critical, 1 ok, 1 skipped)")
    assert server.methods() == {"GET"}


def test_remediations_are_offered_only_when_their_findings_occur(tmp_path: Path) -> None:
    with RecordingServer() as server:
        server.route("/health", json_body={"checks": {"circuit_breaker": "open"}})
        book = playbook(
            tmp_path,
            [{"probe": "http.check", "id": "cb", "params": {"url": f"{server.url}/health",
                                                          "json_fields": {"checks.circuit_breaker": "closed"}}}],
            remediations=[
                {"action": "k8s.rollout_restart", "title": "Restart to reset the breaker",
                 "when": {"probe": "cb", "status": ["warn", "critical"]}},
                {"action": "k8s.scale", "title": "Scale up", "params": {"replicas": 3},
                 "when": {"probe": "cb", "facts": ["slow"]}},
            ],
        )  # fmt: skip
        diagnosis = Runner().run(book, "demo", service())
    assert "circuit" in diagnosis.findings[0].summary
    assert [a.title for a in diagnosis.remediations] == ["Restart to reset the breaker"]


def test_the_overall_deadline_bounds_the_whole_run(tmp_path: Path) -> None:
    with RecordingServer() as server:
        server.route("/slow", json_body={}, delay_s=30)
        steps = [{"probe": "http.check", "id": f"s{i}", "params": {"url": f"{server.url}/slow", "timeout_s": 30}}
                 for i in range(3)]  # fmt: skip
        diagnosis = Runner(limits=RunLimits(probe_timeout_s=20, deadline_s=3.0)).run(
            playbook(tmp_path, steps), "demo", service()
        )
    # Each GET gets what is left of the run's 3 s (less a margin to report in), not its own 20 or 30 s.
    assert {f.status for f in diagnosis.findings} == {Status.CRITICAL}
    assert all("no answer within 2." in f.summary for f in diagnosis.findings), [
        f.summary for f in diagnosis.findings
    ]
