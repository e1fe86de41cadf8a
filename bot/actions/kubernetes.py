"""Kubernetes actions: rollout undo/restart, scale, set env, set resources (all behind approval)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from bot.params import Params

QUANTITY = r"^\d+(\.\d+)?(m|k|M|G|T|Ki|Mi|Gi|Ti)?$"
ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]*$"


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


class SetEnvParams(Params):
    """`kubectl set env deployment/{deployment} NAME=value ...` (values are previewed, so never secrets)."""

    deployment: str = "{deployment}"
    container: str | None = None
    env: dict[Annotated[str, StringConstraints(pattern=ENV_NAME)], str] = Field(min_length=1)


class SetResourcesParams(Params):
    """`kubectl set resources deployment/{deployment} --limits=... --requests=...`."""

    deployment: str = "{deployment}"
    container: str | None = None
    memory_limit: str | None = Field(None, pattern=QUANTITY)
    cpu_limit: str | None = Field(None, pattern=QUANTITY)
    memory_request: str | None = Field(None, pattern=QUANTITY)
    cpu_request: str | None = Field(None, pattern=QUANTITY)
