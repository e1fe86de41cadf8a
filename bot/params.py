"""Base model for probe and action parameters: strict, immutable, validated when a playbook loads."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    """Parameters of a probe or action; unknown keys are an error so typos fail lint, not the incident."""

    model_config = ConfigDict(extra="forbid", frozen=True)
