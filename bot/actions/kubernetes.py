"""Kubernetes actions: rollout undo/restart, scale, set env, set resources, delete a pod (all behind approval).

Each sends what kubectl sends for the same command (kubernetes/kubectl: pkg/polymorphichelpers/rollback.go,
objectrestarter.go, pkg/cmd/set, pkg/scale), through the official client, with one addition: the version
the preview showed is a precondition of the write, so an approval never applies to an object that changed
since. How, per request type:

- JSON Patch (rollout undo): a `test` of `/metadata/resourceVersion` placed before kubectl's two operations,
  so the rest of the patch is exactly kubectl's; a mismatch fails the whole patch (422);
- strategic merge patch (restart, set env, set resources): `metadata.resourceVersion` in the patch (409);
- scale: the previewed Scale is PUT back with its resourceVersion (409), as `kubectl scale --resource-version`;
- delete pod: DeleteOptions preconditions on the pod's uid (409). Not its resourceVersion: a crash-looping
  pod's status, and so its resourceVersion, changes at every restart, while "the same pod" is what matters.

A rejected precondition changes nothing and raises StaleTarget. Every preview is checked with a server-side
dry run of the exact request (`dryRun=All`), and its template changes are read from what the server says it
would store. Verification polls with `ctx.clock` until the change took effect or `timeout_s` passed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from bot.actions.base import (
    ActionContext,
    ActionError,
    Change,
    Outcome,
    Preview,
    Verification,
)
from bot.actions.kube_access import Cluster, KubeApiError, selector_query
from bot.actions.kube_rollout import (
    CHANGE_CAUSE,
    Progress,
    containers_patch,
    env_text,
    equal_ignore_hash,
    is_ready,
    pod_trouble,
    revision,
    rollback_patch,
    rollback_target,
    rollout_progress,
    selected_containers,
    troubles,
    update_env,
)
from bot.actions.kube_steps import (
    STRATEGIC,
    execute,
    execute_patch,
    kube_target,
    patch_plan,
    poll,
    refuse_paused,
    server_dry_run,
    template_preview,
)
from bot.params import Params
from bot.probes.kube_format import rollback_cause
from bot.yamlfile import expected

QUANTITY = expected(
    r"^\d+(\.\d+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$", "a Kubernetes quantity, such as 500m, 1, 512Mi or 2Gi"
)
ENV_NAME = expected(r"^[A-Za-z_][A-Za-z0-9_]*$", "an environment variable name, such as LOG_LEVEL")
NAME = expected(
    r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "a Kubernetes object name (lowercase letters, digits, '-' and '.')"
)
RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL", re.IGNORECASE)


class RolloutUndoParams(Params):
    """`kubectl rollout undo deployment/{deployment}` (to the previous revision unless one is given)."""

    deployment: str = "{deployment}"
    to_revision: int | None = Field(None, ge=1)


class RolloutRestartParams(Params):
    """`kubectl rollout restart deployment/{deployment}`: new pods, same spec."""

    deployment: str = "{deployment}"


class ScaleParams(Params):
    """`kubectl scale deployment/{deployment} --replicas=N`."""

    deployment: str = "{deployment}"
    replicas: int = Field(ge=0, le=200)
    allow_scale_down: bool = Field(
        False, description="a fix that adds capacity never removes it unless this is set"
    )


class SetEnvParams(Params):
    """`kubectl set env deployment/{deployment} NAME=value ...` (values are previewed, so never secrets)."""

    deployment: str = "{deployment}"
    container: str | None = None
    env: dict[Annotated[str, StringConstraints(pattern=ENV_NAME)], str] = Field(min_length=1)

    @model_validator(mode="after")
    def _no_secrets(self) -> SetEnvParams:
        # The value is shown in Slack and stored in the Deployment: a secret belongs in a Secret (valueFrom).
        named = [name for name in self.env if SECRET_NAME.search(name)]
        if named:
            raise ValueError(
                f"{', '.join(named)} looks like a secret: set it from a Secret, not through chat"
            )
        return self


class SetResourcesParams(Params):
    """`kubectl set resources deployment/{deployment} --limits=... --requests=...`."""

    deployment: str = "{deployment}"
    container: str | None = None
    memory_limit: str | None = Field(None, pattern=QUANTITY)
    cpu_limit: str | None = Field(None, pattern=QUANTITY)
    memory_request: str | None = Field(None, pattern=QUANTITY)
    cpu_request: str | None = Field(None, pattern=QUANTITY)

    @model_validator(mode="after")
    def _something_to_set(self) -> SetResourcesParams:
        if not self.wanted():
            raise ValueError("give at least one of memory_limit, cpu_limit, memory_request, cpu_request")
        return self

    def wanted(self) -> dict[str, dict[str, str]]:
        """{"limits": {"memory": "1Gi"}, "requests": {...}} for the values given."""
        pairs = [("limits", "memory", self.memory_limit), ("limits", "cpu", self.cpu_limit),
                 ("requests", "memory", self.memory_request), ("requests", "cpu", self.cpu_request)]  # fmt: skip
        wanted: dict[str, dict[str, str]] = {}
        for which, resource, value in pairs:
            if value is not None:
                wanted.setdefault(which, {})[resource] = value
        return wanted


class DeletePodParams(Params):
    """`kubectl delete pod NAME`: one of the service's pods, which its ReplicaSet replaces."""

    pod: str = Field(pattern=NAME, max_length=253)


