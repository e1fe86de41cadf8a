"""The simulated API server's storage and write semantics, independent of HTTP.

What a write does, as kube-apiserver does it:
- every stored change gets the next `metadata.resourceVersion` (one counter, as etcd's revision); a write
  that changes nothing keeps it; `metadata.generation` moves on spec changes of the kinds that have one;
- `status` of kinds with a status subresource cannot be changed through the main resource;
- an update (PUT, or the object a patch produces) whose `metadata.resourceVersion` differs from the stored
  one is 409 Conflict; without one it is unconditional; `uid`, `creationTimestamp` cannot change;
- `dry_run` answers what would be stored (validated, defaulted, generation moved, resourceVersion not) and
  stores nothing;
- a deleted pod is terminating (`deletionTimestamp`) until the simulated kubelet removes it; DeleteOptions
  preconditions (uid, resourceVersion) are checked; the `/scale` subresource reads and writes
  `spec.replicas` of a Deployment, sharing its resourceVersion.
"""

from __future__ import annotations

import copy
import itertools
import json
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.clock import Clock
from sandbox import kube_patch
from sandbox.kube_selectors import selector_string
from sandbox.kube_status import (
    MODIFIED,
    PATCH_REJECTED,
    already_exists,
    bad_request,
    conflict,
    not_found,
    status,
)
from sandbox.kube_validate import canonical, validate

RESOURCES = {  # (apiVersion, plural) -> kind: what the fake serves
    ("v1", "pods"): "Pod", ("v1", "events"): "Event", ("v1", "services"): "Service",
    ("v1", "endpoints"): "Endpoints", ("v1", "configmaps"): "ConfigMap", ("v1", "nodes"): "Node",
    ("v1", "secrets"): "Secret", ("apps/v1", "deployments"): "Deployment", ("apps/v1", "replicasets"): "ReplicaSet",
    ("metrics.k8s.io/v1beta1", "pods"): "PodMetrics",
    ("autoscaling/v2", "horizontalpodautoscalers"): "HorizontalPodAutoscaler",
    ("networking.k8s.io/v1", "networkpolicies"): "NetworkPolicy", ("networking.k8s.io/v1", "ingresses"): "Ingress",
    ("cert-manager.io/v1", "certificates"): "Certificate",
    ("coordination.k8s.io/v1", "leases"): "Lease",
}  # fmt: skip
READ_ONLY_APIS = {"metrics.k8s.io/v1beta1"}  # metrics-server serves reads only
GENERATION_KINDS = {
    "Deployment",
    "ReplicaSet",
    "HorizontalPodAutoscaler",
    "NetworkPolicy",
    "Ingress",
    "Certificate",
}
STATUS_KINDS = {
    "Deployment",
    "ReplicaSet",
    "Pod",
    "HorizontalPodAutoscaler",
    "Certificate",
    "Node",
    "Service",
    "Ingress",
}
PATCH_TYPES = (
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
)
DEFAULT_GRACE_S = 30
FIRST_RESOURCE_VERSION = 918000


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def group_of(api_version: str) -> str:
    return api_version.rpartition("/")[0]


