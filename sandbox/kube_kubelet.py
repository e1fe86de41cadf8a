"""The simulated scheduler and kubelet: what becomes of a pod the controller creates.

A new pod is scheduled onto a node (or stays Pending, Unschedulable, when it asks for more memory than the
scenario's `node_free_memory`) with its containers `ContainerCreating`; when started, a pod of a good image
becomes Running and Ready (with logs and metrics-server samples), a pod of one of the scenario's
`bad_images` crash-loops: CrashLoopBackOff after its container died (OOMKilled, exit 137, as in the
crashloop-oom scenario), with the dead container's log as the previous log and BackOff events.
Everything is derived from counters and the clock, so runs are repeatable.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
from decimal import Decimal
from typing import Any

from bot.clock import Clock
from sandbox.kube_store import Store, stamp
from sandbox.kube_validate import quantity

ALPHANUMS = (
    "bcdfghjklmnpqrstvwxz2456789"  # the alphabet of generated names (k8s.io/apimachinery/pkg/util/rand)
)
EXIT_CODES = {"OOMKilled": 137, "Error": 1}


def safe_encode(text: str, length: int) -> str:
    """A deterministic name fragment from `text`, in the alphabet Kubernetes uses for generated names."""
    digest = hashlib.sha256(text.encode()).digest()
    return "".join(ALPHANUMS[b % len(ALPHANUMS)] for b in digest[:length])


def is_ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def is_creating(pod: dict[str, Any]) -> bool:
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    return any(
        (s.get("state") or {}).get("waiting", {}).get("reason") == "ContainerCreating" for s in statuses
    )


class Kubelet:
    """Creates pods for a ReplicaSet's template and starts them, in the store."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        logs: dict[str, dict[str, str]],
        bad_images: dict[str, str],
        node_free_memory: str | None,
    ) -> None:
        self.store, self.clock, self.logs, self.bad_images = store, clock, logs, bad_images
        self.free_memory: Decimal | None = quantity(node_free_memory) if node_free_memory else None
        self._pods = itertools.count(1)
        self._ips = itertools.count(100)
        self._events = itertools.count(1)

    def _now(self) -> str:
        return stamp(self.clock.now())

    def _nodes(self) -> list[str]:
        return sorted(n["metadata"]["name"] for n in self.store.objects if n["kind"] == "Node") or ["node-1"]

    def create_pod(self, rs: dict[str, Any]) -> dict[str, Any]:
        """A new pod of the ReplicaSet: scheduled with containers ContainerCreating, or Unschedulable."""
        number = next(self._pods)
        meta, template = rs["metadata"], rs["spec"]["template"]
        rs_name = meta["name"]
        name = f"{rs_name}-{safe_encode(f'{rs_name}/{number}', 5)}"
        owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": meta["name"], "uid": meta["uid"],
                 "controller": True, "blockOwnerDeletion": True}  # fmt: skip
        pod: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {
                "name": name,
                "namespace": meta["namespace"],
                "labels": dict((template.get("metadata") or {}).get("labels") or {}),
                "ownerReferences": [owner],
            },
            "spec": copy.deepcopy(template.get("spec") or {}),
        }
        if (template.get("metadata") or {}).get("annotations"):
            pod["metadata"]["annotations"] = dict(template["metadata"]["annotations"])
        containers = pod["spec"].get("containers") or []
        asked = sum(
            quantity(((c.get("resources") or {}).get("requests") or {}).get("memory", 0)) for c in containers
        )
        nodes = self._nodes()
        if self.free_memory is not None and asked > self.free_memory:
            message = f"0/{len(nodes)} nodes are available: {len(nodes)} Insufficient memory."
            pod["status"] = {
                "phase": "Pending",
                "conditions": [
                    {
                        "type": "PodScheduled",
                        "status": "False",
                        "reason": "Unschedulable",
                        "message": message,
                        "lastTransitionTime": self._now(),
                    }
                ],
            }
            self.store.add(pod)
            self.event(pod, "Warning", "FailedScheduling", message, "default-scheduler")
            return pod
        node = nodes[number % len(nodes)]
        pod["spec"]["nodeName"] = node
        pod["status"] = {
            "phase": "Pending",
            "hostIP": f"10.128.0.{10 + nodes.index(node)}",
            "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": self._now()}],
            "containerStatuses": [
                {
                    "name": c["name"],
                    "image": c.get("image", ""),
                    "ready": False,
                    "started": False,
                    "restartCount": 0,
                    "state": {"waiting": {"reason": "ContainerCreating"}},
                }
                for c in containers
            ],
        }
        return self.store.add(pod)

    def start(self, pod: dict[str, Any]) -> None:
        """Start a ContainerCreating pod: Ready, or crash-looping when one of its images is bad."""
        started = copy.deepcopy(pod)
        name, now = pod["metadata"]["name"], self._now()
        containers = started["spec"].get("containers") or []
        dying = [c for c in containers if c.get("image") in self.bad_images]
        status, number = started["status"], next(self._ips)
        subnet = self._nodes().index(started["spec"]["nodeName"]) + 1
        status.update(phase="Running", podIP=f"10.42.{subnet}.{number % 250}", startTime=now)
        ready = "False" if dying else "True"
        status["conditions"] = [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": now},
            {"type": "Initialized", "status": "True", "lastTransitionTime": now},
            {"type": "ContainersReady", "status": ready, "lastTransitionTime": now},
            {"type": "Ready", "status": ready, "lastTransitionTime": now},
        ]
        if dying:
            unready = ",".join(c["name"] for c in dying)
            for condition in status["conditions"][2:]:
                condition.update(
                    reason="ContainersNotReady", message=f"containers with unready status: [{unready}]"
                )
        status["containerStatuses"] = [self._container_status(started, c, c in dying) for c in containers]
        self.store.put(pod, started)
        if dying:
            self.logs[name] = {"previous": self._crash_log(dying[0], now)}
            where = f"{name}_{pod['metadata']['namespace']}({pod['metadata']['uid']})"
            message = f"Back-off restarting failed container {dying[0]['name']} in pod {where}"
            self.event(started, "Warning", "BackOff", message, "kubelet")
            return
        first = containers[0] if containers else {"name": "main"}
        lines = [
            f"{now} INFO  starting {first.get('image')}",
            f"{now} INFO  listening on 0.0.0.0:{self._port(first)}",
            f"{now} INFO  request completed method=GET path=/health status=200 duration_ms=2",
        ]
        self.logs[name] = {"current": "\n".join(lines)}
        self.store.add(self._metrics(started, number))

    def _crash_log(self, container: dict[str, Any], now: str) -> str:
        """What the dead container wrote: an OOM kill ends with the kernel's `Killed`."""
        reason = self.bad_images[container["image"]]
        limit = ((container.get("resources") or {}).get("limits") or {}).get("memory", "the limit")
        lines = [
            f"{now} INFO  starting {container['image']}",
            f"{now} INFO  listening on 0.0.0.0:{self._port(container)}",
        ]
        if reason == "OOMKilled":
            lines += [f"{now} ERROR memory use reached {limit}", "Killed"]
        else:
            lines += [f"{now} FATAL exited with code {EXIT_CODES.get(reason, 1)}"]
        return "\n".join(lines)

    def _container_status(
        self, pod: dict[str, Any], container: dict[str, Any], dying: bool
    ) -> dict[str, Any]:
        now, name, image = self._now(), container["name"], container.get("image", "")
        pod_name = pod["metadata"]["name"]
        found: dict[str, Any] = {
            "name": name,
            "image": image,
            "imageID": f"{image.split(':')[0]}@sha256:{hashlib.sha256(image.encode()).hexdigest()}",
            "containerID": f"containerd://{hashlib.sha256(f'{pod_name}/{name}'.encode()).hexdigest()}",
        }
        if not dying:
            return {
                **found,
                "ready": True,
                "started": True,
                "restartCount": 0,
                "state": {"running": {"startedAt": now}},
            }
        reason = self.bad_images[container["image"]]
        message = (
            f"back-off 10s restarting failed container={name} "
            f"pod={pod['metadata']['name']}_{pod['metadata']['namespace']}({pod['metadata']['uid']})"
        )
        terminated = {
            "exitCode": EXIT_CODES.get(reason, 1),
            "reason": reason,
            "startedAt": now,
            "finishedAt": now,
        }
        return {**found, "ready": False, "started": False, "restartCount": 1,
                "state": {"waiting": {"reason": "CrashLoopBackOff", "message": message}},
                "lastState": {"terminated": terminated}}  # fmt: skip

    @staticmethod
    def _port(container: dict[str, Any]) -> int:
        return int(((container.get("ports") or [{}])[0]).get("containerPort", 8080))

    def _metrics(self, pod: dict[str, Any], number: int) -> dict[str, Any]:
        """A metrics-server sample: a fifth of the CPU limit, two fifths of the memory limit (or less)."""
        usage = []
        for c in pod["spec"].get("containers") or []:
            limits = (c.get("resources") or {}).get("limits") or {}
            cpu = quantity(limits.get("cpu", "500m")) * Decimal("0.2") + Decimal(number % 7) / 1000
            memory = quantity(limits.get("memory", "512Mi")) * Decimal("0.4")
            usage.append(
                {
                    "name": c["name"],
                    "usage": {"cpu": f"{int(cpu * 10**9)}n", "memory": f"{int(memory / 1024)}Ki"},
                }
            )
        meta = pod["metadata"]
        return {
            "apiVersion": "metrics.k8s.io/v1beta1",
            "kind": "PodMetrics",
            "metadata": {
                "name": meta["name"],
                "namespace": meta["namespace"],
                "labels": meta.get("labels", {}),
            },
            "timestamp": self._now(),
            "window": "15s",
            "containers": usage,
        }

    def remove(self, pod: dict[str, Any]) -> None:
        """The pod is gone, and with it its metrics and logs."""
        meta = pod["metadata"]
        for obj in [o for o in self.store.objects if o["kind"] in ("Pod", "PodMetrics")]:
            if (obj["metadata"]["name"], obj["metadata"].get("namespace")) == (
                meta["name"],
                meta.get("namespace"),
            ):
                self.store.remove(obj)
        self.logs.pop(meta["name"], None)

    def event(self, obj: dict[str, Any], kind: str, reason: str, message: str, component: str) -> None:
        meta, now = obj["metadata"], self._now()
        self.store.add({
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{meta['name']}.{next(self._events):016x}", "namespace": meta["namespace"]},
            "involvedObject": {"kind": obj["kind"], "namespace": meta["namespace"], "name": meta["name"],
                               "apiVersion": obj["apiVersion"], "uid": meta.get("uid")},
            "reason": reason,
            "message": message,
            "source": {"component": component},
            "firstTimestamp": now,
            "lastTimestamp": now,
            "count": 1,
            "type": kind,
        })  # fmt: skip