def rollout_verify(
    ctx: ActionContext, params: Any, preview: Preview, outcome: Outcome, timeout_s: float
) -> Verification:
    """Verify a change of the pod template (undo, restart, set env, set resources) as `kubectl rollout status`
    does, and that the new ReplicaSet's pods are all ready."""
    if outcome.status == "no_op":
        return Verification(status="verified", summary=f"no change was needed: {outcome.summary}")
    kube = Cluster(ctx)

    def check() -> Progress:
        deployment = kube.deployment(preview.target.name)
        owned = kube.replica_sets(deployment)
        return rollout_progress(deployment, owned, kube.pods(selector_query(deployment["spec"]["selector"])))

    return poll(ctx, timeout_s, check)


# --- rollout undo ---


def rollout_undo_preview(ctx: ActionContext, params: RolloutUndoParams) -> Preview:
    kube = Cluster(ctx)
    deployment = kube.deployment(ctx.render(params.deployment))
    meta, template = deployment["metadata"], deployment["spec"]["template"]
    owned = kube.replica_sets(deployment)
    rs = rollback_target(deployment, owned, params.to_revision)
    refuse_paused(
        deployment,
        "you cannot rollback a paused deployment; resume it first with 'kubectl rollout resume' and try again",
    )
    number = revision(rs)
    if equal_ignore_hash(rs["spec"]["template"], template):
        target = kube_target(kube, "Deployment", meta["name"], meta["resourceVersion"])
        no_op = f"skipped rollback (current template already matches revision {number})"
        return Preview(action="k8s.rollout_undo", target=target, no_op=no_op)
    becomes = max((revision(r) or 0) for r in owned) + 1
    cause_then = rollback_cause(
        number, becomes, (rs["metadata"].get("annotations") or {}).get(CHANGE_CAUSE, "")
    )
    guard = {"op": "test", "path": "/metadata/resourceVersion", "value": meta["resourceVersion"]}
    plan = patch_plan(
        kube,
        meta["name"],
        "application/json-patch+json",
        [guard, *rollback_patch(deployment, rs, cause_then)],
    )
    first = [
        Change(
            what="revision",
            before=str(revision(deployment) or "(none)"),
            after=f"{number} (becomes {becomes})",
        ),
        Change(
            what="change-cause",
            before=(meta.get("annotations") or {}).get(CHANGE_CAUSE, "(none)"),
            after=cause_then,
        ),
    ]
    warnings = []
    if LAST_APPLIED in (meta.get("annotations") or {}):
        warnings.append(
            "the Deployment is applied from manifests (kubectl apply): the next apply or GitOps sync rolls "
            "it forward again unless the manifests change too"
        )
    preview = template_preview("k8s.rollout_undo", kube, deployment, plan, first, warnings)
    # Images first: they are what a person checks.
    images = [c for c in preview.changes if c.what.startswith("image")]
    return preview.model_copy(update={"changes": images + [c for c in preview.changes if c not in images]})


def rollout_undo_execute(ctx: ActionContext, params: RolloutUndoParams, preview: Preview) -> Outcome:
    shown = "; ".join(str(c) for c in preview.changes if c.what.startswith(("image", "revision")))
    return execute_patch(ctx, preview, f"rolled back {preview.target} ({shown})")


# --- rollout restart ---


