"""Environment variables a guide's fix sets, as the set_env action of the platform the service runs on.

`kubectl set env` and `gcloud run services update --update-env-vars` name their platform; a bare
`export NAME=value` (or `NAME=value` lines) says only "the service needs this setting", so it becomes the
set_env action of the service's own platform (its Kubernetes deployment, else its Cloud Run service), and
stays manual when the service has neither. A value a person must look up first (`your-audience`, `<key>`)
or a secret (the action previews values) is never put in an action.
"""

from __future__ import annotations

import re

from bot.importer.outcome import Mapped
from bot.importer.placeholders import Context
from bot.importer.targets import deployment_action

_PLACEHOLDER_VALUE = re.compile(r"^(your[-_]|<|/path/to/)|PREVIOUS|CHANGE|XXX", re.IGNORECASE)
_SECRET_NAME = re.compile(r"PASSWORD|SECRET|TOKEN|API_?KEY|PRIVATE|CREDENTIAL", re.IGNORECASE)
_SECRET_VALUE = re.compile(r"://[^/\s:@]+:[^/\s@]+@")  # postgresql://user:password@host
_PROJECT_VALUE = re.compile(r"\$\{?\w*PROJECT\w*\}?")
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def is_placeholder_value(value: str) -> bool:
    """'your-correct-audience', '<key>', 'PREVIOUS-REVISION': a value to look up, not to set."""
    return bool(_PLACEHOLDER_VALUE.search(value))


def assignments(words: list[str]) -> dict[str, str] | None:
    """{'NAME': 'value'} for `export NAME=value` or `NAME=value` words (one or more); None if anything else is there."""
    words = [w for w in words if w != "export"]
    if not words or not all(ASSIGNMENT.match(w) for w in words):
        return None
    return dict(w.split("=", 1) for w in words)


def env_action(action: str, env: dict[str, str], name: str | None, ctx: Context) -> Mapped | None:
    """k8s.set_env / cloud_run.set_env with these variables, or None when a value must not go in an action."""
    values = {
        k: ("{project}" if _PROJECT_VALUE.fullmatch(v) and ctx.has("project") else v) for k, v in env.items()
    }
    if not values or not _settable(values):
        return None
    if action.startswith("cloud_run"):
        return Mapped("action", action, {"env": values}, "set environment variables")
    return deployment_action(action, {"env": values}, name, ctx)


def settings_action(env: dict[str, str], ctx: Context) -> Mapped:
    """`export NAME=value` in a fix: the set_env action of the service's platform, else a manual step."""
    if ctx.has("deployment"):
        found = env_action("k8s.set_env", env, None, ctx)
    elif ctx.has("cloud_run_service"):
        found = env_action("cloud_run.set_env", env, None, ctx)
    else:
        return Mapped(
            "manual", why="sets configuration values; the service has no platform an action sets them on"
        )
    if found is None:
        return Mapped("manual", why="a value to look up first, or a secret: set it by hand")
    found.why = "a setting of the service: set on its platform"
    return found


def _settable(env: dict[str, str]) -> bool:
    """No value to look up first (a stand-in, or a `$VARIABLE` of the reader's shell) and no secret."""
    return not any(
        is_placeholder_value(value)
        or "$" in value
        or _SECRET_NAME.search(name)
        or _SECRET_VALUE.search(value)
        for name, value in env.items()
    )
