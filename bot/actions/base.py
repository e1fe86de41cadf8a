"""What every mutating action is made of: a preview of the exact change, the change itself, and its verification.

An action never runs from diagnostics or alerts; the incident flow runs it only after a second person approved
the request that carries its `Preview`. The three steps:

    preview(ctx, params) -> Preview          read the live object; say concretely what would change (no writes
                                             beyond a server-side dry run); `plan` is what execute will send
    execute(ctx, params, preview) -> Outcome send exactly `preview.plan`, guarded by the target's version as
                                             previewed: raises StaleTarget if the object changed since
    verify(ctx, params, preview, outcome, timeout_s) -> Verification
                                             poll (with ctx.clock) until the change took effect or time is up

Results are pydantic models so a request can keep its preview in the store and execute it later, in another
process, exactly as it was approved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.clock import SYSTEM_CLOCK, Clock
from bot.config import Service
from bot.errors import ActionError, StaleTarget
from bot.params import Params
from bot.templating import render

__all__ = [
    "ActionContext",
    "ActionError",
    "ActionSpec",
    "Change",
    "Outcome",
    "Preview",
    "StaleTarget",
    "Target",
    "Verification",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Target(_Frozen):
    """The object an action changes, and its version when previewed (resourceVersion, etag, revision)."""

    system: Literal["kubernetes", "cloud_run"]
    kind: str
    namespace: str  # Kubernetes namespace, or Cloud Run "projects/P/locations/R"
    name: str
    version: str

    def __str__(self) -> str:
        if self.system == "cloud_run":  # its parent is a path of its own: projects/P/locations/R
            return f"{self.kind.lower()} {self.name} in {self.namespace}"
        return f"{self.kind.lower()} {self.namespace}/{self.name}"  # as kubectl names it


class Change(_Frozen):
    """One concrete difference: `image ghcr.io/acme/api-gateway: 1.9.0 -> 1.8.2`."""

    what: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.what}: {self.before} -> {self.after}"


class Preview(_Frozen):
    action: str
    target: Target
    changes: list[Change] = Field(default_factory=list)
    no_op: str | None = None  # why nothing would change (already at that template, already 5 replicas)
    warnings: list[str] = Field(default_factory=list)
    plan: dict[str, Any] = Field(default_factory=dict)  # what execute sends, as JSON


class Outcome(_Frozen):
    status: Literal["done", "no_op"]
    summary: str
    detail: dict[str, Any] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)


class Verification(_Frozen):
    status: Literal["verified", "timed_out", "failed"]
    summary: str
    detail: dict[str, Any] = Field(default_factory=dict)


@dataclass
class ActionContext:
    """The service an action changes, the clients that reach it, and the clock verification polls with."""

    service_name: str
    service: Service
    clients: Any  # bot.probes.base.Clients: the same connections the probes use
    clock: Clock = SYSTEM_CLOCK
    values: dict[str, str | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.values = self.values or self.service.variables(self.service_name)

    def render(self, template: str) -> str:
        """Fill a parameter template from the catalogue; a value the service lacks is an error, never a guess."""
        text = render(template, self.values)
        missing = [name for name, value in self.values.items() if f"<{name}>" in text and not value]
        if missing:
            raise ActionError(f"the service has no {', '.join(missing)} in chatops.yaml")
        return text


PreviewFn = Callable[[ActionContext, Any], Preview]
ExecuteFn = Callable[[ActionContext, Any, Preview], Outcome]
VerifyFn = Callable[[ActionContext, Any, Preview, Outcome, float], Verification]


@dataclass(frozen=True)
class ActionSpec:
    """A registered action: its YAML name, parameter model and its three steps."""

    name: str
    params: type[Params]
    preview: PreviewFn | None = None
    execute: ExecuteFn | None = None
    verify: VerifyFn | None = None
    verify_timeout_s: float = (
        300.0  # a rollout within its progress deadline (600 s by default) verifies sooner
    )

    @property
    def summary(self) -> str:
        return (self.params.__doc__ or "").strip().splitlines()[0]
