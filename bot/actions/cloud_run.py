"""Cloud Run actions: traffic rollback and back to latest, resources, scaling, env, redeploy (all behind approval).

Each preview reads the service through the official client (`bot.probes.cloud_run.call`) and plans one
UpdateServiceRequest, kept as its JSON in `Preview.plan`: the service as read (less what the server owns) with
the change made, an updateMask naming the changed fields, and the etag as previewed, so that Cloud Run refuses
a service changed since the approval (409 ABORTED -> StaleTarget) instead of overwriting it.

    cloud_run.traffic_rollback   traffic: 100% latest (svc-00042-xyz) -> 100% svc-00041-q7r   mask traffic
    cloud_run.traffic_to_latest  traffic: 100% svc-00041-q7r -> 100% latest (svc-00042-xyz)   mask traffic
    cloud_run.update_resources   memory: 512Mi -> 1Gi, cpu, timeout, concurrency           mask template.*
    cloud_run.scale              min instances: 0 (default) -> 2, max instances            mask template.scaling
    cloud_run.set_env            env ENVIRONMENT: staging -> production                    mask template.containers
    cloud_run.redeploy           revision: svc-00042-xyz -> a new revision, same config    mask template.annotations

`execute` sends the plan and follows the long-running operation for up to OPERATION_WAIT_S (ctx.clock);
`verify_traffic` waits for the traffic statuses to show the target at 100% on a ready revision, and
`verify_rollout` for the new revision to be the latest ready one, serving.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field, StringConstraints, model_validator

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
from bot.actions.kubernetes import ENV_NAME
from bot.params import Params
from bot.probes.cloud_run import (
    LATEST,
    REVISION,
    CloudRunError,
    all_conditions,
    as_json,
    call,
    failure_message,
    one_line,
    short_name,
    traffic_text,
)
from bot.yamlfile import expected

CLOUD_RUN_MEMORY = expected(r"^\d+(Mi|Gi)$", "a memory size in Mi or Gi, such as 512Mi or 2Gi")
REQUEST_TIMEOUT_S = 30.0
POLL_S = 5.0
OPERATION_WAIT_S = 60.0  # execute follows the operation this long; verify goes on from there
REDEPLOY_ANNOTATION = "incident-chatops/redeployed-at"
# Output-only fields: the server ignores them in an update, so the plan leaves them out.
SERVER_OWNED = frozenset(
    {
        "uid", "generation", "createTime", "updateTime", "deleteTime", "expireTime", "creator", "lastModifier",
        "urls", "observedGeneration", "terminalCondition", "conditions", "latestReadyRevision",
        "latestCreatedRevision", "trafficStatuses", "uri", "satisfiesPzs", "reconciling",
    }
)  # fmt: skip
PINNED = (
    "Traffic stays pinned to {revision} on later deploys: a new revision gets no traffic until traffic is sent "
    "back to latest (cloud_run.traffic_to_latest, `gcloud run services update-traffic {service} --to-latest`)."
)
State = Literal["verified", "failed", "waiting"]


class TrafficRollbackParams(Params):
    """Send 100% of traffic to an earlier ready revision (the previous one unless named)."""

    to_revision: str | None = None


class TrafficToLatestParams(Params):
    """Send 100% of traffic back to the latest ready revision (`gcloud run services update-traffic --to-latest`)."""


class UpdateResourcesParams(Params):
    """`gcloud run services update --memory/--cpu/--timeout/--concurrency`."""

    memory: str | None = Field(None, pattern=CLOUD_RUN_MEMORY)
    cpu: str | None = Field(None, pattern=expected(r"^\d+(\.\d+)?$", "a number of CPUs, such as 1 or 0.5"))
    timeout_s: int | None = Field(None, ge=1, le=3600)
    concurrency: int | None = Field(None, ge=1, le=1000)

    @model_validator(mode="after")
    def _something_to_change(self) -> UpdateResourcesParams:
        if self.memory is self.cpu is self.timeout_s is self.concurrency is None:
            raise ValueError("give at least one of memory, cpu, timeout_s, concurrency")
        return self


class ScaleInstancesParams(Params):
    """`gcloud run services update --min-instances/--max-instances`."""

    min_instances: int | None = Field(None, ge=0, le=1000)
    max_instances: int | None = Field(None, ge=1, le=1000)

    @model_validator(mode="after")
    def _consistent(self) -> ScaleInstancesParams:
        low, high = self.min_instances, self.max_instances
        if low is None and high is None:
            raise ValueError("give min_instances, max_instances or both")
        if low is not None and high is not None and low > high:
            raise ValueError("min_instances is above max_instances")
        return self


class CloudRunSetEnvParams(Params):
    """`gcloud run services update --update-env-vars NAME=value` (values are previewed, so never secrets)."""

    env: dict[Annotated[str, StringConstraints(pattern=ENV_NAME)], str] = Field(min_length=1)


class RedeployParams(Params):
    """Roll a new revision of the current image and config (the guides' "restart" for Cloud Run)."""


# --- previews --------------------------------------------------------------------------------------------


def preview_traffic_rollback(ctx: ActionContext, params: TrafficRollbackParams) -> Preview:
    live = _read(ctx)
    revisions = sorted(
        (as_json(r) for r in _call(ctx, "revisions", "list_revisions", parent=live.full_name)),
        key=lambda r: (datetime.fromisoformat(r.get("createTime", "1970-01-01T00:00:00Z")), r["name"]),
    )
    serving = _serving(live.service)
    created, ready = (
        short_name(live.service.get(k)) for k in ("latestCreatedRevision", "latestReadyRevision")
    )
    if params.to_revision:
        wanted = short_name(ctx.render(params.to_revision))
        target = next((r for r in revisions if short_name(r["name"]) == wanted), None)
        if target is None:
            raise ActionError(f"service {live.name} has no revision '{wanted}'")
        if not _is_ready(target):
            why = failure_message(all_conditions(target)) or "not ready"
            raise ActionError(f"revision {wanted} cannot take traffic: {why}")
    else:
        # The version before the bad deploy. A deploy whose revision never became ready never served: the
        # version before it is the last ready one, which serves now (the rollback pins traffic to it, moving
        # none). Otherwise it is the ready revision before the serving one.
        failed = created != ready and ready == serving
        names = [short_name(r["name"]) for r in revisions]
        newest = created if failed else serving
        older = revisions[: names.index(newest)] if newest in names else revisions
        target = next(
            (r for r in reversed(older) if _is_ready(r) and (failed or short_name(r["name"]) != serving)),
            None,
        )
        if target is None:
            raise ActionError(f"no ready revision of {live.name} older than {newest or 'the serving one'}")
    revision = short_name(target["name"])
    traffic = [{"type": REVISION, "revision": revision, "percent": 100}]
    if _active(live.service.get("traffic")) == traffic:
        return _preview(
            ctx, "cloud_run.traffic_rollback", live, no_op=f"traffic already goes 100% to {revision}"
        )
    warnings = [PINNED.format(revision=revision, service=live.name)]
    if created != ready and revision == serving:
        warnings.append(
            f"The newest revision, {created}, never became ready and gets no traffic: {revision}, the revision "
            "serving now, keeps all of it."
        )
    elif created != ready:
        warnings.append(
            f"The newest revision, {created}, is not ready and gets no traffic already: this also moves traffic "
            f"off {serving}, the revision serving now."
        )
    body = {**live.service, "traffic": traffic + _tagged(live.service)}
    after = f"100% {revision}" + (", pinned" if revision == serving else "")
    change = Change(what="traffic", before=traffic_text(live.service), after=after)
    return _preview(ctx, "cloud_run.traffic_rollback", live, [change], body, ["traffic"], warnings)


def preview_traffic_to_latest(ctx: ActionContext, params: TrafficToLatestParams) -> Preview:
    live = _read(ctx)
    latest = short_name(live.service.get("latestReadyRevision"))
    if not latest:
        raise ActionError(f"service {live.name} has no ready revision to send traffic to")
    traffic = [{"type": LATEST, "percent": 100}]
    if _active(live.service.get("traffic")) == traffic:
        no_op = f"traffic already goes 100% to the latest ready revision ({latest})"
        return _preview(ctx, "cloud_run.traffic_to_latest", live, no_op=no_op)
    body = {**live.service, "traffic": traffic + _tagged(live.service)}
    change = Change(what="traffic", before=traffic_text(live.service), after=f"100% latest ({latest})")
    return _preview(ctx, "cloud_run.traffic_to_latest", live, [change], body, ["traffic"])


def preview_update_resources(ctx: ActionContext, params: UpdateResourcesParams) -> Preview:
    live, edits = _read(ctx), _Edits()
    template = edits.template(live)
    limits = _serving_container(template, live.name).setdefault("resources", {}).setdefault("limits", {})
    path = "template.containers"
    edits.set(limits, "memory", params.memory, path, "512Mi (default)", same=_same_quantity)
    edits.set(limits, "cpu", params.cpu, path, "1 (default)", same=_same_quantity)
    timeout = f"{params.timeout_s}s" if params.timeout_s else None
    edits.set(
        template,
        "timeout",
        timeout,
        "template.timeout",
        "300s (default)",
        same=_same_quantity,
        what="timeout",
    )
    edits.set(
        template,
        "maxInstanceRequestConcurrency",
        params.concurrency,
        "template.maxInstanceRequestConcurrency",
        "80 (default)",
        what="concurrency",
    )
    return _template_preview(ctx, "cloud_run.update_resources", live, edits)


def preview_scale(ctx: ActionContext, params: ScaleInstancesParams) -> Preview:
    live, edits = _read(ctx), _Edits()
    scaling = edits.template(live).setdefault("scaling", {})
    path = "template.scaling"
    edits.set(scaling, "minInstanceCount", params.min_instances, path, "0 (default)", what="min instances")
    edits.set(scaling, "maxInstanceCount", params.max_instances, path, "100 (default)", what="max instances")
    low, high = scaling.get("minInstanceCount", 0), scaling.get("maxInstanceCount")
    if high is not None and low > high:
        raise ActionError(f"min instances ({low}) would be above max instances ({high})")
    return _template_preview(ctx, "cloud_run.scale", live, edits)


def preview_set_env(ctx: ActionContext, params: CloudRunSetEnvParams) -> Preview:
    live, edits = _read(ctx), _Edits()
    env = _serving_container(edits.template(live), live.name).setdefault("env", [])
    for name, template in params.env.items():
        value = ctx.render(template)
        entry = next((e for e in env if e.get("name") == name), None)
        if entry is None:
            entry = {"name": name}
            env.append(entry)
        elif "valueSource" in entry:  # a Secret Manager reference becomes a plain, visible value
            ref = entry.pop("valueSource").get("secretKeyRef", {})
            entry["value"] = f"secret {ref.get('secret', '?')}:{ref.get('version', 'latest')}"
            edits.warnings.append(f"env {name} comes from a secret now; this replaces it with a plain value.")
        edits.set(entry, "value", value, "template.containers", "not set", what=f"env {name}")
    return _template_preview(ctx, "cloud_run.set_env", live, edits)


def preview_redeploy(ctx: ActionContext, params: RedeployParams) -> Preview:
    live, edits = _read(ctx), _Edits()
    template = edits.template(live)
    # A changed template annotation is what makes Cloud Run roll a new revision of the same image and config.
    template.setdefault("annotations", {})[REDEPLOY_ANNOTATION] = ctx.clock.now().isoformat(
        timespec="seconds"
    )
    image = _serving_container(template, live.name).get("image", "?")
    latest = short_name(live.service.get("latestCreatedRevision")) or "none"
    edits.changes.append(
        Change(what="revision", before=latest, after=f"a new revision of {image}, same config")
    )
    edits.paths.append("template.annotations")
    return _template_preview(ctx, "cloud_run.redeploy", live, edits)


# --- execute ---------------------------------------------------------------------------------------------


def execute(ctx: ActionContext, params: Any, preview: Preview) -> Outcome:
    """Send the planned update once, guarded by its etag, and follow the operation for OPERATION_WAIT_S."""
    if preview.no_op:
        return Outcome(status="no_op", summary=preview.no_op)
    from google.cloud import run_v2
    from google.protobuf import field_mask_pb2

    mask = field_mask_pb2.FieldMask()
    mask.FromJsonString(preview.plan["updateMask"])
    service = run_v2.Service.from_json(json.dumps(preview.plan["service"]))
    try:
        sent = call(
            ctx.clients, "services", "update_service", REQUEST_TIMEOUT_S, service=service, update_mask=mask
        )
    except CloudRunError as err:
        if err.status == "ABORTED" or err.code == 412:
            raise StaleTarget(
                f"{preview.target} changed after the preview, so nothing was changed; preview it again "
                f"(Cloud Run: {err.message})"
            ) from None
        raise ActionError(
            f"Cloud Run refused the change: {err.reason(f'service {preview.target.name}')}"
        ) from None
    operation = sent.operation
    deadline = ctx.clock.monotonic() + OPERATION_WAIT_S
    while not operation.done and ctx.clock.monotonic() < deadline:
        ctx.clock.sleep(POLL_S)
        operation = _call(ctx, "services", "get_operation", name=operation.name)
    if operation.done and operation.HasField("error"):
        raise ActionError(f"Cloud Run could not apply the change: {one_line(operation.error.message, 400)}")
    try:  # the generation this update made: verify waits for Cloud Run to have reconciled it
        generation = int(_read(ctx).service.get("generation", 0))
    except ActionError:
        generation = 0  # the change is made all the same; verify then relies on the operation
    applied = "; ".join(str(change) for change in preview.changes)
    summary = (
        f"Cloud Run applied {applied}"
        if operation.done
        else f"Cloud Run accepted {applied}; still rolling out after {OPERATION_WAIT_S:.0f} s"
    )
    detail = {"operation": operation.name, "done": operation.done, "generation": generation}
    return Outcome(status="done", summary=summary, detail=detail, warnings=list(preview.warnings))


# --- verify ----------------------------------------------------------------------------------------------


def verify_traffic(
    ctx: ActionContext, params: Any, preview: Preview, outcome: Outcome, timeout_s: float
) -> Verification:
    """Verified when the traffic statuses show the planned target at 100%, a named revision being ready."""
    revision = (
        _active(preview.plan.get("service", {}).get("traffic"))[0].get("revision") if preview.plan else None
    )

    def check(svc: dict[str, Any]) -> tuple[State, str]:
        if revision is None:
            latest = short_name(svc.get("latestReadyRevision"))
            if _share(svc, latest, latest_too=True) < 100:
                return "waiting", f"traffic is {traffic_text(svc)}, not yet 100% latest"
            return "verified", f"100% of traffic goes to the latest ready revision ({latest})"
        if _share(svc, revision) < 100:
            return "waiting", f"traffic is {traffic_text(svc)}, not yet 100% {revision}"
        target = as_json(_call(ctx, "revisions", "get_revision", name=f"{svc['name']}/revisions/{revision}"))
        if not _is_ready(target):
            why = failure_message(all_conditions(target)) or "not ready"
            return "waiting", f"revision {revision} has 100% of traffic but is not ready: {why}"
        return "verified", f"100% of traffic goes to {revision}, which is ready"

    return _await(ctx, outcome, timeout_s, check)


def verify_rollout(
    ctx: ActionContext, params: Any, preview: Preview, outcome: Outcome, timeout_s: float
) -> Verification:
    """Verified when the update's revision is the latest ready one and serves traffic."""
    generation = int(outcome.detail.get("generation", 0))

    def check(svc: dict[str, Any]) -> tuple[State, str]:
        created, ready = (
            short_name(svc.get("latestCreatedRevision")),
            short_name(svc.get("latestReadyRevision")),
        )
        settled = int(svc.get("observedGeneration", 0)) >= generation and not svc.get("reconciling")
        if not settled or created != ready:
            revision = svc.get("latestCreatedRevision")
            why = failure_message(
                all_conditions(as_json(_call(ctx, "revisions", "get_revision", name=revision)))
            )
            if settled:
                return (
                    "failed",
                    f"revision {created} failed: {why or 'not ready'}; traffic: {traffic_text(svc)}",
                )
            state = f"is not ready: {why}" if why else "is still deploying"
            return "waiting", f"revision {created} {state}; traffic: {traffic_text(svc)}"
        share = _share(svc, created, latest_too=True)
        if not share:
            return "failed", (
                f"revision {created} is ready but gets no traffic: traffic is pinned ({traffic_text(svc)}); "
                "send it back with cloud_run.traffic_to_latest"
            )
        return "verified", f"revision {created} is ready and serves {share}% of traffic"

    return _await(ctx, outcome, timeout_s, check)


def _await(
    ctx: ActionContext,
    outcome: Outcome,
    timeout_s: float,
    check: Callable[[dict[str, Any]], tuple[State, str]],
) -> Verification:
    """Poll (ctx.clock) the operation, if still running, and the service until `check` decides or time is up.

    Nothing is decided while the operation runs. Read failures count as "not yet": the change is made, and
    Cloud Run may answer on the next look.
    """
    if outcome.status == "no_op":
        return Verification(status="verified", summary=f"nothing was changed: {outcome.summary}")
    deadline = ctx.clock.monotonic() + timeout_s
    operation = None if outcome.detail.get("done", True) else outcome.detail.get("operation")
    while True:
        detail: dict[str, Any] = {}
        try:
            if operation:
                running = _call(ctx, "services", "get_operation", name=operation)
                if running.done and running.HasField("error"):
                    summary = f"Cloud Run could not apply the change: {one_line(running.error.message, 400)}"
                    return Verification(status="failed", summary=summary)
                operation = None if running.done else operation
            svc = _read(ctx).service
            state, summary = check(svc)
            if operation and state != "waiting":  # not final while Cloud Run is still at it
                state, summary = "waiting", f"{summary}, but the operation is still running"
            detail = {
                "latest_ready_revision": short_name(svc.get("latestReadyRevision")),
                "traffic": traffic_text(svc),
            }
        except ActionError as err:
            state, summary = "waiting", str(err)
        if state != "waiting":
            return Verification(status=state, summary=summary, detail=detail)
        left = deadline - ctx.clock.monotonic()
        if left <= 0:
            return Verification(
                status="timed_out", summary=f"not verified within {timeout_s:.0f} s: {summary}", detail=detail
            )
        ctx.clock.sleep(min(POLL_S, left))


# --- reading and planning --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Live:
    """The service as read (its REST JSON) and the names it goes by."""

    service: dict[str, Any]
    parent: str  # projects/P/locations/R
    name: str

    @property
    def full_name(self) -> str:
        return f"{self.parent}/services/{self.name}"


def _read(ctx: ActionContext) -> _Live:
    ctx.render("{project} {region} {cloud_run_service}")  # an error names every missing value
    project, region, name = ctx.render("{project}"), ctx.render("{region}"), ctx.render("{cloud_run_service}")
    parent = f"projects/{project}/locations/{region}"
    what = f"service '{name}' in project {project}, region {region}"
    service = _call(ctx, "services", "get_service", what, name=f"{parent}/services/{name}")
    return _Live(as_json(service), parent, name)


def _call(
    ctx: ActionContext, kind: Literal["services", "revisions"], method: str, what: str = "", **request: Any
) -> Any:
    try:
        return call(ctx.clients, kind, method, REQUEST_TIMEOUT_S, **request)
    except CloudRunError as err:
        raise ActionError(err.reason(what or "such resource")) from None


@dataclass
class _Edits:
    """Changes to the template, the updateMask paths they need, and why a value needs no change."""

    body: dict[str, Any] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def template(self, live: _Live) -> dict[str, Any]:
        self.body = copy.deepcopy(live.service)
        template: dict[str, Any] = self.body.setdefault("template", {})
        return template

    def set(
        self,
        holder: dict[str, Any],
        key: str,
        value: Any,
        path: str,
        unset: str,
        same: Callable[[Any, Any], bool] = lambda a, b: a == b,
        what: str = "",
    ) -> None:
        """Set holder[key] = value (None: not asked for), noting the change as `what: before -> after`."""
        what = what or key
        if value is None:
            return
        before = holder.get(key)
        if before is not None and same(before, value):
            self.unchanged.append(f"{what} is already {before}")
            return
        self.changes.append(
            Change(what=what, before=unset if before is None else str(before), after=str(value))
        )
        holder[key] = value
        if path not in self.paths:
            self.paths.append(path)


def _template_preview(ctx: ActionContext, action: str, live: _Live, edits: _Edits) -> Preview:
    if not edits.changes:
        return _preview(ctx, action, live, no_op="; ".join(edits.unchanged))
    template = edits.body["template"]
    if template.pop(
        "revision", None
    ):  # Cloud Run refuses a named revision whose config changed: let it name one
        edits.paths.append("template.revision")
    warnings = list(edits.warnings)
    traffic = live.service.get("traffic") or [{"type": LATEST, "percent": 100}]  # none: Cloud Run's default
    if not any(t.get("type") == LATEST and t.get("percent") for t in traffic):
        warnings.append(
            f"Traffic is pinned ({traffic_text(live.service)}): the new revision gets no traffic until it is sent "
            "back to latest (cloud_run.traffic_to_latest)."
        )
    return _preview(ctx, action, live, edits.changes, edits.body, edits.paths, warnings)


def _preview(
    ctx: ActionContext,
    action: str,
    live: _Live,
    changes: list[Change] | None = None,
    body: dict[str, Any] | None = None,
    paths: list[str] | None = None,
    warnings: list[str] | None = None,
    no_op: str | None = None,
) -> Preview:
    target = Target(
        system="cloud_run",
        kind="Service",
        namespace=live.parent,
        name=live.name,
        version=live.service.get("etag", ""),
    )
    plan: dict[str, Any] = {}
    if body is not None:
        sent = {key: value for key, value in body.items() if key not in SERVER_OWNED}
        plan = {"service": sent, "updateMask": ",".join(paths or [])}
    return Preview(
        action=action, target=target, changes=changes or [], no_op=no_op, warnings=warnings or [], plan=plan
    )


# --- helpers ---------------------------------------------------------------------------------------------


def _is_ready(revision: dict[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("state") == "CONDITION_SUCCEEDED" for c in all_conditions(revision)
    )


def _active(traffic: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The traffic targets that get requests, as plain dicts (tags aside)."""
    return [
        {key: t[key] for key in ("type", "revision", "percent") if key in t}
        for t in traffic or []
        if t.get("percent")
    ]


def _tagged(svc: dict[str, Any]) -> list[dict[str, Any]]:
    """Tagged targets keep their tag URLs at 0% when all traffic moves (as gcloud update-traffic does)."""
    return [{**t, "percent": 0} for t in svc.get("traffic") or [] if t.get("tag")]


def _serving(svc: dict[str, Any]) -> str:
    """The revision that takes the most traffic now."""
    shares: dict[str, int] = {}
    for status in svc.get("trafficStatuses") or []:
        name = short_name(status.get("revision")) or short_name(svc.get("latestReadyRevision"))
        shares[name] = shares.get(name, 0) + status.get("percent", 0)
    return (
        max(shares, key=lambda name: shares[name]) if shares else short_name(svc.get("latestReadyRevision"))
    )


def _share(svc: dict[str, Any], revision: str, latest_too: bool = False) -> int:
    """The percent of traffic the statuses give `revision` (with `latest_too`, also through latest)."""
    return sum(
        status.get("percent", 0)
        for status in svc.get("trafficStatuses") or []
        if short_name(status.get("revision")) == revision
        or (latest_too and status.get("type") == LATEST and not status.get("revision"))
    )


def _serving_container(template: dict[str, Any], service: str) -> dict[str, Any]:
    """The container that takes requests: the one with a port (sidecars have none), else the first."""
    containers = template.get("containers") or []
    if not containers:
        raise ActionError(f"service {service} has no container in its template")
    return next((c for c in containers if c.get("ports")), containers[0])


def _same_quantity(before: Any, after: Any) -> bool:
    """1000m == 1 cpu, 1Gi == 1024Mi, 300s == 300s: the API may spell a value otherwise than asked."""
    return _amount(str(before)) == _amount(str(after))


def _amount(text: str) -> float:
    units = {"m": 1e-3, "s": 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    for unit in sorted(units, key=len, reverse=True):
        if text.endswith(unit):
            return float(text.removesuffix(unit)) * units[unit]
    return float(text)
