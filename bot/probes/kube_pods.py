"""Judging pods from what the Kubernetes API returned: the service's own, or every pod of its namespace."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import TYPE_CHECKING

from bot.faults import Rank, fault
from bot.findings import ProbeResult
from bot.probes.kube_format import PodState, ago, clock, plural, table
from bot.severity import Status

if TYPE_CHECKING:
    from bot.probes.kubernetes import PodsParams

MAX_TABLE_ROWS = 60


def _pod_problems(states: list[PodState], params: PodsParams) -> tuple[str, list[str], Status]:
    """The reason that names what is wrong (for the fault's key), the facts, and the status of some pods."""
    total, ready = len(states), sum(s.ready for s in states)
    crash = next((r for s in states for r in s.waiting if r in params.critical_reasons), None)
    died = next(
        (s.last_reason for s in states if not s.ready and s.last_reason in params.critical_terminations), None
    )
    facts = ["crash-loop"] if crash else []
    facts += ["oom-killed"] if any(s.last_reason == "OOMKilled" for s in states if not s.ready) else []
    facts += ["not-ready"] if ready < total else []
    facts += ["none-ready"] if total and not ready else []
    facts += ["pending"] if any(s.phase == "Pending" and not s.ready for s in states) else []
    if crash or died or ready / total < params.critical_ready_below:
        return crash or died or "not-ready", facts, Status.CRITICAL
    if ready < total:
        return "not-ready", facts, Status.WARN
    if any(s.restarts > params.warn_restarts for s in states):
        return "restarts", ["restarts"], Status.WARN
    return "", [], Status.OK


def _pod_parts(states: list[PodState], now: datetime) -> list[str]:
    """`3 CrashLoopBackOff`, the last exit, `N restarts`: what `kubectl get pods` says of them, condensed."""
    problems = Counter(s.status for s in states if not s.ready)
    parts = [f"{n} {reason}" for reason, n in problems.most_common()]
    unschedulable = next((s.unschedulable for s in states if s.unschedulable and not s.ready), None)
    if unschedulable:
        parts = [f"{p} ({unschedulable})" if p.endswith(" Pending") else p for p in parts]
    exited = [s for s in states if s.last_finished]
    if exited:
        last = max(exited, key=lambda s: s.last_finished or 0)
        assert last.last_finished is not None
        parts.append(
            f"last exit {last.last_reason} ({last.last_exit_code}) at {clock(last.last_finished, now)}"
        )
    return parts


def pods_result(
    states: list[PodState], params: PodsParams, now: datetime, namespace: str | None = None
) -> ProbeResult:
    """The service's pods; with `namespace`, every pod of it (`kubectl get pods -n NS | grep -v Running`),
    so a dependency that is down is seen too."""
    if namespace is not None:
        return _namespace_pods(states, params, namespace, now)
    total, ready = len(states), sum(s.ready for s in states)
    restarts = sum(s.restarts for s in states)
    reason, facts, status = _pod_problems(states, params)
    parts = _pod_parts(states, now)
    if restarts and (status == Status.OK or reason == "restarts"):
        parts.append(plural(restarts, "restart"))
    summary = f"{ready}/{total} pods ready{': ' if ready < total else '; '}{'; '.join(parts) or plural(restarts, 'restart')}"
    workload = states[0].workload if len({s.workload for s in states}) == 1 else params.selector
    faults = []
    if status != Status.OK:
        rank = Rank.FAILING if status == Status.CRITICAL else Rank.SIGN
        faults.append(fault(f"Pods/{workload}:{reason}", rank, status, summary, *facts))
    data = {"scope": "service", "ready": ready, "total": total, "restarts": restarts,
            "pods": [s.as_data() for s in states], "faults": faults}  # fmt: skip
    return ProbeResult(status, summary, _pods_table(states, now), data)


def _namespace_pods(states: list[PodState], params: PodsParams, namespace: str, now: datetime) -> ProbeResult:
    live = [s for s in states if s.phase != "Succeeded"]  # completed jobs are not a problem
    groups: dict[str, list[PodState]] = {}
    for state in live:
        groups.setdefault(state.workload, []).append(state)
    faults, texts = [], []
    for workload, members in sorted(groups.items()):
        reason, facts, status = _pod_problems(members, params)
        if status == Status.OK or reason == "restarts":
            continue
        ready = sum(s.ready for s in members)
        status = Status.CRITICAL if status == Status.CRITICAL or ready == 0 else Status.WARN
        text = f"{workload} {ready}/{len(members)} ready: {'; '.join(_pod_parts(members, now))}"
        rank = Rank.FAILING if status == Status.CRITICAL else Rank.SIGN
        faults.append(fault(f"Pods/{workload}:{reason}", rank, status, text, *facts))
        texts.append(text)
    not_ready = sum(not s.ready for s in live)
    if faults:
        summary = f"{not_ready} of {len(live)} pods in {namespace} not ready: {'; '.join(texts)}"
    else:
        summary = f"all {len(live)} pods in {namespace} ready"
    status = max((Status(f["status"]) for f in faults), key=[Status.OK, Status.WARN, Status.CRITICAL].index,
                 default=Status.OK)  # fmt: skip
    data = {"scope": "namespace", "namespace": namespace, "ready": len(live) - not_ready, "total": len(live),
            "workloads": sorted(groups), "faults": faults}  # fmt: skip
    return ProbeResult(status, summary, _pods_table(sorted(states, key=lambda s: s.ready), now), data)


def _pods_table(states: list[PodState], now: datetime) -> str:
    rows = [
        [
            s.name,
            f"{s.ready_containers}/{s.containers}",
            s.status,
            str(s.restarts),
            f"{s.last_reason} ({s.last_exit_code}) {ago(s.last_finished, now)}" if s.last_finished else "",
            s.node or "",
        ]
        for s in states[:MAX_TABLE_ROWS]
    ]
    evidence = table(["POD", "READY", "STATUS", "RESTARTS", "LAST TERMINATION", "NODE"], rows)
    return evidence + "".join(f"\n{s.name}: {s.unschedulable}" for s in states if s.unschedulable)