def rollout_restart_preview(ctx: ActionContext, params: RolloutRestartParams) -> Preview:
    kube = Cluster(ctx)
    deployment = kube.deployment(ctx.render(params.deployment))
    meta, spec = deployment["metadata"], deployment["spec"]
    refuse_paused(deployment, "can't restart paused deployment (run rollout resume first)")
    restarted_at = ctx.clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")
    annotations = (spec["template"].get("metadata") or {}).get("annotations") or {}
    if annotations.get(RESTARTED_AT) == restarted_at:  # kubectl: "already triggered within the past second"
        target = kube_target(kube, "Deployment", meta["name"], meta["resourceVersion"])
        return Preview(
            action="k8s.rollout_restart",
            target=target,
            no_op=f"a restart was already triggered at {restarted_at}",
        )
    body = {
        "metadata": {"resourceVersion": meta["resourceVersion"]},
        "spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: restarted_at}}}},
    }
    plan = patch_plan(kube, meta["name"], STRATEGIC, body)
    pods = kube.pods(selector_query(spec["selector"]))
    current = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    desired = spec.get("replicas", 1)
    ready = sum(is_ready(p) for p in current)
    first = [
        Change(what="pods", before=f"{len(current)}, {ready} ready", after=f"{desired} new ones, same spec")
    ]
    warnings = []
    if current and not any(is_ready(p) for p in current):
        images = ", ".join(
            sorted({c.get("image", "") for c in spec["template"]["spec"].get("containers") or []})
        )
        warnings.append(
            f"none of the current pods is ready ({troubles(current)}): new pods of the same spec ({images}) "
            "will likely fail the same way"
        )
    return template_preview("k8s.rollout_restart", kube, deployment, plan, first, warnings)


def rollout_restart_execute(ctx: ActionContext, params: RolloutRestartParams, preview: Preview) -> Outcome:
    return execute_patch(ctx, preview, f"restarted {preview.target}")


# --- set env, set resources ---


def set_env_preview(ctx: ActionContext, params: SetEnvParams) -> Preview:
    kube = Cluster(ctx)
    deployment = kube.deployment(ctx.render(params.deployment))
    meta, spec = deployment["metadata"], deployment["spec"]["template"]["spec"]
    entries: dict[tuple[str, int], dict[str, Any]] = {}
    warnings = []
    for field, i in selected_containers(deployment, params.container):
        container = spec[field][i]
        before = {e["name"]: e for e in container.get("env") or []}
        changed = []
        for name, value in params.env.items():
            old = before.get(name)
            if old is not None and old.get("value") == value and not old.get("valueFrom"):
                continue
            # A variable that came from a secret or configmap loses that source (`valueFrom: null`).
            changed.append(
                {
                    "name": name,
                    "value": value,
                    **({"valueFrom": None} if old and old.get("valueFrom") else {}),
                }
            )
            if old and old.get("valueFrom"):
                warnings.append(
                    f"{name} in {container['name']} came {env_text(old)}: it becomes a literal value in the Deployment"
                )
        if changed:
            updated = update_env(container.get("env") or [], params.env)
            entries[(field, i)] = {
                "$setElementOrder/env": [{"name": e["name"]} for e in updated],
                "env": changed,
            }
    if not entries:
        target = kube_target(kube, "Deployment", meta["name"], meta["resourceVersion"])
        no_op = f"{', '.join(params.env)} already set to the values asked"
        return Preview(action="k8s.set_env", target=target, no_op=no_op)
    plan = patch_plan(kube, meta["name"], STRATEGIC, containers_patch(deployment, entries))
    return template_preview("k8s.set_env", kube, deployment, plan, warnings=warnings)


def set_env_execute(ctx: ActionContext, params: SetEnvParams, preview: Preview) -> Outcome:
    return execute_patch(ctx, preview, f"set {', '.join(params.env)} on {preview.target}")


def set_resources_preview(ctx: ActionContext, params: SetResourcesParams) -> Preview:
    kube = Cluster(ctx)
    deployment = kube.deployment(ctx.render(params.deployment))
    meta, spec = deployment["metadata"], deployment["spec"]["template"]["spec"]
    entries: dict[tuple[str, int], dict[str, Any]] = {}
    for field, i in selected_containers(deployment, params.container):
        current = spec[field][i].get("resources") or {}
        changed = {
            which: {r: v for r, v in values.items() if (current.get(which) or {}).get(r) != v}
            for which, values in params.wanted().items()
        }
        changed = {which: values for which, values in changed.items() if values}
        if changed:
            entries[(field, i)] = {"resources": changed}
    if not entries:
        target = kube_target(kube, "Deployment", meta["name"], meta["resourceVersion"])
        return Preview(action="k8s.set_resources", target=target, no_op="the resources are already as asked")
    plan = patch_plan(kube, meta["name"], STRATEGIC, containers_patch(deployment, entries))
    return template_preview("k8s.set_resources", kube, deployment, plan)


def set_resources_execute(ctx: ActionContext, params: SetResourcesParams, preview: Preview) -> Outcome:
    return execute_patch(ctx, preview, f"set resources of {preview.target}")


