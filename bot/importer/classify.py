"""Which probe or action covers a guide command, with parameters lifted from it; else a manual step and why.

Read-only commands that a probe covers become probe steps wherever they appear; a command that writes
becomes an action only in a solutions block, and only when a registered action does exactly that. A
command that writes found in a diagnosis block never becomes a probe: it stays manual, with a warning.

What a command runs is read past what only carries it: `watch`, `sudo`, `time`, `VAR=value` prefixes, an
`echo |` that feeds it, and the container it runs in (`kubectl exec POD --`, `docker exec`, `docker
compose exec`, a throwaway `kubectl run --rm` pod). A command run inside a container checks from there; the
bot checks from where it runs, so that probe is approximate and the command is kept beside it. The tools
are read by their own modules: kubectl, gcloud, http_calls (curl, wget), network, sql, exporters (celery, docker stats).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace
from typing import Any

import yaml

from bot.importer.envvars import assignments, settings_action
from bot.importer.exporters import exporter_probe
from bot.importer.gcloud import gcloud_actions, gcloud_probe
from bot.importer.http_calls import http_probe
from bot.importer.kubectl import kubectl_action, kubectl_probe
from bot.importer.network import network_probe
from bot.importer.outcome import Mapped
from bot.importer.placeholders import Context, is_stand_in
from bot.importer.shellwords import logical, parse_words, stages, writes
from bot.importer.sql import classify_sql, embedded_sql
from bot.importer.targets import pod_owner

# What only carries the command: `export X=1` lines before it (set for it), and runners of project tools.
_WRAPPERS = frozenset({"watch", "sudo", "time", "env", "timeout", "nice", "export"})
_RUNNERS = {"uv": "run", "poetry": "run", "pipenv": "run", "npx": None}
_FEEDERS = frozenset({"echo", "printf"})  # `echo | openssl s_client ...`: only feeds the next stage
_SHELLS = frozenset({"sh", "bash", "/bin/sh", "/bin/bash", "ash"})
# A comment naming what to run in a throwaway pod: "# Inside pod: wget http://api-gateway:8080/health".
_INSIDE = re.compile(
    r"^\s*#\s*(?:then\s+)?(?:inside|in)\s+(?:the\s+)?(?:pod|container)\s*:\s*(.+)$", re.I | re.M
)


def classify(command: str, lang: str, in_solutions: bool, ctx: Context) -> list[Mapped]:
    """Map one command (see the module docstring); never runs it."""
    if lang == "sql":
        return classify_sql(command, in_solutions)
    if lang in ("yaml", "yml") and in_solutions and (resources := _resources_snippet(command)):
        return [
            Mapped("action", "k8s.set_resources", resources, "a resources snippet: new limits or requests")
        ]
    if lang == "promql" and not in_solutions:  # as `curl .../api/v1/query?query=...` is read
        return [Mapped("probe", "prometheus.query", {"query": " ".join(command.split()), "label": "value"},
                       "a PromQL query")]  # fmt: skip
    if lang != "shell":
        return [Mapped("manual", why=f"a {lang} snippet, not a command" if lang != "text" else "prose")]
    found = stages(command)
    if not found:
        return [Mapped("manual", why="could not be read as a shell command")]
    first, rest = _main_stage(found)
    if env := assignments(first or found[0]):  # `export A=b`, or `A=b` lines (only settings, no command)
        if in_solutions:
            return [settings_action(env, ctx)]
        return [Mapped("manual", why="sets configuration values (for .env or the environment)")]
    if not first:  # `env | grep DB`: only a wrapper, nothing it carries
        return [Mapped("manual", why=f"no probe covers `{found[0][0]}`")]
    if (sql := embedded_sql(first)) is not None:
        return [replace(m, why=f"psql: {m.why}") for m in classify_sql(sql, in_solutions)]
    if container := _inside(first, command):
        return _in_container(*container, rest, in_solutions, ctx)
    written = writes(command)
    if written:
        if not in_solutions:
            return [
                Mapped(
                    "manual",
                    why=f"writes ({written}); a diagnosis step must be read-only",
                    warning=f"command that writes in a diagnosis block kept as a manual step: {logical(command)[:80]}",
                )
            ]
        return _actions(first, ctx) or [Mapped("manual", why=f"no action does this ({written})")]
    return _probes(first, rest, ctx) or [Mapped("manual", why=f"no probe covers `{' '.join(first[:2])}`")]


def _main_stage(found: list[list[str]]) -> tuple[list[str], list[list[str]]]:
    """The stage that does the work, without the wrappers around it, and the stages after it."""
    index = 0
    if found[0][:1] and found[0][0] in _FEEDERS and len(found) > 1:
        index = 1
    first = found[index]
    while first and (
        re.match(r"^[A-Z_][A-Z0-9_]*=", first[0]) or first[0] in _WRAPPERS or first[0] in _RUNNERS
    ):
        if first[0] in _RUNNERS:  # uv run celery ...: the tool is celery
            verb = _RUNNERS[first[0]]
            if verb and first[1:2] != [verb]:
                break
            first = first[2:] if verb else first[1:]
            continue
        wrapper, first = first[0], first[1:]
        while wrapper in ("watch", "timeout") and first and (first[0].startswith("-") or first[0].isdigit()):
            first = first[2:] if first[0] in ("-n", "--interval") else first[1:]
        if len(first) == 1 and " " in first[0]:  # watch 'kubectl top pods -l app=x': the command is quoted
            first = _split(first[0])
    return first, found[index + 1 :]


def _split(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


def _inside(first: list[str], command: str) -> tuple[list[str], str, str] | None:
    """(command, container, where) for a command run in a container: after `kubectl exec POD --`, after
    `docker [compose] exec C`, or in the throwaway pod of `kubectl run --rm` (after `--`, or in an
    "# Inside pod:" comment)."""
    tool, words = first[0], parse_words(first[1:])
    if tool == "kubectl" and words.positional[:1] == ["exec"] and words.after_dashes:
        pod = words.positional[1] if len(words.positional) > 1 else ""
        return words.after_dashes, pod.partition("/")[2] or pod, "the pod"
    if tool == "kubectl" and words.positional[:1] == ["run"] and words.has("--rm"):
        if words.after_dashes and words.after_dashes[0] not in _SHELLS:
            return words.after_dashes, "", "a throwaway pod"
        named = _INSIDE.search(command)
        return (_split(named.group(1)), "", "a throwaway pod") if named else None
    if tool in ("docker", "docker-compose") and "exec" in first[1:4]:
        after = first[first.index("exec") + 1 :]
        while after and after[0].startswith("-"):  # -it, -T, -u user
            after = after[2:] if after[0] in ("-u", "--user", "-w", "--workdir", "-e", "--env") else after[1:]
        return (after[1:], after[0], "the container") if len(after) > 1 else None
    return None


def _in_container(
    inner: list[str], container: str, where: str, rest: list[list[str]], in_solutions: bool, ctx: Context
) -> list[Mapped]:
    """A command run inside a container: its probe, approximate (the bot checks from where it runs)."""
    if inner[0] in _SHELLS and "-c" in inner[:-1]:  # sh -c "redis-cli ping"
        inner = _split(inner[inner.index("-c") + 1])
    text = shlex.join(inner)
    if (sql := embedded_sql(inner)) is not None:
        return [replace(m, why=f"psql: {m.why}") for m in classify_sql(sql, in_solutions)]
    if written := writes(text):
        return [Mapped("manual", why=f"runs in {where} and writes ({written})")]
    inner_stages = stages(text) or [inner]
    own = (
        not container
        or is_stand_in(container)
        or container == ctx.service
        or ctx.same("deployment", pod_owner(container))
    )
    found = _probes(inner_stages[0], inner_stages[1:] + rest, ctx, own_host=own) if inner_stages[0] else []
    if not found:
        return [Mapped("manual", why=f"runs `{inner[0]}` in {where}; no probe covers it")]
    return [
        replace(m, approximate=True, why=f"{m.why}, from the bot rather than from {where}")
        if m.kind == "probe"
        else m
        for m in found
    ]


def _probes(first: list[str], rest: list[list[str]], ctx: Context, own_host: bool = False) -> list[Mapped]:
    tool = first[0].rsplit("/", 1)[-1]
    if tool == "kubectl":
        return kubectl_probe(first, rest, ctx)
    if tool == "gcloud":
        return gcloud_probe(first, rest, ctx)
    if tool in ("curl", "wget"):
        return http_probe(tool, first, rest, ctx, own_host)
    if tool in ("celery", "docker"):
        return exporter_probe(tool, first)
    return network_probe(tool, first, rest, ctx)


def _actions(first: list[str], ctx: Context) -> list[Mapped]:
    if first[0] == "kubectl":
        action = kubectl_action(first, ctx)
        return [action] if action else []
    if first[0] == "gcloud":
        return gcloud_actions(first, ctx)
    return []


def _resources_snippet(text: str) -> dict[str, Any]:
    """{'memory_limit': '4Gi'} from a YAML snippet `resources: {limits: {memory: 4Gi}}`."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return {}
    resources = data.get("resources") if isinstance(data, dict) else None
    params = {}
    for section, kind in (("limits", "limit"), ("requests", "request")):
        values = resources.get(section) if isinstance(resources, dict) else None
        for key in ("cpu", "memory"):
            if isinstance(values, dict) and values.get(key) is not None:
                params[f"{key}_{kind}"] = str(values[key])
    return params
