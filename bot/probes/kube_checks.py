"""Judging workloads from what the Kubernetes API returned: logs, events, rollouts, usage (pods: kube_pods).

Each `*_result` turns API objects into a status, one summary line with the numbers, evidence and data.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from bot.faults import Rank, fault
from bot.findings import ProbeResult
from bot.probes.kube_format import (
    ago,
    as_time,
    cpu,
    memory,
    own_rollback,
    plural,
    quantity,
    short,
    table,
)
from bot.severity import Status

if TYPE_CHECKING:
    from bot.probes.kubernetes import EventsParams, LogsParams, ResourceUsageParams, RolloutParams

MAX_EVIDENCE_LINES = 20
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
CHANGE_CAUSE = "kubernetes.io/change-cause"


def worst(*flags: tuple[bool, Status]) -> Status:
    """The first status whose flag is set, else ok."""
    return next((status for flag, status in flags if flag), Status.OK)


# --- logs ---


@dataclass
class LogTail:
    pod: str
    previous: bool
    lines: list[str]


def has_run(pod: Any) -> bool:
    """Whether any container of the pod has started (so the kubelet has logs to give)."""
    for c in pod.status.container_statuses or []:
        if (c.state and (c.state.running or c.state.terminated)) or (
            c.last_state and c.last_state.terminated
        ):
            return True
    return False


def crashed(pod: Any, container: str) -> bool:
    """Whether the container died and is not running again: its previous instance has the reason in its logs."""
    for c in pod.status.container_statuses or []:
        if c.name == container and c.last_state and c.last_state.terminated:
            return not (c.state and c.state.running and c.ready)
    return False


def log_priority(pod: Any) -> tuple[int, str]:
    """Crashed pods first, then not ready ones, then the rest (by name, for a stable choice)."""
    statuses = pod.status.container_statuses or []
    if any(c.last_state and c.last_state.terminated for c in statuses):
        return 0, pod.metadata.name
    return (1 if not all(c.ready for c in statuses) else 2), pod.metadata.name


def pattern_label(pattern: str) -> str:
    return re.sub(r"\\b", "", pattern)


# The line that names what was thrown (`java.lang.OutOfMemoryError: Java heap space`, `MemoryError`,
# `KeyError: 'API_PORT'`, `panic: runtime error: ...`): what a person looks for first in a crash log.
EXCEPTION = re.compile(
    r"^\s*(?:Exception in thread \"[^\"]*\"\s+|Caused by:\s+)?"
    r"(?:[A-Za-z_$][\w$]*\.)*[A-Z][\w$]*(?:Exception|Error|Exit|Interrupt)\b(?::\s.*)?$"
    r"|^\s*panic: .+|^\s*FATAL ERROR: .+"
)
OUT_OF_MEMORY = re.compile(r"OutOfMemory|MemoryError|out of memory|heap out of memory|OOMKilled", re.I)


def logs_result(tails: list[LogTail], params: LogsParams, skipped: int, subject: str = "") -> ProbeResult:
    patterns = [(p, re.compile(p, re.IGNORECASE)) for p in params.patterns]
    counts: Counter[str] = Counter()
    hits: list[tuple[str, str]] = []  # (pod, line), oldest first within each pod: what the thresholds count
    shown: list[tuple[str, str]] = []  # the hits and the exception lines, which the evidence must show
    exceptions: list[str] = []
    for tail in tails:
        for line in tail.lines:
            matched = [p for p, rx in patterns if rx.search(line)]
            thrown = bool(EXCEPTION.search(line))
            counts.update(matched)
            if thrown:
                exceptions.append(line.strip())
            if matched:
                hits.append((tail.pod, line))
            if matched or thrown:
                shown.append((tail.pod, line))
    where = "the previous containers of " if tails and all(t.previous for t in tails) else "the logs of "
    scope = f"{where}{plural(len(tails), 'pod')}" + (f" (of {len(tails) + skipped})" if skipped else "")
    scope += f", last {params.since_minutes} min"
    if hits or exceptions:
        found = ", ".join(f"{pattern_label(p)} x{n}" for p, n in counts.most_common())
        newest = (
            f"exception: {short(exceptions[-1], 120)}" if exceptions else f"newest: {short(hits[-1][1], 120)}"
        )
        summary = f"{plural(len(hits), 'matching line')} in {scope}: {found}; {newest}"
    else:
        summary = f"no {', '.join(pattern_label(p) for p in params.patterns)} in {scope}"
    status = worst(
        (len(hits) >= params.critical_count, Status.CRITICAL), (len(hits) >= params.warn_count, Status.WARN)
    )
    faults = []
    if status != Status.OK:
        facts = ["error-lines", *(["exception"] if exceptions else [])]
        facts += ["out-of-memory"] if any(OUT_OF_MEMORY.search(line) for _, line in shown) else []
        faults.append(fault(f"Logs/{subject}:errors", Rank.SIGN, status, summary, *facts))
    blocks = []
    for tail in tails:
        mine = [line for pod, line in shown if pod == tail.pod][-max(1, MAX_EVIDENCE_LINES // len(tails)) :]
        which = "previous container" if tail.previous else "current container"
        blocks.append(f"== {tail.pod} ({which}, {plural(len(tail.lines), 'line')}) ==")
        blocks += [short(line, 300) for line in mine] or ["(no matching lines)"]
        if tail.previous and tail.lines:  # how the crashed container ended
            blocks += ["-- last lines --", *(short(line, 300) for line in tail.lines[-3:])]
    data = {
        "counts": {p: counts.get(p, 0) for p in params.patterns},
        "matching_lines": len(hits),
        "exceptions": list(dict.fromkeys(short(e, 300) for e in exceptions))[-5:],
        "pods": {t.pod: {"previous": t.previous, "lines": len(t.lines)} for t in tails},
        "faults": faults,
    }
    return ProbeResult(status, summary, "\n".join(blocks), data)


# --- events ---

EVENT_FACTS = {"OOMKilling": "oom-killing", "FailedScheduling": "failed-scheduling", "BackOff": "back-off",
               "FailedMount": "failed-mount", "Evicted": "evicted"}  # fmt: skip


def event_time(event: Any) -> Any:
    series = event.series.last_observed_time if event.series else None
    return as_time(event.last_timestamp or series or event.event_time or event.metadata.creation_timestamp)


def occurrences(event: Any) -> int:
    return int(event.count or (event.series.count if event.series else 1) or 1)


def events_result(
    found: list[Any], prefix: str, params: EventsParams, now: datetime, pods: set[str] | None
) -> ProbeResult:
    """Warning events of the service's objects, grouped by reason. Those of pods that are gone (replaced by a
    rollout or a rollback; Kubernetes keeps events an hour) are history, not the present: counted apart."""
    since = now - timedelta(minutes=params.since_minutes)
    recent = [e for e in found if (event_time(e) or since) >= since]
    recent.sort(key=lambda e: event_time(e) or since, reverse=True)
    gone = [
        e
        for e in recent
        if pods is not None and e.involved_object.kind == "Pod" and e.involved_object.name not in pods
    ]
    recent = [e for e in recent if e not in gone]
    window = f"the last {params.since_minutes} min"
    past = ""
    if gone:
        reasons = ", ".join(dict.fromkeys(e.reason or "" for e in gone))
        count = len({e.involved_object.name for e in gone})
        past = f" ({sum(map(occurrences, gone))} more on {plural(count, 'pod')} that are gone: {reasons})"
    if not recent:
        return ProbeResult(
            Status.OK, f"no Warning events for {prefix}* in {window}{past}", data={"events": [], "faults": []}
        )
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for e in recent:  # newest first, so the first of a group carries its newest message
        group = groups.setdefault(
            (e.reason or "", e.involved_object.kind or ""), {"count": 0, "objects": set()}
        )
        group["count"] += occurrences(e)
        group["objects"].add(e.involved_object.name)
        group.setdefault("newest", e)
    parts = [
        f"{reason} x{g['count']} on {plural(len(g['objects']), kind.lower() or 'object')}"
        for (reason, kind), g in groups.items()
    ]
    newest = recent[0]
    summary = f"{', '.join(parts)} in {window}{past}; newest {ago(event_time(newest), now)}: {short(newest.message or '', 120)}"
    status = worst(
        (any(r in params.critical_reasons for r, _ in groups), Status.CRITICAL), (True, Status.WARN)
    )
    rows = [
        [ago(event_time(e), now), e.reason or "", f"{e.involved_object.kind}/{e.involved_object.name}", str(e.count or 1), short(e.message or "", 160)]
        for e in recent[:MAX_EVIDENCE_LINES]
    ]  # fmt: skip
    faults = [
        fault(f"Events/{prefix}:{reason}", Rank.SIGN,
              Status.CRITICAL if reason in params.critical_reasons else Status.WARN,
              f"{reason} x{g['count']} on {plural(len(g['objects']), kind.lower() or 'object')}: "
              f"{short(g['newest'].message or '', 100)}",
              "warning-events", *([EVENT_FACTS[reason]] if reason in EVENT_FACTS else []))
        for (reason, kind), g in groups.items()
    ]  # fmt: skip
    data = {
        "events": [
            {"reason": r, "kind": k, "count": g["count"], "objects": sorted(g["objects"])}
            for (r, k), g in groups.items()
        ],
        "faults": faults,
    }
    return ProbeResult(
        status, summary, table(["LAST SEEN", "REASON", "OBJECT", "COUNT", "MESSAGE"], rows), data
    )


# --- rollout ---


def _images(rs: Any) -> dict[str, str]:
    return {c.name: c.image for c in rs.spec.template.spec.containers}


def _split_image(image: str) -> tuple[str, str]:
    if "@" in image:
        repo, _, digest = image.partition("@")
        return repo, digest[:19]
    repo, colon, tag = image.rpartition(":")
    return (repo, tag) if colon and "/" not in tag else (image, "latest")


def image_change(before: dict[str, str], after: dict[str, str]) -> str:
    changes = []
    for name, image in after.items():
        old = before.get(name)
        if old and old != image:
            (repo_a, ref_a), (repo_b, ref_b) = _split_image(old), _split_image(image)
            changes.append(f"{repo_b} {ref_a} -> {ref_b}" if repo_a == repo_b else f"{old} -> {image}")
    return ", ".join(changes)


def rolled_out_at(rs: Any, progressing: Any) -> datetime | None:
    """When a ReplicaSet became its deployment's current revision. Its creation, unless it was an old one taken
    up again (a rollback: Kubernetes gives the old ReplicaSet the new revision number, keeps its creation time
    and notes its earlier numbers in revision-history); then the Progressing condition's last update that names
    it, which the deployment controller writes as the rollout moves on."""
    created = as_time(rs.metadata.creation_timestamp)
    if not (rs.metadata.annotations or {}).get(REVISION_HISTORY) or progressing is None:
        return created
    named = f'"{rs.metadata.name}"' in (progressing.message or "")
    updated = as_time(progressing.last_update_time) if named else None
    return max(created, updated) if created and updated else updated or created


def rollout_result(
    deployment: Any, replicasets: list[Any], params: RolloutParams, now: datetime
) -> ProbeResult:
    name, spec, st = deployment.metadata.name, deployment.spec, deployment.status
    desired = spec.replicas if spec.replicas is not None else 1
    updated, ready, available = st.updated_replicas or 0, st.ready_replicas or 0, st.available_replicas or 0
    conditions = {c.type: c for c in st.conditions or []}
    summary = f"{available}/{desired} available"
    if updated < desired:
        summary += f", {updated}/{desired} updated"
    failed = [
        c
        for c in conditions.values()
        if (c.type, c.status) in (("Progressing", "False"), ("ReplicaFailure", "True"))
    ]
    unavailable = conditions.get("Available")
    if unavailable is not None and unavailable.status == "False":
        summary += f" ({unavailable.reason})"
    summary += "".join(f"; {c.reason}: {short(c.message or '', 100).rstrip('.')}" for c in failed)
    revisions = sorted(
        replicasets, key=lambda rs: int((rs.metadata.annotations or {}).get(REVISION, 0)), reverse=True
    )
    recent, ours, rolled, revision = False, False, "", "?"
    if revisions:
        newest = revisions[0]
        notes = newest.metadata.annotations or {}
        created = rolled_out_at(newest, conditions.get("Progressing"))
        revision = notes.get(REVISION, "?")
        # The bot's own rollback is the fix, not a change to suspect.
        ours = own_rollback(revision, notes.get(CHANGE_CAUSE, ""))
        recent = created is not None and now - created < timedelta(minutes=params.recent_minutes) and not ours
        change = image_change(_images(revisions[1]), _images(newest)) if len(revisions) > 1 else ""
        rolled = f"revision {revision} rolled out {ago(created, now) if created else 'at an unknown time'}"
        rolled += f": {change}" if change else (", same image" if len(revisions) > 1 else "")
        summary += f"; {rolled}" + (f" ({short(notes[CHANGE_CAUSE], 80)})" if notes.get(CHANGE_CAUSE) else "")
    down = desired > 0 and available == 0
    status = worst(
        (bool(failed) or down, Status.CRITICAL),
        (recent or available < desired or updated < desired, Status.WARN),
    )
    faults = _rollout_faults(name, revision, rolled if recent else "", failed, down, status,
                             f"{available}/{desired} available")  # fmt: skip
    rows = [
        [
            (rs.metadata.annotations or {}).get(REVISION, "?"),
            ago(as_time(rs.metadata.creation_timestamp) or now, now),
            ", ".join(_images(rs).values()),
            f"{rs.status.ready_replicas or 0}/{rs.spec.replicas or 0}",
            short((rs.metadata.annotations or {}).get(CHANGE_CAUSE, ""), 80),
        ]
        for rs in revisions[: params.history]
    ]
    evidence = (
        f"deployment {name}: desired {desired}, updated {updated}, ready {ready}, available {available}\n"
        + "".join(
            f"condition {c.type}={c.status} {c.reason or ''}: {c.message or ''}\n"
            for c in conditions.values()
        )
        + table(["REVISION", "CREATED", "IMAGE", "READY", "CHANGE-CAUSE"], rows)
    )
    data = {
        "desired": desired, "updated": updated, "ready": ready, "available": available,
        "conditions": {t: c.status for t, c in conditions.items()},
        "revisions": [{"revision": r[0], "image": r[2], "change_cause": r[4]} for r in rows],
        "recent_change": recent,
        "last_change": rolled,
        "own_rollback": ours,
        "faults": faults,
    }  # fmt: skip
    return ProbeResult(status, summary, evidence, data)


def _rollout_faults(
    name: str, revision: str, recent: str, failed: list[Any], down: bool, status: Status, availability: str
) -> list[dict[str, Any]]:
    """A recent rollout is the change a report may point at; a failed one fails; no replica available is a
    sign the pods and endpoints checks explain."""
    faults = []
    if recent:
        facts = ["recent-rollout", *(["unavailable"] if down else [])]
        faults.append(fault(f"Deployment/{name}:revision-{revision}", Rank.CHANGE, status, recent, *facts))
    for condition in failed:
        text = (
            f"rollout of {name} failed: {condition.reason}: {short(condition.message or '', 100).rstrip('.')}"
        )
        faults.append(fault(f"Deployment/{name}:{condition.reason}", Rank.FAILING, Status.CRITICAL, text,
                            "rollout-failed"))  # fmt: skip
    if down and not recent and not failed:
        faults.append(fault(f"Deployment/{name}:unavailable", Rank.SIGN, Status.CRITICAL,
                            f"deployment {name}: {availability}", "unavailable"))  # fmt: skip
    if status == Status.WARN and not faults:
        faults.append(fault(f"Deployment/{name}:progressing", Rank.SIGN, Status.WARN,
                            f"deployment {name}: {availability}, rollout in progress", "unavailable"))  # fmt: skip
    return faults


# --- resource usage ---


def _limits(pod: Any) -> dict[str, tuple[dict[str, Decimal | None], str]]:
    """Per container: {cpu, memory} limits (requests when there is no limit) and which of the two."""
    found = {}
    for c in pod.spec.containers:
        res = c.resources
        limits, requests = (res.limits or {}) if res else {}, (res.requests or {}) if res else {}
        basis = "limit" if limits else "request"
        values = limits or requests
        found[c.name] = (
            {"cpu": quantity(values.get("cpu")), "memory": quantity(values.get("memory"))},
            basis,
        )
    return found


@dataclass
class Usage:
    pod: str
    container: str
    kind: str  # cpu | memory
    used: Decimal
    bound: Decimal | None
    basis: str  # limit | request

    @property
    def percent(self) -> float | None:
        return float(self.used / self.bound * 100) if self.bound else None

    def amount(self) -> str:
        fmt = cpu if self.kind == "cpu" else memory
        return (
            f"{fmt(self.used)} of {fmt(self.bound)}" if self.bound else f"{fmt(self.used)} (no {self.basis})"
        )

    def sentence(self) -> str:
        name = "CPU" if self.kind == "cpu" else "memory"
        return f"{name} {self.percent:.0f}% of {self.basis} on {self.pod} ({self.amount()})"


def usage_result(
    running: list[Any], metrics: list[dict[str, Any]], params: ResourceUsageParams
) -> ProbeResult:
    if not metrics:  # nothing measured is nothing known
        return ProbeResult(
            Status.ERROR,
            f"could not measure: no usage metrics for the {plural(len(running), 'running pod')} yet",
        )
    specs = {p.metadata.name: _limits(p) for p in running}
    usages = []
    for item in metrics:
        pod = item["metadata"]["name"]
        for c in item.get("containers", []):
            bounds, basis = specs.get(pod, {}).get(c["name"], ({}, "limit"))
            for kind in ("memory", "cpu"):
                used = quantity(c.get("usage", {}).get(kind))
                if used is not None:
                    usages.append(Usage(pod, c["name"], kind, used, bounds.get(kind), basis))
    top: dict[str, Usage] = {}  # the container closest to its limit, per resource
    for u in usages:
        if u.percent is not None and u.percent > (top[u.kind].percent or 0.0 if u.kind in top else -1.0):
            top[u.kind] = u
    mem, cpu_pct = ((top[k].percent or 0.0) if k in top else 0.0 for k in ("memory", "cpu"))
    status = worst(
        (mem >= params.memory_critical_percent or cpu_pct >= params.cpu_critical_percent, Status.CRITICAL),
        (mem >= params.memory_warn_percent or cpu_pct >= params.cpu_warn_percent, Status.WARN),
    )
    without = sorted(set(specs) - {m["metadata"]["name"] for m in metrics})
    limits = {"memory": (params.memory_warn_percent, params.memory_critical_percent),
              "cpu": (params.cpu_warn_percent, params.cpu_critical_percent)}  # fmt: skip
    faults = []
    for kind, usage in top.items():  # only what is near its limit: an unremarkable value is no evidence
        warn_at, critical_at = limits[kind]
        if (usage.percent or 0.0) >= warn_at:
            level = Status.CRITICAL if (usage.percent or 0.0) >= critical_at else Status.WARN
            faults.append(fault(f"Usage/{usage.pod.rsplit('-', 2)[0]}:{kind}", Rank.SATURATED, level,
                                usage.sentence(), f"{kind}-high"))  # fmt: skip
    if faults:
        summary = "; ".join(f["text"] for f in faults)
    else:
        summary = (
            "; ".join(u.sentence() for u in top.values()) or "no limits or requests to compare usage with"
        )
    if without:
        summary += f" (no metrics for {plural(len(without), 'pod')})"
    rows = [
        [u.pod, u.container, u.kind, u.amount(), f"{u.percent:.0f}%" if u.percent is not None else "-"]
        for u in usages
    ]
    evidence = table(["POD", "CONTAINER", "RESOURCE", "USAGE", "PERCENT"], rows)
    evidence += "".join(
        f"\n{pod}: no metrics (restarting, or metrics-server has no sample yet)" for pod in without
    )
    data = {"memory_percent": round(mem, 1), "cpu_percent": round(cpu_pct, 1), "without_metrics": without,
            "faults": faults}  # fmt: skip
    return ProbeResult(status, summary, evidence, data)