# --- scale ---


def _autoscaler(kube: Cluster, name: str, warnings: list[str]) -> dict[str, Any] | None:
    """The HorizontalPodAutoscaler that targets the Deployment, if any (a warning when it cannot be known)."""
    try:
        listed = kube.call(kube.autoscaling.list_namespaced_horizontal_pod_autoscaler, kube.namespace)
    except KubeApiError as err:
        if err.code not in (403, 404):  # RBAC without autoscaling, or no autoscaling/v2: say so, go on
            raise
        warnings.append(f"could not check for a HorizontalPodAutoscaler that would override the count: {err}")
        return None
    for hpa in listed.get("items") or []:
        ref = (hpa.get("spec") or {}).get("scaleTargetRef") or {}
        if ref.get("kind") == "Deployment" and ref.get("name") == name:
            return hpa
    return None


def scale_preview(ctx: ActionContext, params: ScaleParams) -> Preview:
    kube = Cluster(ctx)
    name = ctx.render(params.deployment)
    scale = kube.call(kube.apps.read_namespaced_deployment_scale, name, kube.namespace)
    current, wanted = scale["spec"].get("replicas", 0), params.replicas
    target = kube_target(kube, "Deployment", name, scale["metadata"]["resourceVersion"])
    if wanted == current:
        return Preview(action="k8s.scale", target=target, no_op=f"already {current} replicas")
    if wanted < current and not params.allow_scale_down:
        no_op = f"not scaling down: {name} already has {current} replicas, more than the {wanted} asked (allow_scale_down is off)"
        return Preview(action="k8s.scale", target=target, no_op=no_op)
    warnings: list[str] = []
    hpa = _autoscaler(kube, name, warnings)
    if hpa is not None:
        hpa_name, low, high = (
            hpa["metadata"]["name"],
            hpa["spec"].get("minReplicas", 1),
            hpa["spec"]["maxReplicas"],
        )
        if not low <= wanted <= high:
            raise ActionError(
                f"{wanted} replicas is outside HorizontalPodAutoscaler {hpa_name}'s range ({low} to {high}): it "
                f"would scale the deployment back; change the HPA's {'max' if wanted > high else 'min'}Replicas instead"
            )
        warnings.append(
            f"HorizontalPodAutoscaler {hpa_name} manages the replicas ({low} to {high}): it may change {wanted} again at its next sync"
        )
    # The Scale as read, with the new count: its resourceVersion is the precondition. Only the fields that
    # matter, so the client's model of a Scale sends the body exactly as planned.
    meta = {
        k: scale["metadata"][k]
        for k in ("name", "namespace", "uid", "resourceVersion")
        if k in scale["metadata"]
    }
    body = {"apiVersion": "autoscaling/v1", "kind": "Scale", "metadata": meta, "spec": {"replicas": wanted}}
    path = f"/apis/apps/v1/namespaces/{kube.namespace}/deployments/{name}/scale"
    plan = {"method": "PUT", "path": path, "content_type": "application/json", "body": body}
    server_dry_run(
        lambda: kube.call(
            kube.apps.replace_namespaced_deployment_scale, name, kube.namespace, body, dry_run="All"
        )
    )
    changes = [Change(what="replicas", before=str(current), after=str(wanted))]
    return Preview(action="k8s.scale", target=target, changes=changes, warnings=warnings, plan=plan)


def scale_execute(ctx: ActionContext, params: ScaleParams, preview: Preview) -> Outcome:
    def send(kube: Cluster) -> Any:
        return kube.call(
            kube.apps.replace_namespaced_deployment_scale,
            preview.target.name,
            kube.namespace,
            preview.plan["body"],
        )

    return execute(ctx, preview, send, f"scaled {preview.target} to {params.replicas} replicas")


def scale_verify(
    ctx: ActionContext, params: ScaleParams, preview: Preview, outcome: Outcome, timeout_s: float
) -> Verification:
    """Done when the Deployment has exactly the replicas asked, all ready."""
    if outcome.status == "no_op":
        return Verification(status="verified", summary=f"no change was needed: {outcome.summary}")
    kube, wanted = Cluster(ctx), params.replicas

    def check() -> Progress:
        deployment = kube.deployment(preview.target.name)
        spec, status = deployment["spec"], deployment.get("status") or {}
        if spec.get("replicas") != wanted:
            return Progress(
                False,
                True,
                f"the replicas were changed to {spec.get('replicas')} by something else (an autoscaler?)",
            )
        pods = [
            p
            for p in kube.pods(selector_query(spec["selector"]))
            if not p["metadata"].get("deletionTimestamp")
        ]
        ready = sum(is_ready(p) for p in pods)
        observed = status.get("observedGeneration", 0) >= deployment["metadata"].get("generation", 0)
        trouble = f": {troubles(pods)}" if troubles(pods) else ""
        return Progress(
            observed and ready == len(pods) == wanted, False, f"{ready}/{wanted} replicas ready{trouble}"
        )

    return poll(ctx, timeout_s, check)


