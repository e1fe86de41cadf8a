"""`{placeholder}` templates in playbooks, filled from the service catalogue (never from Slack text).

A placeholder is a lowercase name in braces, `{namespace}`; any other brace (jq's `{name: .x}`, jsonpath's
`{.items[*]}`) is literal text, so the guides' commands can be copied as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# Every variable a playbook may use; the service catalogue provides their values (bot.config.Service.variables).
VARIABLES = frozenset(
    {
        "service", "team", "namespace", "deployment", "selector", "context", "k8s_service", "container",
        "configmap", "ingress", "certificate", "health_url", "readiness_url", "base_url", "host",
        "prometheus_url", "alertmanager_url", "metrics_selector", "status_label", "project", "region", "cloud_run_service", "log_filter",
        "postgres_host", "postgres_port", "redis_host", "redis_port",
    }
)  # fmt: skip

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def unknown_placeholders(template: str) -> list[str]:
    """Placeholders in the template that are not catalogue variables."""
    return [name for name in PLACEHOLDER.findall(template) if name not in VARIABLES]


def render(template: str, values: Mapping[str, str | None]) -> str:
    """Fill a template; a variable the service does not define shows as `<name>` for a person to fill in."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in VARIABLES:
            return match.group(0)
        return values.get(name) or f"<{name}>"

    return PLACEHOLDER.sub(value, template)


def missing_values(params: Any, values: Mapping[str, str | None]) -> list[str]:
    """The catalogue variables a step's parameters (a pydantic model) need and the service does not define."""
    texts = [v for v in _strings(params.model_dump())]
    needed = {name for text in texts for name in PLACEHOLDER.findall(text) if name in VARIABLES}
    return sorted(name for name in needed if not values.get(name))


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []
