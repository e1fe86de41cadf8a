"""The simulated deployment and replica set controllers, one step at a time.

A Deployment a write has touched (its spec, one of its ReplicaSets, one of its pods) is managed from then on;
the scenario's objects are left exactly as written until then, so read-only tests see the fixtures.
Each `tick()` (the fake calls it on every read of Deployments or pods) first lets the kubelet finish
terminating pods, then takes one step per managed Deployment, the first that applies, in the real order:

1. observe a new generation: reuse the ReplicaSet whose template equals the Deployment's (ignoring
   `pod-template-hash`) or create one; it gets the next `deployment.kubernetes.io/revision` (a reused one
   records its old number in `revision-history`); it is scaled to `spec.replicas` and its new pods are
   created (a Recreate strategy first scales the old ReplicaSets to 0);
2. replace what is missing: a ReplicaSet short of pods (one was deleted) gets new ones;
3. start new pods (simulated kubelet: ready, or crash-looping for a bad image);
4. scale the old ReplicaSets to 0 once the new pods are ready, or at once when the old pods are not
   ready anyway (the controller's cleanup of unhealthy replicas); a bad new image next to healthy old
   pods therefore stays half rolled out, as with maxUnavailable 0.

After a step the ReplicaSets', the Deployment's status (observedGeneration, replicas, updated, ready,
available, Available and Progressing conditions) and the Service's Endpoints follow the pods. A rollout
that makes no progress for `progressDeadlineSeconds` (by the fake's clock) gets ProgressDeadlineExceeded.
So a rollback reads "rolling out" on one poll and "ready" a few polls later, and never needs a sleep.
"""

from __future__ import annotations

import copy
import hashlib
import math
from datetime import datetime
from typing import Any

from bot.clock import Clock
from sandbox.kube_kubelet import Kubelet, is_creating, is_ready, safe_encode
from sandbox.kube_patch import same
from sandbox.kube_selectors import selector_matches
from sandbox.kube_store import Store, stamp

HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
HISTORY = "deployment.kubernetes.io/revision-history"
# Annotations of a Deployment that its ReplicaSets do not copy (deploymentutil's annotationsToSkip).
NOT_COPIED = {
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    HISTORY,
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
}


def without_hash(template: dict[str, Any]) -> dict[str, Any]:
    """A pod template without the `pod-template-hash` label (how templates are compared)."""
    stripped = copy.deepcopy(template)
    labels = (stripped.get("metadata") or {}).get("labels")
    if labels is not None:
        labels.pop(HASH, None)
    return stripped