# --- delete pod ---


def _controller(pod: dict[str, Any]) -> dict[str, Any] | None:
    return next((o for o in pod["metadata"].get("ownerReferences") or [] if o.get("controller")), None)


def delete_pod_preview(ctx: ActionContext, params: DeletePodParams) -> Preview:
    kube = Cluster(ctx)
    selector = ctx.render("{selector}")
    pod = kube.call(kube.core.read_namespaced_pod, params.pod, kube.namespace)
    mine = kube.pods(selector)
    if params.pod not in {p["metadata"]["name"] for p in mine}:
        raise ActionError(f"pod {params.pod} is not one of {ctx.service_name}'s pods (selector {selector})")
    meta = pod["metadata"]
    target = kube_target(kube, "Pod", params.pod, meta["uid"])
    if meta.get("deletionTimestamp"):
        return Preview(
            action="k8s.delete_pod", target=target, no_op=f"pod {params.pod} is already terminating"
        )
    owner, warnings = _controller(pod), []
    if owner is None:
        warnings.append(f"no controller owns pod {params.pod}: nothing will replace it")
    others = [p for p in mine if p["metadata"]["name"] != params.pod and is_ready(p)]
    if is_ready(pod) and not others:
        warnings.append("it is the only ready pod: nothing serves until its replacement is ready")
    restarts = sum(c.get("restartCount", 0) for c in (pod.get("status") or {}).get("containerStatuses") or [])
    state = "ready" if is_ready(pod) else pod_trouble(pod)
    after = f"deleted; {owner['kind']} {owner['name']} starts a replacement" if owner else "deleted"
    changes = [Change(what=f"pod {params.pod}", before=f"{state}, {restarts} restarts", after=after)]
    body = {"preconditions": {"uid": meta["uid"]}}
    path = f"/api/v1/namespaces/{kube.namespace}/pods/{params.pod}"
    plan = {"method": "DELETE", "path": path, "content_type": "application/json", "body": body}
    server_dry_run(
        lambda: kube.call(
            kube.core.delete_namespaced_pod, params.pod, kube.namespace, body=body, dry_run="All"
        )
    )
    return Preview(action="k8s.delete_pod", target=target, changes=changes, warnings=warnings, plan=plan)


def delete_pod_execute(ctx: ActionContext, params: DeletePodParams, preview: Preview) -> Outcome:
    siblings: list[str] = []

    def send(kube: Cluster) -> Any:
        # The pods there are now, so verification can tell the replacement from them.
        siblings.extend(p["metadata"]["uid"] for p in kube.pods(ctx.render("{selector}")))
        return kube.call(
            kube.core.delete_namespaced_pod, params.pod, kube.namespace, body=preview.plan["body"]
        )

    outcome = execute(ctx, preview, send, f"deleted pod {preview.target.namespace}/{params.pod}")
    return outcome.model_copy(update={"detail": {**outcome.detail, "pods_before": siblings}})


def delete_pod_verify(
    ctx: ActionContext, params: DeletePodParams, preview: Preview, outcome: Outcome, timeout_s: float
) -> Verification:
    """Done when the pod is gone and a new pod of the service is ready in its place."""
    if outcome.status == "no_op":
        return Verification(status="verified", summary=f"no change was needed: {outcome.summary}")
    kube, before = Cluster(ctx), set(outcome.detail.get("pods_before") or [])

    def check() -> Progress:
        pods = kube.pods(ctx.render("{selector}"))
        if any(p["metadata"]["uid"] == preview.target.version for p in pods):
            return Progress(False, False, f"pod {params.pod} is still terminating")
        new = [
            p
            for p in pods
            if p["metadata"]["uid"] not in before and not p["metadata"].get("deletionTimestamp")
        ]
        ready = [p for p in new if is_ready(p)]
        if ready:
            return Progress(True, False, f"replacement pod {ready[0]['metadata']['name']} is ready")
        if not new:
            return Progress(False, False, f"pod {params.pod} is gone; no replacement pod yet")
        return Progress(
            False, False, f"replacement pod {new[0]['metadata']['name']} not ready: {pod_trouble(new[0])}"
        )

    return poll(ctx, timeout_s, check)
