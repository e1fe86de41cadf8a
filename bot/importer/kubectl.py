"""kubectl commands read by verb and resource kind, as kubectl itself reads them.

Kinds are matched by kubectl's own names (plural, singular and short: `po`, `deploy`, `ep`, `netpol`...), a
comma list (`get deploy,pods`) names several, and `kind/name` or `kind name` names one object. Reading verbs
(get, describe, logs, top, rollout status|history) become probes; in a fix, rollout undo|restart, scale,
set env and set resources become the action that does the same. Commands about another namespace than
the service's stay manual: the probes read the service's.
"""

from __future__ import annotations

import re
from typing import Any

from bot.importer.envvars import env_action
from bot.importer.outcome import Mapped
from bot.importer.placeholders import Context
from bot.importer.shellwords import Words, minutes, parse_words
from bot.importer.targets import deployment_action, other_namespace, set_target

# kubectl's resource names -> the kind they mean (api-resources: NAME, SHORTNAMES, singular).
_KINDS = {
    **dict.fromkeys(("pods", "pod", "po"), "pod"),
    **dict.fromkeys(("deployments", "deployment", "deploy"), "deployment"),
    **dict.fromkeys(("replicasets", "replicaset", "rs"), "replicaset"),
    **dict.fromkeys(("events", "event", "ev"), "event"),
    **dict.fromkeys(("endpoints", "endpoint", "ep", "endpointslices", "endpointslice"), "endpoints"),
    **dict.fromkeys(("services", "service", "svc"), "service"),
    **dict.fromkeys(("horizontalpodautoscalers", "horizontalpodautoscaler", "hpa"), "hpa"),
    **dict.fromkeys(("networkpolicies", "networkpolicy", "netpol"), "networkpolicy"),
    **dict.fromkeys(("ingresses", "ingress", "ing"), "ingress"),
    **dict.fromkeys(("certificates", "certificate", "cert", "certs"), "certificate"),
    **dict.fromkeys(("configmaps", "configmap", "cm"), "configmap"),
    **dict.fromkeys(("nodes", "node", "no"), "node"),
}
# Kinds whose probe reads the namespace as a whole (no object parameter).
_WHOLE = {"event": "k8s.events", "endpoints": "k8s.endpoints", "service": "k8s.endpoints",
          "networkpolicy": "k8s.network_policies", "node": "k8s.nodes"}  # fmt: skip
# Kinds whose probe reads one named object: probe, catalogue variable of the service's own one.
_NAMED = {"configmap": ("k8s.configmap", "configmap"), "ingress": ("k8s.ingress", "ingress"),
          "certificate": ("k8s.certificate", "certificate"), "hpa": ("k8s.hpa", "deployment")}  # fmt: skip


def kubectl_probe(first: list[str], rest: list[list[str]], ctx: Context) -> list[Mapped]:
    """The probes a reading kubectl command amounts to ([] when none does; `exec` is the caller's)."""
    words = parse_words(first[1:])
    verb, *args = words.positional or [""]
    other = other_namespace(words, ctx)
    if other and verb in ("get", "describe", "logs", "top", "rollout"):
        return [Mapped("manual", why=other)]
    if verb == "logs":
        return [_logs(words, args, rest, ctx)]
    if verb == "top":
        kinds, name = _objects(args)
        if "node" in kinds:
            return [Mapped("probe", "k8s.nodes", {}, "kubectl top nodes")]
        return [Mapped("probe", "k8s.resource_usage", _selector(words, name, ctx), "kubectl top pods")]
    if verb == "rollout" and args[:1] in (["history"], ["status"]):
        params: dict[str, Any] = {}
        set_target(params, "deployment", None, _objects(args[1:])[1], ctx)
        return [Mapped("probe", "k8s.rollout", params, f"kubectl rollout {args[0]}")]
    if verb not in ("get", "describe"):
        return []
    kinds, name = _objects(args)
    found: list[Mapped] = []
    for kind in kinds:
        found += _read(kind, verb, name if len(kinds) == 1 else None, words, ctx)
    return _unique(found)