def revision(obj: dict[str, Any]) -> int:
    return int(((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION, 0))


def template_hash(template: dict[str, Any]) -> str:
    """A stable `pod-template-hash` for a template (the real one hashes the Go struct; any stable hash will do)."""
    text = repr(sorted_json(without_hash(template)))
    return safe_encode(hashlib.sha256(text.encode()).hexdigest(), 10)


def sorted_json(value: Any) -> Any:
    if isinstance(value, dict):
        return sorted((k, sorted_json(v)) for k, v in value.items())
    if isinstance(value, list):
        return [sorted_json(v) for v in value]
    return value


class Controller:
    """Deployment + ReplicaSet controllers over the store; `kubelet` creates and starts their pods."""

    def __init__(self, store: Store, kubelet: Kubelet, clock: Clock) -> None:
        self.store, self.kubelet, self.clock = store, kubelet, clock
        self.managed: set[tuple[str, str]] = set()  # (namespace, deployment name)

    # --- which Deployments are ours ---

    def touched(self, obj: dict[str, Any]) -> None:
        """A write changed `obj`: manage the Deployment it belongs to."""
        meta = obj["metadata"]
        namespace = meta.get("namespace")
        if obj["kind"] == "Deployment":
            self.managed.add((namespace, meta["name"]))
        elif obj["kind"] in ("ReplicaSet", "Pod"):
            deployment = self._deployment_of(obj)
            if deployment is not None:
                self.managed.add((namespace, deployment["metadata"]["name"]))

    def _deployment_of(self, obj: dict[str, Any]) -> dict[str, Any] | None:
        labels = obj["metadata"].get("labels") or {}
        for deployment in self._all("Deployment", obj["metadata"].get("namespace")):
            if selector_matches(deployment["spec"].get("selector") or {}, labels):
                return deployment
        return None

    def _all(self, kind: str, namespace: str | None) -> list[dict[str, Any]]:
        return [
            o for o in self.store.objects if o["kind"] == kind and o["metadata"].get("namespace") == namespace
        ]

    # --- the loop ---

    def tick(self) -> None:
        """One step for every managed Deployment (nothing at all before the first write)."""
        # The kubelet finishes terminating pods first (grace periods pass at once), Deployment's or not.
        for pod in [
            p for p in self.store.objects if p["kind"] == "Pod" and p["metadata"].get("deletionTimestamp")
        ]:
            self.kubelet.remove(pod)
        for namespace, name in sorted(self.managed):
            found = [d for d in self._all("Deployment", namespace) if d["metadata"]["name"] == name]
            if not found:
                self.managed.discard((namespace, name))
                continue
            progressed = self._step(found[0])
            self._refresh(namespace, name, progressed)

    def _owned(self, deployment: dict[str, Any]) -> list[dict[str, Any]]:
        uid = deployment["metadata"].get("uid")
        return sorted(
            (
                rs for rs in self._all("ReplicaSet", deployment["metadata"].get("namespace"))
                if any(o.get("controller") and o.get("uid") == uid for o in rs["metadata"].get("ownerReferences") or [])
            ),
            key=revision,
        )  # fmt: skip

    def _pods(self, rs: dict[str, Any]) -> list[dict[str, Any]]:
        """The ReplicaSet's pods that are not terminating."""
        selector = rs["spec"].get("selector") or {}
        return [
            p for p in self._all("Pod", rs["metadata"].get("namespace"))
            if selector_matches(selector, p["metadata"].get("labels") or {})
            and not p["metadata"].get("deletionTimestamp")
        ]  # fmt: skip

    def _new_rs(self, deployment: dict[str, Any], owned: list[dict[str, Any]]) -> dict[str, Any] | None:
        template = without_hash(deployment["spec"]["template"])
        return next((rs for rs in owned if same(without_hash(rs["spec"]["template"]), template)), None)

    def _step(self, deployment: dict[str, Any]) -> bool:
        owned = self._owned(deployment)
        new_rs = self._new_rs(deployment, owned)
        observed = (deployment.get("status") or {}).get("observedGeneration")
        if new_rs is None or observed != deployment["metadata"].get("generation"):
            self._observe(deployment, owned, new_rs)
            return True
        if self._replace_missing(owned):
            return True
        creating = [p for rs in owned for p in self._pods(rs) if is_creating(p)]
        for pod in creating:
            self.kubelet.start(pod)
        if creating:
            return True
        return self._retire_old(deployment, new_rs, owned)

    def _observe(
        self, deployment: dict[str, Any], owned: list[dict[str, Any]], new_rs: dict[str, Any] | None
    ) -> None:
        """A new generation: the new ReplicaSet at the next revision, scaled to the Deployment's replicas."""
        spec, meta = deployment["spec"], deployment["metadata"]
        if spec.get("paused"):  # a paused Deployment records the generation and rolls nothing out
            self._set_status(deployment, {"observedGeneration": meta.get("generation")})
            return
        old = [rs for rs in owned if rs is not new_rs]
        if (spec.get("strategy") or {}).get("type") == "Recreate":
            for rs in old:
                self._scale(deployment, rs, 0)
        latest = max((revision(rs) for rs in owned), default=0)
        annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k not in NOT_COPIED}
        desired = spec.get("replicas", 1)
        if new_rs is None:
            new_rs = self._create_rs(deployment, latest + 1, annotations)
        elif revision(new_rs) < latest or not (new_rs["metadata"].get("annotations") or {}).get(REVISION):
            changed = copy.deepcopy(new_rs)
            kept = changed["metadata"].setdefault("annotations", {})
            history = [h for h in (kept.get(HISTORY) or "").split(",") if h] + [str(revision(new_rs))]
            kept.update(annotations)
            kept.update({REVISION: str(latest + 1), HISTORY: ",".join(history)})
            new_rs = self.store.put(new_rs, changed)
        deployment = self._annotate(deployment, revision(new_rs))
        self._scale(deployment, new_rs, desired)
        self._set_status(self._current(deployment), {"observedGeneration": meta.get("generation")})

    def _create_rs(
        self, deployment: dict[str, Any], number: int, annotations: dict[str, str]
    ) -> dict[str, Any]:
        meta, spec = deployment["metadata"], deployment["spec"]
        pod_hash = template_hash(spec["template"])
        template = copy.deepcopy(spec["template"])
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH] = pod_hash
        selector = copy.deepcopy(spec["selector"])
        selector.setdefault("matchLabels", {})[HASH] = pod_hash
        owner = {"apiVersion": "apps/v1", "kind": "Deployment", "name": meta["name"], "uid": meta["uid"],
                 "controller": True, "blockOwnerDeletion": True}  # fmt: skip
        return self.store.add({
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"{meta['name']}-{pod_hash}",
                "namespace": meta["namespace"],
                "generation": 1,
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {**annotations, REVISION: str(number)},
                "ownerReferences": [owner],
            },
            "spec": {"replicas": 0, "selector": selector, "template": template},
            "status": {"replicas": 0, "observedGeneration": 1},
        })  # fmt: skip

    def _annotate(self, deployment: dict[str, Any], number: int) -> dict[str, Any]:
        if revision(deployment) == number:
            return deployment
        changed = copy.deepcopy(deployment)
        changed["metadata"].setdefault("annotations", {})[REVISION] = str(number)
        return self.store.put(deployment, changed)

    def _current(self, obj: dict[str, Any]) -> dict[str, Any]:
        meta = obj["metadata"]
        return next(
            o for o in self._all(obj["kind"], meta.get("namespace")) if o["metadata"]["name"] == meta["name"]
        )

    def _scale(self, deployment: dict[str, Any], rs: dict[str, Any], replicas: int) -> None:
        """Set a ReplicaSet's replicas and create or delete its pods to match (not-ready ones go first)."""
        before = rs["spec"].get("replicas", 0)
        if before != replicas:
            changed = copy.deepcopy(rs)
            changed["spec"]["replicas"] = replicas
            changed["metadata"]["generation"] = changed["metadata"].get("generation", 1) + 1
            annotations = changed["metadata"].setdefault("annotations", {})
            annotations["deployment.kubernetes.io/desired-replicas"] = str(
                deployment["spec"].get("replicas", 1)
            )
            rs = self.store.put(rs, changed)
            verb = "up" if replicas > before else "down"
            message = f"Scaled {verb} replica set {rs['metadata']['name']} to {replicas} from {before}"
            self.kubelet.event(deployment, "Normal", "ScalingReplicaSet", message, "deployment-controller")
        self._sync_pods(rs)

    def _sync_pods(self, rs: dict[str, Any]) -> bool:
        pods = self._pods(rs)
        wanted = rs["spec"].get("replicas", 0)
        for _ in range(wanted - len(pods)):
            self.kubelet.create_pod(rs)
        extra = sorted(pods, key=lambda p: (is_ready(p), p["metadata"].get("creationTimestamp", "")))
        for pod in extra[: max(0, len(pods) - wanted)]:
            self.kubelet.remove(pod)
        return wanted != len(pods)

    def _replace_missing(self, owned: list[dict[str, Any]]) -> bool:
        """A ReplicaSet with fewer pods than replicas (one was deleted) gets new ones."""
        synced = [self._sync_pods(rs) for rs in owned]
        return any(synced)

    def _retire_old(
        self, deployment: dict[str, Any], new_rs: dict[str, Any], owned: list[dict[str, Any]]
    ) -> bool:
        old = [rs for rs in owned if rs is not new_rs and rs["spec"].get("replicas", 0) > 0]
        if not old:
            return False
        new_ready = sum(is_ready(p) for p in self._pods(new_rs))
        old_ready = sum(is_ready(p) for rs in old for p in self._pods(rs))
        if new_ready < deployment["spec"].get("replicas", 1) and old_ready > 0:
            return False  # keep serving from the old pods until the new ones are ready
        for rs in old:
            self._scale(deployment, rs, 0)
        return True

    # --- statuses that follow the pods ---

    def _refresh(self, namespace: str, name: str, progressed: bool) -> None:
        deployment = next(d for d in self._all("Deployment", namespace) if d["metadata"]["name"] == name)
        owned = self._owned(deployment)
        for rs in owned:
            pods = self._pods(rs)
            ready = sum(is_ready(p) for p in pods)
            status = {"fullyLabeledReplicas": len(pods), "readyReplicas": ready, "availableReplicas": ready,
                      "observedGeneration": rs["metadata"].get("generation", 1)}  # fmt: skip
            # `replicas` is always there; the other counts are omitted when zero, as the API serialises them
            self._set_status(
                rs, {"replicas": len(pods), **{k: v for k, v in status.items() if v}}, replace=True
            )
        self._deployment_status(self._current(deployment), self._owned(deployment), progressed)
        self._endpoints(namespace)

    def _deployment_status(
        self, deployment: dict[str, Any], owned: list[dict[str, Any]], progressed: bool
    ) -> None:
        spec, now = deployment["spec"], self.clock.now()
        desired = spec.get("replicas", 1)
        new_rs = self._new_rs(deployment, owned)
        counts = {id(rs): self._pods(rs) for rs in owned}
        replicas = sum(len(pods) for pods in counts.values())
        updated = len(counts[id(new_rs)]) if new_rs is not None else 0
        ready = sum(is_ready(p) for pods in counts.values() for p in pods)
        status = dict(deployment.get("status") or {})
        status.update(replicas=replicas, updatedReplicas=updated, readyReplicas=ready, availableReplicas=ready,
                      unavailableReplicas=max(0, desired - ready))  # fmt: skip
        status = {k: v for k, v in status.items() if v or k == "conditions"}
        allowed = self._max_unavailable(spec, desired)
        conditions = {c["type"]: dict(c) for c in status.get("conditions") or []}
        rs_name = new_rs["metadata"]["name"] if new_rs is not None else ""
        complete = updated == desired == replicas and ready >= desired
        available = ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        unavailable = (
            "False",
            "MinimumReplicasUnavailable",
            "Deployment does not have minimum availability.",
        )
        self._condition(
            conditions,
            "Available",
            *(available if ready >= desired - allowed else unavailable),
            now,
            progressed,
        )
        # As syncRolloutStatus: complete, or progressing when a step was taken; a finished rollout whose pods
        # died later stays NewReplicaSetAvailable; otherwise the condition stands until the deadline passes.
        progressing = conditions.get("Progressing") or {}
        kept = tuple(str(progressing.get(k, "")) for k in ("status", "reason", "message"))
        if complete:
            state = ("True", "NewReplicaSetAvailable", f'ReplicaSet "{rs_name}" has successfully progressed.')
        elif progressed or not progressing:
            state = ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
        elif progressing.get("reason") != "NewReplicaSetAvailable" and self._overdue(spec, progressing, now):
            state = (
                "False",
                "ProgressDeadlineExceeded",
                f'ReplicaSet "{rs_name}" has timed out progressing.',
            )
        else:
            state = (kept[0], kept[1], kept[2])
        self._condition(conditions, "Progressing", *state, now, progressed)
        order = [c["type"] for c in status.get("conditions") or []]
        order += [t for t in ("Available", "Progressing") if t not in order]
        status["conditions"] = [conditions[t] for t in order]
        self._set_status(deployment, status, replace=True)

    @staticmethod
    def _max_unavailable(spec: dict[str, Any], desired: int) -> int:
        strategy = spec.get("strategy") or {}
        if strategy.get("type") == "Recreate":
            return 0
        value = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
        return math.floor(desired * int(value[:-1]) / 100) if isinstance(value, str) else int(value)

    @staticmethod
    def _overdue(spec: dict[str, Any], progressing: dict[str, Any], now: datetime) -> bool:
        since = progressing.get("lastUpdateTime")
        if not since:
            return False
        started = datetime.strptime(since, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=now.tzinfo)
        return (now - started).total_seconds() > spec.get("progressDeadlineSeconds", 600)

    @staticmethod
    def _condition(
        conditions: dict[str, dict[str, Any]], kind: str, value: str, reason: str, message: str,
        now: datetime, progressed: bool,
    ) -> None:  # fmt: skip
        current = conditions.get(kind) or {}
        changed = (current.get("status"), current.get("reason"), current.get("message")) != (
            value,
            reason,
            message,
        )
        if not changed and not progressed:
            return
        transition = current.get("lastTransitionTime") if current.get("status") == value else stamp(now)
        conditions[kind] = {"type": kind, "status": value, "lastUpdateTime": stamp(now),
                            "lastTransitionTime": transition or stamp(now), "reason": reason, "message": message}  # fmt: skip

    def _set_status(self, obj: dict[str, Any], status: dict[str, Any], *, replace: bool = False) -> None:
        current = self._current(obj)
        merged = status if replace else {**(current.get("status") or {}), **status}
        if replace and not self._differs(current.get("status") or {}, merged):
            return
        if same(merged, current.get("status") or {}):
            return
        self.store.put(current, {**copy.deepcopy(current), "status": merged})

    @staticmethod
    def _differs(old: dict[str, Any], new: dict[str, Any]) -> bool:
        """Whether a status changed beyond the times it carries."""

        def plain(status: dict[str, Any]) -> Any:
            conditions = [
                {k: v for k, v in c.items() if not k.endswith("Time")} for c in status.get("conditions") or []
            ]
            return {**status, "conditions": conditions}

        return not same(plain(old), plain(new))

    def _endpoints(self, namespace: str) -> None:
        """Each Service's Endpoints: its ready pods as addresses, the others with an IP as notReadyAddresses."""
        pods = [p for p in self._all("Pod", namespace) if not p["metadata"].get("deletionTimestamp")]
        for service in self._all("Service", namespace):
            selector = (service.get("spec") or {}).get("selector")
            if not selector:
                continue
            found = [
                e
                for e in self._all("Endpoints", namespace)
                if e["metadata"]["name"] == service["metadata"]["name"]
            ]
            current = found[0] if found else None
            subsets = (current or {}).get("subsets") or [{}]
            ports = subsets[0].get("ports") or [
                {
                    "name": p.get("name"),
                    "port": p.get("targetPort", p["port"]),
                    "protocol": p.get("protocol", "TCP"),
                }
                for p in service["spec"].get("ports") or []
            ]
            mine = [
                p
                for p in pods
                if selector_matches({"matchLabels": selector}, p["metadata"].get("labels") or {})
            ]

            def address(pod: dict[str, Any]) -> dict[str, Any]:
                ref = {"kind": "Pod", "namespace": namespace, "name": pod["metadata"]["name"]}
                return {
                    "ip": pod["status"]["podIP"],
                    "nodeName": pod["spec"].get("nodeName"),
                    "targetRef": ref,
                }

            with_ip = [p for p in mine if (p.get("status") or {}).get("podIP")]
            subset = {
                "addresses": [address(p) for p in with_ip if is_ready(p)],
                "notReadyAddresses": [address(p) for p in with_ip if not is_ready(p)],
                "ports": ports,
            }
            subset = {k: v for k, v in subset.items() if v}
            endpoints: dict[str, Any] = {
                "apiVersion": "v1",
                "kind": "Endpoints",
                "metadata": {
                    "name": service["metadata"]["name"],
                    "namespace": namespace,
                    "labels": dict(service["metadata"].get("labels") or {}),
                },
            }
            if set(subset) - {"ports"}:
                endpoints["subsets"] = [subset]
            if current is None:
                self.store.add(endpoints)
            elif not same({**current, "metadata": {}}, {**endpoints, "metadata": {}}):
                self.store.put(current, {**endpoints, "metadata": current["metadata"]})
