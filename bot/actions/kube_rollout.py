"""Pure functions over Deployments, ReplicaSets and pods as JSON: kubectl's rollout logic and its wording.

- revision history and `rollout undo`'s target and patch (kubectl pkg/polymorphichelpers/rollback.go);
- what a template change changes, as `Change`s a person can check (images, env, resources);
- whether a rollout is complete, as `kubectl rollout status` decides (pkg/polymorphichelpers/rollout_status.go),
  and what the pods that hold it up are doing.
"""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bot.actions.base import ActionError, Change

HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
CHANGE_CAUSE = "kubernetes.io/change-cause"
# Kept from the Deployment, never copied from the ReplicaSet, on rollback (kubectl's annotationsToSkip).
ANNOTATIONS_TO_SKIP = (
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
)


def revision(obj: dict[str, Any]) -> int | None:
    """The `deployment.kubernetes.io/revision` annotation; None when absent or not a number (kubectl skips those)."""
    value = ((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _pruned(value: Any) -> Any:
    """A value with empty maps and lists dropped: apimachinery's semantic equality treats nil and empty alike."""
    if isinstance(value, dict):
        kept = {k: _pruned(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_pruned(v) for v in value]
    return value


def without_hash(template: dict[str, Any]) -> dict[str, Any]:
    """A pod template without the `pod-template-hash` label the controller adds to its ReplicaSets."""
    copied = copy.deepcopy(template)
    labels = (copied.get("metadata") or {}).get("labels")
    if labels is not None:
        labels.pop(HASH, None)
    return copied


def equal_ignore_hash(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """kubectl's equalIgnoreHash: the same pod template but for the hash label."""
    return bool(_pruned(without_hash(a)) == _pruned(without_hash(b)))


def rollback_target(
    deployment: dict[str, Any], owned: list[dict[str, Any]], to_revision: int | None
) -> dict[str, Any]:
    """The ReplicaSet `rollout undo` goes back to: `to_revision`, else the second-highest revision."""
    numbered = [(number, rs) for rs in owned if (number := revision(rs)) is not None]
    if to_revision:
        for number, rs in numbered:
            if number == to_revision:
                return rs
        raise ActionError(f"unable to find specified revision {to_revision} in history")
    ordered = sorted(numbered, key=lambda pair: pair[0], reverse=True)
    if len(ordered) < 2:
        raise ActionError(f'no rollout history found for deployment "{deployment["metadata"]["name"]}"')
    return ordered[1][1]


def rollback_patch(deployment: dict[str, Any], rs: dict[str, Any], change_cause: str) -> list[dict[str, Any]]:
    """kubectl's rollback JSON Patch: the ReplicaSet's template (without the hash label) and the annotations
    kubectl computes (the Deployment's own bookkeeping ones kept, the rest copied from the ReplicaSet), with the
    change-cause saying who rolled back (kubectl keeps the ReplicaSet's)."""
    template = without_hash(rs["spec"]["template"])
    mine = deployment["metadata"].get("annotations") or {}
    annotations = {k: mine[k] for k in ANNOTATIONS_TO_SKIP if k in mine}
    annotations |= {
        k: v for k, v in (rs["metadata"].get("annotations") or {}).items() if k not in ANNOTATIONS_TO_SKIP
    }
    annotations[CHANGE_CAUSE] = change_cause
    return [
        {"op": "replace", "path": "/spec/template", "value": template},
        {"op": "replace", "path": "/metadata/annotations", "value": annotations},
    ]


# --- what a template change changes ---


def split_image(image: str) -> tuple[str, str]:
    """`ghcr.io/acme/api-gateway:1.9.0` -> (`ghcr.io/acme/api-gateway`, `1.9.0`); digests stay whole."""
    name, at, digest = image.partition("@")
    if at:
        return name, f"@{digest}"
    repo, colon, tag = image.rpartition(":")
    if colon and "/" not in tag:
        return repo, tag
    return image, "latest"


def env_text(var: dict[str, Any] | None) -> str:
    """How a variable is shown: its literal value, or where it comes from (never a secret's value)."""
    if var is None:
        return "(not set)"
    source = var.get("valueFrom")
    if not source:
        return str(var.get("value", ""))
    for kind, label in (("secretKeyRef", "secret"), ("configMapKeyRef", "configmap")):
        if kind in source:
            return f"from {label} {source[kind].get('name')} key {source[kind].get('key')}"
    return "from " + ", ".join(source)


def _containers(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    spec = template.get("spec") or {}
    return {c["name"]: c for c in [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]}


def _differing(a: dict[str, Any], b: dict[str, Any], skip: set[str]) -> list[str]:
    return sorted(k for k in (set(a) | set(b)) - skip if _pruned(a.get(k)) != _pruned(b.get(k)))


def template_changes(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """What differs between two pod templates: images, env vars, resources and pod annotations one by one,
    then the names of the other fields that differ."""
    old, new = _containers(before), _containers(after)
    several = len(new) > 1
    changes: list[Change] = []
    others: list[str] = _differing(
        before.get("spec") or {}, after.get("spec") or {}, {"containers", "initContainers"}
    )
    for name in [*new, *(n for n in old if n not in new)]:
        a, b = old.get(name), new.get(name)
        if a is None or b is None:
            changes.append(
                Change(
                    what=f"container {name}",
                    before="present" if a else "(none)",
                    after="present" if b else "(none)",
                )
            )
            continue
        changes += _container_changes(a, b, f" ({name})" if several else "")
        others += [
            f"{name}.{k}" if several else k for k in _differing(a, b, {"name", "image", "env", "resources"})
        ]
    meta_a, meta_b = without_hash(before).get("metadata") or {}, without_hash(after).get("metadata") or {}
    notes_a, notes_b = meta_a.get("annotations") or {}, meta_b.get("annotations") or {}
    for key in sorted(set(notes_a) | set(notes_b)):
        if notes_a.get(key) != notes_b.get(key):
            changes.append(
                Change(
                    what=f"pod annotation {key}",
                    before=notes_a.get(key, "(none)"),
                    after=notes_b.get(key, "(none)"),
                )
            )
    others += [f"pod {k}" for k in _differing(meta_a, meta_b, {"annotations"})]
    if others:
        changes.append(Change(what="other pod template fields", before="as now", after=", ".join(others)))
    return changes


def _container_changes(a: dict[str, Any], b: dict[str, Any], suffix: str) -> list[Change]:
    changes = []
    if a.get("image") != b.get("image"):
        (repo_a, tag_a), (repo_b, tag_b) = split_image(a.get("image", "")), split_image(b.get("image", ""))
        if repo_a == repo_b:
            changes.append(Change(what=f"image {repo_a}{suffix}", before=tag_a, after=tag_b))
        else:
            changes.append(Change(what=f"image{suffix}", before=a.get("image", ""), after=b.get("image", "")))
    env_a = {e["name"]: e for e in a.get("env") or []}
    env_b = {e["name"]: e for e in b.get("env") or []}
    for var in [*env_b, *(v for v in env_a if v not in env_b)]:
        if _pruned(env_a.get(var)) != _pruned(env_b.get(var)):
            changes.append(
                Change(
                    what=f"env {var}{suffix}", before=env_text(env_a.get(var)), after=env_text(env_b.get(var))
                )
            )
    return changes + resource_changes(a.get("resources") or {}, b.get("resources") or {}, suffix)


def resource_changes(before: dict[str, Any], after: dict[str, Any], suffix: str = "") -> list[Change]:
    changes = []
    for which, word in (("requests", "request"), ("limits", "limit")):
        a, b = before.get(which) or {}, after.get(which) or {}
        for resource in sorted(set(a) | set(b)):
            if a.get(resource) != b.get(resource):
                label = "CPU" if resource == "cpu" else resource
                changes.append(
                    Change(
                        what=f"{label} {word}{suffix}",
                        before=str(a.get(resource, "(none)")),
                        after=str(b.get(resource, "(none)")),
                    )
                )
    return changes


# --- rollout status ---


def is_ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def pod_trouble(pod: dict[str, Any]) -> str:
    """What keeps a pod from being ready: `CrashLoopBackOff (last exit OOMKilled)`, `Pending (Unschedulable: ...)`."""
    status = pod.get("status") or {}
    if pod["metadata"].get("deletionTimestamp"):
        return "terminating"
    for container in status.get("containerStatuses") or []:
        waiting = (container.get("state") or {}).get("waiting")
        if waiting:
            last = ((container.get("lastState") or {}).get("terminated") or {}).get("reason")
            return waiting.get("reason", "waiting") + (f" (last exit {last})" if last else "")
    if status.get("phase") == "Pending":
        unscheduled = [
            c
            for c in status.get("conditions") or []
            if c.get("type") == "PodScheduled" and c.get("status") == "False"
        ]
        if unscheduled:
            return f"Pending ({unscheduled[0].get('reason')}: {unscheduled[0].get('message')})"
        return "Pending"
    return "running but not ready"


def troubles(pods: list[dict[str, Any]]) -> str:
    """`3 CrashLoopBackOff (last exit OOMKilled)`, `2 ContainerCreating, 1 Pending (...)`."""
    counted = Counter(pod_trouble(p) for p in pods if not is_ready(p))
    return ", ".join(f"{n} {what}" for what, n in counted.most_common())


@dataclass(frozen=True)
class Progress:
    done: bool
    failed: bool
    summary: str


def rollout_progress(
    deployment: dict[str, Any], owned: list[dict[str, Any]], pods: list[dict[str, Any]]
) -> Progress:
    """Whether the rollout is complete, as `kubectl rollout status` decides, with the new pods all ready."""
    meta, spec, status = deployment["metadata"], deployment["spec"], deployment.get("status") or {}
    name = meta["name"]
    if status.get("observedGeneration", 0) < meta.get("generation", 0):
        return Progress(False, False, "waiting for the deployment controller to see the change")
    progressing: dict[str, Any] = next(
        (c for c in status.get("conditions") or [] if c.get("type") == "Progressing"), {}
    )
    desired = spec.get("replicas", 1)
    new_rs = next((rs for rs in owned if equal_ignore_hash(rs["spec"]["template"], spec["template"])), None)
    new_hash = ((new_rs or {}).get("metadata", {}).get("labels") or {}).get(HASH)
    new_pods = [
        p
        for p in pods
        if new_hash
        and (p["metadata"].get("labels") or {}).get(HASH) == new_hash
        and not p["metadata"].get("deletionTimestamp")
    ]
    ready = sum(is_ready(p) for p in new_pods)
    old = sum((rs.get("status") or {}).get("replicas", 0) for rs in owned if rs is not new_rs)
    numbered = f" of revision {revision(new_rs)}" if new_rs is not None and revision(new_rs) else ""
    waiting = f"{ready}/{desired} new pods ready" + (f": {troubles(new_pods)}" if troubles(new_pods) else "")
    if progressing.get("reason") == "ProgressDeadlineExceeded":
        return Progress(False, True, f'deployment "{name}" exceeded its progress deadline; {waiting}')
    updated, total, available = (
        status.get(k, 0) for k in ("updatedReplicas", "replicas", "availableReplicas")
    )
    if updated < desired or total > updated or available < updated or ready < desired or old:
        pending = f"; {old} old pods still running" if old else ""
        return Progress(False, False, waiting + pending)
    images = ", ".join(
        sorted({c.get("image", "") for c in (spec["template"].get("spec") or {}).get("containers") or []})
    )
    return Progress(True, False, f"{ready}/{desired} pods{numbered} ready ({images})")


# --- the containers `kubectl set env` and `kubectl set resources` change ---


def selected_containers(deployment: dict[str, Any], container: str | None) -> list[tuple[str, int]]:
    """(list field, index) of the containers to change: the named one, or all of them as kubectl's `*`."""
    spec = deployment["spec"]["template"]["spec"]
    found = [
        (field, i, c["name"])
        for field in ("initContainers", "containers")
        for i, c in enumerate(spec.get(field) or [])
    ]
    chosen = [(field, i) for field, i, name in found if container in (None, name)]
    if not chosen:
        names = ", ".join(name for _, _, name in found)
        raise ActionError(
            f"deployment {deployment['metadata']['name']} has no container '{container}' (it has: {names})"
        )
    return chosen


def containers_patch(
    deployment: dict[str, Any], entries: dict[tuple[str, int], dict[str, Any]]
) -> dict[str, Any]:
    """A strategic merge patch of some containers, shaped as kubectl's two-way merge patch, with the precondition."""
    spec = deployment["spec"]["template"]["spec"]
    patch: dict[str, Any] = {}
    for field in ("initContainers", "containers"):
        mine = [
            {"name": spec[field][i]["name"], **entry}
            for (f, i), entry in sorted(entries.items())
            if f == field
        ]
        if mine:
            patch[f"$setElementOrder/{field}"] = [{"name": c["name"]} for c in spec[field]]
            patch[field] = mine
    return {
        "metadata": {"resourceVersion": deployment["metadata"]["resourceVersion"]},
        "spec": {"template": {"spec": patch}},
    }


def update_env(existing: list[dict[str, Any]], wanted: dict[str, str]) -> list[dict[str, Any]]:
    """kubectl's updateEnv: a set variable replaces every one of that name in place; new ones go last."""
    out, covered = [], set()
    for var in existing:
        if var["name"] in wanted:
            if var["name"] not in covered:
                out.append({"name": var["name"], "value": wanted[var["name"]]})
                covered.add(var["name"])
            continue
        out.append(var)
    return out + [{"name": n, "value": v} for n, v in wanted.items() if n not in covered]
