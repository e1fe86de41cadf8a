"""Wording helpers for the Kubernetes probes: times, quantities, pod states, selectors, tables."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

MiB = Decimal(2**20)

# The change-cause a rollback by the bot leaves on the revision it creates, so a later check can tell the fix
# from the change it undid. It names the revision it becomes: a later rollout that inherits the annotation (the
# Deployment keeps it until something overwrites it) is not taken for the rollback.
_OWN_ROLLBACK = re.compile(r"rollback by chatops to revision \d+ as revision (\d+)\b(?:: )?")


def rollback_cause(to: int | None, becomes: int, cause: str) -> str:
    """The change-cause of the revision a rollback to revision `to` creates, keeping what that revision was."""
    cause = _OWN_ROLLBACK.sub("", cause, count=1)  # back to a revision that was itself a rollback
    return f"rollback by chatops to revision {to} as revision {becomes}" + (f": {cause}" if cause else "")


def own_rollback(revision: str, cause: str) -> bool:
    """Whether revision `revision` is one the bot's rollback created (its change-cause says so, for it)."""
    found = _OWN_ROLLBACK.match(cause)
    return found is not None and found.group(1) == revision


def as_time(value: Any) -> datetime | None:
    """A datetime from the client's datetime or a custom object's RFC 3339 string."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, str) and value:
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    return None


def clock(when: datetime, now: datetime) -> str:
    """`14:02 UTC` today-ish, `Mar 14 14:02 UTC` otherwise."""
    when = when.astimezone(UTC)
    if abs((now - when).total_seconds()) < 20 * 3600:
        return when.strftime("%H:%M UTC")
    return f"{when:%b} {when.day} {when:%H:%M} UTC"


def ago(when: datetime, now: datetime) -> str:
    """`40 s ago`, `14 min ago`, `3 h ago`, `6 d ago` (or `in 60 d` for future times), as of `now`."""
    seconds = (now - when).total_seconds()
    span, future = abs(seconds), seconds < 0
    if span < 60:
        text = f"{span:.0f} s"
    elif span < 90 * 60:
        text = f"{span / 60:.0f} min"
    elif span < 36 * 3600:
        text = f"{span / 3600:.0f} h"
    else:
        text = f"{span / 86400:.0f} d"
    return f"in {text}" if future else f"{text} ago"


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes quantity ("250m", "512Mi", "123456789n") as a number, None when absent or invalid."""
    if value in (None, ""):
        return None
    try:
        from kubernetes.utils.quantity import (
            parse_quantity,  # the client's package loads slowly: on first use
        )

        return Decimal(parse_quantity(value))
    except ValueError:
        return None


def memory(value: Decimal) -> str:
    return f"{value / MiB / 1024:.1f}Gi" if value >= 1024 * MiB else f"{value / MiB:.0f}Mi"


def cpu(value: Decimal) -> str:
    return f"{value * 1000:.0f}m"


def short(text: str, limit: int = 140) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def table(header: list[str], rows: list[list[str]]) -> str:
    """Left-aligned columns, like kubectl's output."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def selector_labels(selector: str) -> dict[str, str]:
    """The equality terms of a label selector (`app=x,tier=y`) as labels."""
    terms = (re.fullmatch(r"\s*([^!=\s]+)\s*==?\s*(\S+)\s*", t) for t in selector.split(","))
    return {m.group(1): m.group(2) for m in terms if m}


def selects(selector: Any, labels: dict[str, str]) -> bool:
    """Whether a LabelSelector (matchLabels, matchExpressions) selects these labels; empty selects all."""
    if selector is None:
        return True
    for key, value in (selector.match_labels or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.match_expressions or []:
        present, values = expr.key in labels, set(expr.values or [])
        matched = {
            "In": present and labels[expr.key] in values,
            "NotIn": not present or labels[expr.key] not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(expr.operator, False)
        if not matched:
            return False
    return True


def describe_selector(selector: Any) -> str:
    if selector is None:
        return "all"
    terms = [f"{k}={v}" for k, v in (selector.match_labels or {}).items()]
    terms += [f"{e.key} {e.operator} ({','.join(e.values or [])})" for e in selector.match_expressions or []]
    return ",".join(terms) or "all"


@dataclass
class PodState:
    """What `kubectl get pods` and `describe` say about one pod, condensed."""

    name: str
    phase: str
    ready: bool
    containers: int
    ready_containers: int
    restarts: int
    waiting: list[str]
    last_reason: str | None = None
    last_exit_code: int | None = None
    last_finished: datetime | None = None
    unschedulable: str | None = None
    node: str | None = None
    workload: str = ""  # the Deployment, StatefulSet, DaemonSet or Job it belongs to (else the pod itself)

    @property
    def status(self) -> str:
        """The STATUS column: the first waiting reason, else the phase (noting a running pod that is not ready)."""
        if self.waiting:
            return self.waiting[0]
        return "running but not ready" if self.phase == "Running" and not self.ready else self.phase

    def as_data(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_finished"] = self.last_finished.isoformat() if self.last_finished else None
        return data


def workload_of(pod: Any) -> str:
    """The name of what runs the pod: a ReplicaSet's Deployment (its name without the template hash), else
    the owner's name, else the pod's own."""
    owners = pod.metadata.owner_references or []
    owner = next((o for o in owners if o.controller), owners[0] if owners else None)
    if owner is None:
        return str(pod.metadata.name)
    hash_label = (pod.metadata.labels or {}).get("pod-template-hash")
    if owner.kind == "ReplicaSet" and hash_label and owner.name.endswith(f"-{hash_label}"):
        return str(owner.name.removesuffix(f"-{hash_label}"))
    return str(owner.name)


def pod_state(pod: Any) -> PodState:
    status = pod.status
    statuses = [*(status.init_container_statuses or []), *(status.container_statuses or [])]
    main = status.container_statuses or []
    conditions = {c.type: c for c in status.conditions or []}
    ready = conditions.get("Ready") is not None and conditions["Ready"].status == "True"
    state = PodState(
        name=pod.metadata.name,
        phase="Terminating" if pod.metadata.deletion_timestamp else (status.phase or "Unknown"),
        ready=ready,
        containers=len(pod.spec.containers),
        ready_containers=sum(1 for c in main if c.ready),
        restarts=sum(c.restart_count or 0 for c in statuses),
        waiting=[
            c.state.waiting.reason for c in statuses if c.state and c.state.waiting and c.state.waiting.reason
        ],
        node=pod.spec.node_name,
        workload=workload_of(pod),
    )
    for c in statuses:
        terminated = c.last_state.terminated if c.last_state else None
        finished = as_time(terminated.finished_at) if terminated else None
        if terminated and (state.last_finished is None or (finished and finished > state.last_finished)):
            state.last_reason, state.last_exit_code = terminated.reason, terminated.exit_code
            state.last_finished = finished
    scheduled = conditions.get("PodScheduled")
    if scheduled is not None and scheduled.status == "False":
        state.unschedulable = (
            f"{scheduled.reason}: {scheduled.message}" if scheduled.message else scheduled.reason
        )
    return state