class Store:
    """The served objects (shared with FakeKubeApi.objects, which tests may edit) and every write to them."""

    def __init__(self, objects: list[dict[str, Any]], clock: Clock) -> None:
        self.objects, self.clock = objects, clock
        self._version = FIRST_RESOURCE_VERSION
        self._uids = itertools.count(1)
        self.on_change: Callable[[dict[str, Any]], None] = lambda obj: None
        for obj in objects:  # a real server has given every object these
            if obj["apiVersion"] not in READ_ONLY_APIS:
                meta = obj.setdefault("metadata", {})
                meta.setdefault("uid", self.new_uid())
                meta["resourceVersion"] = self.next_version()
            if obj["kind"] == "ReplicaSet":
                obj["metadata"].setdefault(
                    "generation", (obj.get("status") or {}).get("observedGeneration", 1)
                )

    # --- bookkeeping shared with the controller ---

    def next_version(self) -> str:
        self._version += 1
        return str(self._version)

    @property
    def version(self) -> str:
        """The latest resourceVersion (a list's)."""
        return str(self._version)

    def new_uid(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"fake-kube/{next(self._uids)}"))

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store a new object as the server would (uid, creationTimestamp, resourceVersion)."""
        meta = obj["metadata"]
        meta.setdefault("uid", self.new_uid())
        meta.setdefault("creationTimestamp", stamp(self.clock.now()))
        meta["resourceVersion"] = self.next_version()
        self.objects.append(obj)
        self.on_change(obj)
        return obj

    def put(self, current: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
        """Replace a stored object by a changed copy, with the next resourceVersion."""
        new["metadata"]["resourceVersion"] = self.next_version()
        self.objects[self.objects.index(current)] = new
        self.on_change(new)
        return new

    def remove(self, obj: dict[str, Any]) -> None:
        self.objects.remove(obj)
        self.on_change(obj)

    # --- reads ---

    def matching(self, api_version: str, plural: str, namespace: str | None) -> list[dict[str, Any]]:
        kind = RESOURCES[(api_version, plural)]
        return [
            o for o in self.objects
            if (o["apiVersion"], o["kind"]) == (api_version, kind)
            and namespace in (None, o["metadata"].get("namespace"))
        ]  # fmt: skip

    def find(self, api_version: str, plural: str, namespace: str | None, name: str) -> dict[str, Any]:
        for obj in self.matching(api_version, plural, namespace):
            if obj["metadata"]["name"] == name:
                return obj
        raise not_found(plural, group_of(api_version), name)

    # --- writes ---

    def create(
        self, api_version: str, plural: str, namespace: str | None, body: Any, dry_run: bool
    ) -> dict[str, Any]:
        kind = RESOURCES[(api_version, plural)]
        new = self._decoded(body, api_version, kind)
        meta = new.setdefault("metadata", {})
        if meta.get("resourceVersion"):
            raise bad_request("resourceVersion should not be set on objects to be created")
        self._check_namespace(meta, namespace)
        if namespace is not None:
            meta["namespace"] = namespace
        if any(
            o["metadata"]["name"] == meta.get("name") for o in self.matching(api_version, plural, namespace)
        ):
            raise already_exists(plural, group_of(api_version), meta["name"])
        if kind in GENERATION_KINDS:
            meta["generation"] = 1
        for field in ("uid", "creationTimestamp", "deletionTimestamp"):
            meta.pop(field, None)
        canonical(kind, new)
        validate(kind, group_of(api_version), api_version.rpartition("/")[2], new, None)
        if dry_run:
            return {
                **new,
                "metadata": {**meta, "uid": self.new_uid(), "creationTimestamp": stamp(self.clock.now())},
            }
        return self.add(new)

    def replace(
        self, api_version: str, plural: str, namespace: str | None, name: str, body: Any, dry_run: bool
    ) -> dict[str, Any]:
        current = self.find(api_version, plural, namespace, name)
        new = self._decoded(body, api_version, current["kind"])
        return self.update(api_version, plural, current, new, dry_run)

    def patch(
        self,
        api_version: str,
        plural: str,
        namespace: str | None,
        name: str,
        content_type: str,
        body: Any,
        dry_run: bool,
    ) -> dict[str, Any]:
        current = self.find(api_version, plural, namespace, name)
        patched = apply_patch(current, content_type, body)
        return self.update(api_version, plural, current, patched, dry_run)

    def update(
        self, api_version: str, plural: str, current: dict[str, Any], new: dict[str, Any], dry_run: bool
    ) -> dict[str, Any]:
        """Store `new` in place of `current` (a PUT, or what a patch produced), with the API's rules."""
        kind, group = current["kind"], group_of(api_version)
        old_meta, meta = current["metadata"], new.setdefault("metadata", {})
        name = old_meta["name"]
        if meta.get("name") != name:
            raise bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
            )
        self._check_namespace(meta, old_meta.get("namespace"))
        if meta.get("uid") and meta["uid"] != old_meta.get("uid"):
            why = f"Precondition failed: UID in precondition: {meta['uid']}, UID in object meta: {old_meta.get('uid')}"
            raise conflict(plural, group, name, why)
        if meta.get("resourceVersion") and meta["resourceVersion"] != old_meta.get("resourceVersion"):
            raise conflict(plural, group, name, MODIFIED)
        new["apiVersion"], new["kind"] = current["apiVersion"], kind
        kept = ("uid", "creationTimestamp", "namespace", "resourceVersion", "deletionTimestamp", "generation")
        for field in kept:
            if field in old_meta:
                meta[field] = old_meta[field]
            else:
                meta.pop(field, None)
        if kind in STATUS_KINDS:
            new["status"] = copy.deepcopy(current.get("status"))
            if new["status"] is None:
                new.pop("status")
        if kind in GENERATION_KINDS:
            generation = old_meta.get("generation", 1)
            meta["generation"] = generation + 1 if new.get("spec") != current.get("spec") else generation
        canonical(kind, new)
        validate(kind, group, api_version.rpartition("/")[2], new, current)
        if dry_run or kube_patch.same(new, current):  # an unchanged object keeps its resourceVersion
            return new
        return self.put(current, new)

    def delete(
        self, api_version: str, plural: str, namespace: str | None, name: str, options: Any, dry_run: bool
    ) -> dict[str, Any]:
        current = self.find(api_version, plural, namespace, name)
        options = options if isinstance(options, dict) else {}
        dry_run = dry_run or "All" in (options.get("dryRun") or [])
        meta, group = current["metadata"], group_of(api_version)
        wanted = options.get("preconditions") or {}
        if wanted.get("uid") and wanted["uid"] != meta.get("uid"):
            why = f"Precondition failed: UID in precondition: {wanted['uid']}, UID in object meta: {meta.get('uid')}"
            raise conflict(plural, group, name, why)
        if wanted.get("resourceVersion") and wanted["resourceVersion"] != meta.get("resourceVersion"):
            why = (
                f"the ResourceVersion in the precondition ({wanted['resourceVersion']}) does not match the "
                f"ResourceVersion in record ({meta.get('resourceVersion')}). The object might have been modified"
            )
            raise conflict(plural, group, name, why)
        if current["kind"] != "Pod":
            if not dry_run:
                self.remove(current)
            body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
            return {**body, "details": {"name": name, "group": group, "kind": plural, "uid": meta.get("uid")}}
        if meta.get("deletionTimestamp"):  # already terminating
            return current
        grace = options.get("gracePeriodSeconds")
        grace = DEFAULT_GRACE_S if grace is None else int(grace)
        terminating = copy.deepcopy(current)
        terminating["metadata"].update(
            deletionTimestamp=stamp(self.clock.now() + timedelta(seconds=grace)),
            deletionGracePeriodSeconds=grace,
        )
        if dry_run:
            return terminating
        if grace == 0:
            self.remove(current)
            return terminating
        return self.put(current, terminating)

    # --- the scale subresource of a Deployment ---

    def scale_of(self, deployment: dict[str, Any]) -> dict[str, Any]:
        meta = deployment["metadata"]
        return {
            "kind": "Scale",
            "apiVersion": "autoscaling/v1",
            "metadata": {
                k: meta[k]
                for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                if k in meta
            },
            "spec": {"replicas": deployment["spec"].get("replicas", 1)},
            "status": {
                "replicas": (deployment.get("status") or {}).get("replicas", 0),
                "selector": selector_string(deployment["spec"]["selector"]),
            },
        }

    def write_scale(
        self, namespace: str | None, name: str, body: Any, dry_run: bool, content_type: str | None = None
    ) -> dict[str, Any]:
        """PUT (content_type None) or PATCH of deployments/NAME/scale: spec.replicas of the Deployment."""
        current = self.find("apps/v1", "deployments", namespace, name)
        if content_type is None:
            scale = self._decoded(body, "autoscaling/v1", "Scale")
        else:
            scale = apply_patch(self.scale_of(current), content_type, body)
        meta = scale.get("metadata") or {}
        if meta.get("name") != name:
            raise bad_request(
                f"the name of the object ({meta.get('name')}) does not match the name on the URL ({name})"
            )
        validate("Scale", "autoscaling", "v1", scale, self.scale_of(current))
        if meta.get("resourceVersion") and meta["resourceVersion"] != current["metadata"]["resourceVersion"]:
            raise conflict("deployments", "apps", name, MODIFIED)
        new = copy.deepcopy(current)
        new["spec"]["replicas"] = (scale.get("spec") or {}).get("replicas", 0)
        return self.scale_of(self.update("apps/v1", "deployments", current, new, dry_run))

    # --- helpers ---

    @staticmethod
    def _decoded(body: Any, api_version: str, kind: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise bad_request(
                f'{kind} in version "{api_version.rpartition("/")[2]}" cannot be handled as a {kind}'
            )
        if body.get("kind", kind) != kind:
            raise bad_request(
                f"the kind in the data ({body['kind']}) does not match the expected kind ({kind})"
            )
        if body.get("apiVersion", api_version) != api_version:
            raise bad_request(
                f"the API version in the data ({body['apiVersion']}) does not match the expected API version "
                f"({api_version})"
            )
        return {**copy.deepcopy(body), "apiVersion": api_version, "kind": kind}

    @staticmethod
    def _check_namespace(meta: dict[str, Any], namespace: str | None) -> None:
        if meta.get("namespace") and namespace and meta["namespace"] != namespace:
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )


