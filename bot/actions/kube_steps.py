"""The steps the Kubernetes actions share: the plan of a request, its dry run, its guarded execution, polling.

A plan is the exact request execute sends, as JSON: method, path, content type and body; preview sends the same
request with `dryRun=All` first. A write the API rejects because the object changed since the preview (the
precondition: 409 Conflict, or 422 for a failed JSON Patch `test`, or 404 when it is gone) becomes StaleTarget;
the resourceVersion is read again to tell that from a change the API refuses for its own reasons.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.actions.base import (
    ActionContext,
    ActionError,
    Change,
    Outcome,
    Preview,
    StaleTarget,
    Target,
    Verification,
)
from bot.actions.kube_access import Cluster, KubeApiError
from bot.actions.kube_rollout import Progress, template_changes

STRATEGIC = "application/strategic-merge-patch+json"
POLL_S = 2.0  # between verification checks


def kube_target(kube: Cluster, kind: str, name: str, version: str) -> Target:
    return Target(system="kubernetes", kind=kind, namespace=kube.namespace, name=name, version=version)


def patch_plan(kube: Cluster, name: str, content_type: str, body: Any) -> dict[str, Any]:
    path = f"/apis/apps/v1/namespaces/{kube.namespace}/deployments/{name}"
    return {"method": "PATCH", "path": path, "content_type": content_type, "body": body}


def send_patch(kube: Cluster, name: str, plan: dict[str, Any], *, dry_run: bool) -> dict[str, Any]:
    return kube.call(
        kube.apps.patch_namespaced_deployment,
        name,
        kube.namespace,
        plan["body"],
        _content_type=plan["content_type"],
        dry_run="All" if dry_run else None,
    )


def server_dry_run(send: Callable[[], Any]) -> Any:
    try:
        return send()
    except KubeApiError as err:
        raise ActionError(f"the API server refuses it (dry run): {err}") from None


def template_preview(
    action: str, kube: Cluster, deployment: dict[str, Any], plan: dict[str, Any],
    first: list[Change] | None = None, warnings: list[str] | None = None,
) -> Preview:  # fmt: skip
    """A preview of a Deployment patch: the dry run's stored template compared with the live one."""
    name = deployment["metadata"]["name"]
    stored = server_dry_run(lambda: send_patch(kube, name, plan, dry_run=True))
    changes = (first or []) + template_changes(deployment["spec"]["template"], stored["spec"]["template"])
    target = kube_target(kube, "Deployment", name, deployment["metadata"]["resourceVersion"])
    return Preview(action=action, target=target, changes=changes, warnings=warnings or [], plan=plan)


def _stale(kube: Cluster, preview: Preview, err: KubeApiError) -> StaleTarget | None:
    """StaleTarget when a rejected write was rejected because the object changed since the preview."""
    target = preview.target
    if err.code == 404:
        return StaleTarget(f"{target} no longer exists: nothing was changed")
    if err.code not in (409, 422):
        return None
    if target.kind == "Pod":
        return StaleTarget(f"{target} was replaced since the preview: nothing was changed; preview again")
    now = kube.deployment(target.name)["metadata"]["resourceVersion"]
    if now == target.version:
        return None  # the same object: the API refused the change itself
    return StaleTarget(
        f"{target} changed since the preview (resourceVersion {target.version} -> {now}): "
        "nothing was changed; preview again"
    )


def execute(ctx: ActionContext, preview: Preview, send: Callable[[Cluster], Any], summary: str) -> Outcome:
    if preview.no_op:
        return Outcome(status="no_op", summary=preview.no_op)
    kube = Cluster(ctx)
    try:
        result = send(kube)
    except KubeApiError as err:
        raise (_stale(kube, preview, err) or err) from None
    meta = (result or {}).get("metadata") or {}
    detail = {k: meta[k] for k in ("resourceVersion", "generation") if k in meta}
    return Outcome(status="done", summary=summary, detail=detail, warnings=preview.warnings)


def execute_patch(ctx: ActionContext, preview: Preview, summary: str) -> Outcome:
    return execute(
        ctx,
        preview,
        lambda kube: send_patch(kube, preview.target.name, preview.plan, dry_run=False),
        summary,
    )


def poll(ctx: ActionContext, timeout_s: float, check: Callable[[], Progress]) -> Verification:
    """Check until done, failed or out of time, sleeping on ctx.clock between checks."""
    deadline = ctx.clock.monotonic() + timeout_s
    while True:
        progress = check()
        if progress.done:
            return Verification(status="verified", summary=progress.summary)
        if progress.failed:
            return Verification(status="failed", summary=progress.summary)
        remaining = deadline - ctx.clock.monotonic()
        if remaining <= 0:
            return Verification(
                status="timed_out", summary=f"not done after {timeout_s:.0f} s: {progress.summary}"
            )
        ctx.clock.sleep(min(POLL_S, remaining))


def refuse_paused(deployment: dict[str, Any], message: str) -> None:
    if deployment["spec"].get("paused"):
        raise ActionError(message)