def kubectl_action(first: list[str], ctx: Context) -> Mapped | None:
    """The action a kubectl command in a fix amounts to, or None when no action does exactly that."""
    words = parse_words(first[1:])
    if other_namespace(words, ctx):
        return None
    verb = words.positional[:2]
    _, name = _objects(words.positional[2:] if verb[:1] in (["rollout"], ["set"]) else words.positional[1:])
    if verb == ["rollout", "undo"]:
        params: dict[str, Any] = {}
        if (rev := words.flag("--to-revision")) and rev.isdigit():
            params["to_revision"] = int(rev)
        return deployment_action("k8s.rollout_undo", params, name, ctx)
    if verb == ["rollout", "restart"]:
        return deployment_action("k8s.rollout_restart", {}, name, ctx)
    if verb[:1] == ["scale"] and (replicas := words.flag("--replicas")) and replicas.isdigit():
        return deployment_action("k8s.scale", {"replicas": int(replicas)}, name, ctx)
    if verb == ["set", "env"]:
        env = dict(w.split("=", 1) for w in words.positional[3:] if "=" in w)
        return env_action("k8s.set_env", env, name, ctx)
    if verb == ["set", "resources"]:
        resources = {
            f"{key}_{kind}": value
            for flag, kind in (("--limits", "limit"), ("--requests", "request"))
            for key, _, value in (pair.partition("=") for pair in (words.flag(flag) or "").split(","))
            if key in ("cpu", "memory") and value
        }
        return deployment_action("k8s.set_resources", resources, name, ctx) if resources else None
    return None


def _objects(args: list[str]) -> tuple[list[str], str | None]:
    """(['deployment', 'pod'], name) from ['deploy,pods'], ['pod/name'] or ['pods', 'name']."""
    if not args:
        return [], None
    kinds_text, _, name = args[0].partition("/")
    kinds = [_KINDS.get(k.lower(), k.lower()) for k in kinds_text.split(",") if k]
    return kinds, name or (args[1] if len(args) > 1 else None)


def _read(kind: str, verb: str, name: str | None, words: Words, ctx: Context) -> list[Mapped]:
    why = f"kubectl {verb} {kind}"
    if kind in _WHOLE:
        return [Mapped("probe", _WHOLE[kind], {}, why)]
    if kind in _NAMED:
        probe, variable = _NAMED[kind]
        params: dict[str, Any] = {}
        set_target(params, "name", None, name, ctx, variable=variable)
        return [Mapped("probe", probe, params, why)]
    if kind == "pod":
        found = [Mapped("probe", "k8s.pods", _selector(words, name, ctx), why)]
        if verb == "describe":
            found.append(Mapped("probe", "k8s.events", {}, "kubectl describe pod shows the pod's events"))
        return found
    if kind in ("deployment", "replicaset"):
        params = {}
        set_target(params, "deployment", None, name if kind == "deployment" else None, ctx)
        return [Mapped("probe", "k8s.rollout", params, f"{why}: its status and revisions")]
    return []


def _logs(words: Words, args: list[str], rest: list[list[str]], ctx: Context) -> Mapped:
    params: dict[str, Any] = {}
    if tail := words.flag("--tail"):
        params["tail_lines"] = max(1, min(int(tail), 5000)) if tail.isdigit() else 200
    if since := words.flag("--since"):
        params["since_minutes"] = minutes(since)
    greps = [s for s in rest if s[:1] == ["grep"] and "-v" not in s]
    if greps and len(greps[0]) > 1:
        params["patterns"] = [_escape(greps[0][-1])]
    if container := words.flag("-c", "--container"):
        params["container"] = container
    kinds, name = _objects(args)
    set_target(params, "selector", words.flag("-l", "--selector"), name or (kinds[0] if kinds else None), ctx)
    return Mapped("probe", "k8s.logs", params, "kubectl logs")


def _selector(words: Words, name: str | None, ctx: Context) -> dict[str, Any]:
    params: dict[str, Any] = {}
    set_target(params, "selector", words.flag("-l", "--selector"), name, ctx)
    return params


def _escape(literal: str) -> str:
    """A grep word as a regex: grep's own `a\\|b` alternation kept, other specials escaped."""
    return "|".join(re.escape(part) for part in literal.split("\\|"))


def _unique(found: list[Mapped]) -> list[Mapped]:
    out: list[Mapped] = []
    for mapped in found:
        if not any(m.name == mapped.name and m.params == mapped.params for m in out):
            out.append(mapped)
    return out