def apply_patch(current: dict[str, Any], content_type: str, body: Any) -> dict[str, Any]:
    """The object a PATCH of this content type would produce (415 for others, 400/422 as the server answers)."""
    if content_type not in PATCH_TYPES:
        message = (
            "the body of the request was in an unknown format - accepted media types include: "
            + ", ".join(PATCH_TYPES)
        )
        raise status(415, "UnsupportedMediaType", message)
    if content_type == "application/json-patch+json":
        if not isinstance(body, list):
            raise bad_request(
                f"json: cannot unmarshal {type(body).__name__} into Go value of type jsonpatch.Patch"
            )
        try:
            patched = kube_patch.json_patch(current, body)
        except kube_patch.PatchError:
            raise status(422, "Invalid", PATCH_REJECTED) from None
    else:
        if not isinstance(body, dict):
            raise bad_request("the body of the request must be a JSON object")
        try:
            if content_type == "application/merge-patch+json":
                patched = kube_patch.merge_patch(current, body)
            else:
                patched = kube_patch.strategic_merge_patch(current, body)
        except kube_patch.PatchError as err:
            raise bad_request(str(err)) from None
    if not isinstance(patched, dict):
        raise status(422, "Invalid", PATCH_REJECTED)
    return patched


def parse_body(raw: bytes) -> Any:
    """A request body as JSON (400 as the server answers when it is not)."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError as err:
        raise bad_request(f"error decoding request body: {err}") from None
