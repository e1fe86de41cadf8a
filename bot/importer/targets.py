"""The object a command names (deployment, pod, host...), kept as a parameter only when it is not the service's.

A probe or action defaults to the service's own object (`{deployment}`, `{selector}`, `{host}`), so a command
that names exactly that object needs no parameter; one that names another is kept as a literal, and the
report lists it. Names a guide uses as stand-ins (`<pod-name>`, `your-app`) mean "yours": no parameter.
"""

from __future__ import annotations

import re
from typing import Any

from bot.importer.outcome import Mapped
from bot.importer.placeholders import Context, is_stand_in
from bot.importer.shellwords import Words


def pod_owner(name: str) -> str:
    """The deployment a pod name belongs to: 'data-processor-<pod-id>' -> 'data-processor'."""
    return re.sub(r"-(<[^>]+>|[a-z0-9]{8,10}-[a-z0-9]{5}|[a-z0-9]{5})$", "", name)


def other_namespace(words: Words, ctx: Context) -> str | None:
    """Why a kubectl command is about another namespace than the service's, or None when it is not."""
    namespace = words.flag("-n", "--namespace")
    if words.has("-A", "--all-namespaces"):
        return None  # the probe reads the service's namespace, which is part of "all"
    if namespace and ctx.namespace and namespace != ctx.namespace:
        return f"namespace {namespace} is not the service's ({ctx.namespace})"
    return None


def set_target(
    params: dict[str, Any], key: str, selector: str | None, name: str | None, ctx: Context,
    variable: str | None = None,
) -> None:  # fmt: skip
    """Set params[key] to a literal only when it is not the service's value (the probe's default)."""
    variable = variable or key
    if selector:
        if not ctx.same("selector", selector) and not is_stand_in(selector.partition("=")[2]):
            params[key] = selector if key == "selector" else selector.partition("=")[2]
            ctx.keep("selector", selector)
        return
    if not name or is_stand_in(name) or name.startswith("<"):
        return
    owner = pod_owner(name) if key == "selector" else name
    if owner.startswith("<") or is_stand_in(owner):
        return
    expected = (
        "deployment"
        if key in ("selector", "deployment") and variable in ("selector", "deployment")
        else variable
    )
    if ctx.same(expected, owner):
        return
    params[key] = f"app={owner}" if key == "selector" else owner
    ctx.keep(expected, owner)


def deployment_action(action: str, params: dict[str, Any], name: str | None, ctx: Context) -> Mapped:
    """A Kubernetes action on the named deployment (no parameter when it is the service's)."""
    if name and not is_stand_in(name) and not ctx.same("deployment", name):
        params["deployment"] = name
        ctx.keep("deployment", name)
    return Mapped("action", action, params, action.split(".")[1].replace("_", " "))


def host_param(host: str, ctx: Context, variable: str = "host") -> str:
    """`{host}`-style placeholder when the host is the service's (or a stand-in), else the literal host."""
    if not host or is_stand_in(host) or ctx.same(variable, host):
        return f"{{{variable}}}"
    ctx.keep(variable, host)
    return host
