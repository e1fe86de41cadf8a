"""Cloud Run revisions probe (read-only): the newest revisions with their age, image and readiness
(`gcloud run revisions list --service ...`), and whether one rolled out recently: the change a report
"since the deploy" points at."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pydantic import Field

from bot.faults import Rank, fault
from bot.findings import ProbeResult
from bot.params import Params
from bot.probes.base import ProbeContext, ProbeFailure
from bot.probes.cloud_run import FAILED, CloudRunError, as_json, call, failure_message, short_name
from bot.probes.kube_checks import image_change
from bot.probes.kube_format import ago, as_time, table
from bot.severity import Status


class CloudRunRevisionsParams(Params):
    """Recent Cloud Run revisions: age, image, readiness; a revision newer than `recent_minutes` is a change."""

    project: str = "{project}"
    region: str = "{region}"
    service: str = "{cloud_run_service}"
    recent_minutes: int = Field(
        120, ge=1, description="a revision newer than this is reported as a recent change"
    )
    history: int = Field(5, ge=1, le=50)


def revisions(ctx: ProbeContext, params: CloudRunRevisionsParams) -> ProbeResult:
    ctx.render(f"{params.project} {params.region} {params.service}")  # a skip names every missing value
    project, region, name = ctx.render(params.project), ctx.render(params.region), ctx.render(params.service)
    parent = f"projects/{project}/locations/{region}/services/{name}"
    try:
        listed = call(ctx.clients, "revisions", "list_revisions", ctx.remaining(), parent=parent)
    except CloudRunError as err:
        raise ProbeFailure(err.reason(f"service '{name}' in project {project}, region {region}")) from None
    return revisions_result(name, [as_json(r) for r in listed], params, ctx.now())


def revisions_result(
    name: str, found: list[dict[str, Any]], params: CloudRunRevisionsParams, now: datetime
) -> ProbeResult:
    newest_first = sorted(found, key=lambda r: str(r.get("createTime", "")), reverse=True)
    if not newest_first:
        return ProbeResult(Status.WARN, f"service {name} has no revisions", data={"revisions": []})
    newest = newest_first[0]
    revision = short_name(newest.get("name"))
    created = as_time(newest.get("createTime"))
    recent = created is not None and now - created < timedelta(minutes=params.recent_minutes)
    change = image_change(_images(newest_first[1]), _images(newest)) if len(newest_first) > 1 else ""
    rolled = f"revision {revision} created {ago(created, now) if created else 'at an unknown time'}"
    rolled += f": {change}" if change else (", same image" if len(newest_first) > 1 else "")
    failed = failure_message(newest.get("conditions") or [])
    is_failed = any(c.get("state") == FAILED for c in newest.get("conditions") or [])
    faults = []
    if recent:
        facts = ["recent-revision", *(["revision-failed"] if is_failed else [])]
        status = Status.CRITICAL if is_failed else Status.WARN
        faults.append(fault(f"CloudRunService/{name}:{revision}", Rank.CHANGE, status, rolled, *facts))
    if is_failed:
        text = f"revision {revision} failed: {failed or 'not ready'}"
        faults.append(fault(f"CloudRunRevision/{revision}:failed", Rank.FAILING, Status.CRITICAL, text,
                            "revision-failed"))  # fmt: skip
    status = max(
        (Status(f["status"]) for f in faults), key=[Status.WARN, Status.CRITICAL].index, default=Status.OK
    )
    summary = rolled + (f"; {faults[-1]['text']}" if is_failed else "")
    rows = [
        [short_name(r.get("name")), ago(as_time(r.get("createTime")) or now, now), ", ".join(_images(r).values()),
         "failed" if any(c.get("state") == FAILED for c in r.get("conditions") or []) else "ready"]
        for r in newest_first[: params.history]
    ]  # fmt: skip
    data = {
        "revisions": [{"revision": row[0], "image": row[2], "state": row[3]} for row in rows],
        "recent_change": recent,
        "last_change": rolled,
        "faults": faults,
    }
    return ProbeResult(status, summary, table(["REVISION", "CREATED", "IMAGE", "STATE"], rows), data)


def _images(revision: dict[str, Any]) -> dict[str, str]:
    containers = revision.get("containers") or []
    return {str(c.get("name") or index): str(c.get("image", "?")) for index, c in enumerate(containers)}
