"""Cloud Run probe (read-only Admin API v2): latest revision readiness, conditions and traffic split."""

from __future__ import annotations

from bot.findings import ProbeResult
from bot.params import Params
from bot.probes.base import ProbeContext


class CloudRunServiceParams(Params):
    """The Cloud Run service's conditions, latest created vs. ready revision, and where traffic goes."""

    project: str = "{project}"
    region: str = "{region}"
    service: str = "{cloud_run_service}"


def service(ctx: ProbeContext, params: CloudRunServiceParams) -> ProbeResult:
    raise NotImplementedError  # TODO(helper): implement
