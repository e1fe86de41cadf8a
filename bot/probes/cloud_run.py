"""Cloud Run probe (read-only Admin API v2): latest revision readiness, conditions and traffic split."""

from __future__ import annotations

from bot.params import Params


class CloudRunServiceParams(Params):
    """The Cloud Run service's conditions, latest created vs. ready revision, and where traffic goes."""

    project: str = "{project}"
    region: str = "{region}"
    service: str = "{cloud_run_service}"
