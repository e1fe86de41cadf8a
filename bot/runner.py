"""Run a playbook's probes concurrently, each under its own timeout and all under one deadline.

Each finding is redacted and reported (the `on_finding` callback) the moment it completes, so Slack and the
terminal show progress; a slow or failing system never holds up the others, and no exception escapes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

from bot.clock import SYSTEM_CLOCK, Clock
from bot.config import Service
from bot.findings import Diagnosis, Finding, ProbeResult, diagnose
from bot.metrics import metrics
from bot.playbook import Playbook, ProbeStep
from bot.probes.base import Clients, ProbeContext, ProbeFailure, Skip
from bot.redaction import redact
from bot.registry import PROBES, warm_up
from bot.severity import Status

OnFinding = Callable[[Finding], None]


@dataclass(frozen=True)
class RunLimits:
    probe_timeout_s: float = 10.0
    deadline_s: float = 30.0
    max_workers: int = 16


@dataclass
class Runner:
    """Runs playbooks for services of the catalogue with shared clients."""

    clients: Clients = field(default_factory=Clients)
    limits: RunLimits = field(default_factory=RunLimits)
    clock: Clock = SYSTEM_CLOCK  # the probes' "now" (their deadlines are monotonic time)

    def run(
        self, playbook: Playbook, service_name: str, service: Service, on_finding: OnFinding | None = None
    ) -> Diagnosis:
        steps = playbook.probes
        warm_up(
            step.probe for step in steps
        )  # before the deadlines start: importing a client is not the API's time
        started = time.monotonic()
        overall = started + self.limits.deadline_s
        findings: dict[str, Finding] = {}
        pool = ThreadPoolExecutor(
            max_workers=min(self.limits.max_workers, max(1, len(steps))), thread_name_prefix="probe"
        )
        pending: dict[Future[Finding], tuple[ProbeStep, float, float]] = {}  # step, submitted, deadline
        try:
            for step in steps:
                submitted = time.monotonic()
                deadline = min(submitted + self.limits.probe_timeout_s, overall)
                context = ProbeContext(service_name, service, self.clients, deadline, clock=self.clock)
                pending[pool.submit(self._run_step, step, context)] = (step, submitted, deadline)

            def report(step: ProbeStep, finding: Finding) -> None:
                findings[step.key] = finding
                metrics().probe_seconds.labels(step.probe).observe(finding.duration_ms / 1000)
                metrics().probe_results.labels(step.probe, finding.status.value).inc()
                if on_finding is not None:
                    on_finding(finding)

            while pending:
                next_deadline = min(deadline for _, _, deadline in pending.values())
                timeout = max(0.0, next_deadline - time.monotonic())
                done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
                for future in done:
                    report(pending.pop(future)[0], future.result())
                now = time.monotonic()
                for future, (step, submitted, deadline) in list(pending.items()):
                    if now >= deadline:  # the thread is abandoned; its client timeout ends it soon after
                        del pending[future]
                        waited = deadline - submitted
                        timed_out = ProbeResult(Status.ERROR, f"timed out after {waited:.0f} s")
                        report(step, _finding(step, timed_out, waited))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
        ordered = [findings[step.key] for step in steps]
        return diagnose(playbook, ordered, (time.monotonic() - started) * 1000)

    @staticmethod
    def _run_step(step: ProbeStep, context: ProbeContext) -> Finding:
        started = time.monotonic()
        try:
            run = PROBES[step.probe].run
            assert run is not None, f"probe {step.probe} has no function"
            result = run(context, step.typed_params)
        except Skip as skip:
            result = ProbeResult(Status.SKIPPED, str(skip))
        except ProbeFailure as failure:
            result = ProbeResult(Status.ERROR, str(failure))
        except Exception as err:  # a probe bug must become a finding, never a crashed incident
            result = ProbeResult(Status.ERROR, f"probe failed: {type(err).__name__}: {err}")
        return _finding(step, result, time.monotonic() - started)


def _finding(step: ProbeStep, result: ProbeResult, seconds: float) -> Finding:
    return Finding(
        step=step.key,
        probe=step.probe,
        title=step.title or PROBES[step.probe].summary,
        status=result.status,
        summary=redact(result.summary),
        evidence=redact(result.evidence),
        data=_redact_data(result.data),
        duration_ms=seconds * 1000,
    )


def _redact_data(value: Any) -> Any:
    """Structured data leaves the engine too (JSON output, the store): mask every string in it."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {key: _redact_data(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_data(item) for item in value]
    return value
