"""Cloud Run actions: traffic rollback, resources, scaling, env, redeploy (all behind approval)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from bot.actions.kubernetes import ENV_NAME
from bot.params import Params

CLOUD_RUN_MEMORY = r"^\d+(Mi|Gi)$"


class TrafficRollbackParams(Params):
    """Send 100% of traffic to an earlier ready revision (the previous one unless named)."""

    to_revision: str | None = None


class UpdateResourcesParams(Params):
    """`gcloud run services update --memory/--cpu/--timeout/--concurrency`."""

    memory: str | None = Field(None, pattern=CLOUD_RUN_MEMORY)
    cpu: str | None = Field(None, pattern=r"^\d+(\.\d+)?$")
    timeout_s: int | None = Field(None, ge=1, le=3600)
    concurrency: int | None = Field(None, ge=1, le=1000)


class ScaleInstancesParams(Params):
    """`gcloud run services update --min-instances/--max-instances`."""

    min_instances: int | None = Field(None, ge=0, le=1000)
    max_instances: int | None = Field(None, ge=1, le=1000)


class CloudRunSetEnvParams(Params):
    """`gcloud run services update --update-env-vars NAME=value` (values are previewed, so never secrets)."""

    env: dict[Annotated[str, StringConstraints(pattern=ENV_NAME)], str] = Field(min_length=1)


class RedeployParams(Params):
    """Roll a new revision of the current image and config (the guides' "restart" for Cloud Run)."""
