"""gcloud commands read by their command group: Cloud Run services and revisions, Cloud Logging.

`run services describe`, `run revisions list|describe` -> `cloud_run.service` (conditions, the latest
created vs. ready revision, where traffic goes); `logging read`, `run services logs read` ->
`cloud_logging.query` with the filter, limit and window lifted. In a fix, `run services update-traffic` and
`run services update` become the Cloud Run action that does the same (rollback, back to latest, resources,
scaling, environment); `run deploy` ships a new image or source, which no action does.
"""

from __future__ import annotations

import re
from typing import Any

from bot.importer.envvars import env_action, is_placeholder_value
from bot.importer.outcome import Mapped
from bot.importer.placeholders import Context
from bot.importer.shellwords import Words, minutes, parse_words

_LOG_READERS = (["logging", "read"], ["logging", "tail"], ["logs", "read"])


def gcloud_probe(first: list[str], rest: list[list[str]], ctx: Context) -> list[Mapped]:
    words = parse_words(first[1:])
    path = _command_path(words)
    if path[:3] == ["run", "services", "describe"] or (
        path[:2] == ["run", "revisions"]
        and path[2:3]
        in (
            ["list"],
            ["describe"],
        )
    ):
        return [
            Mapped("probe", "cloud_run.service", _service(words, path, ctx), f"gcloud {' '.join(path[:3])}")
        ]
    if path[:2] in _LOG_READERS:
        return [
            Mapped(
                "probe", "cloud_logging.query", _log_params(words, path, rest), f"gcloud {' '.join(path[:2])}"
            )
        ]
    if path[:3] == ["run", "services", "logs"] and path[3:4] in (["read"], ["tail"]):
        return [
            Mapped("probe", "cloud_logging.query", _log_params(words, path, rest), "gcloud run services logs")
        ]
    return []


def gcloud_actions(first: list[str], ctx: Context) -> list[Mapped]:
    """The Cloud Run actions that do what this gcloud command does ([] when none does)."""
    words = parse_words(first[1:])
    path = _command_path(words)
    if path[:3] == ["run", "services", "update-traffic"]:
        if words.has("--to-latest"):
            return [Mapped("action", "cloud_run.traffic_to_latest", {}, "all traffic to the latest revision")]
        revision = (words.flag("--to-revisions") or "").partition("=")[0]
        known = revision and not is_placeholder_value(revision)
        return [Mapped("action", "cloud_run.traffic_rollback", {"to_revision": revision} if known else {},
                       "traffic to an earlier revision")]  # fmt: skip
    if path[:3] == ["run", "services", "update"]:
        return _update(words, ctx)
    return []


def _command_path(words: Words) -> list[str]:
    """['run', 'services', 'describe', 'NAME'], without a leading release track (`gcloud beta run ...`)."""
    path = words.positional
    return path[1:] if path[:1] in (["beta"], ["alpha"]) else path


def _service(words: Words, path: list[str], ctx: Context) -> dict[str, Any]:
    name = words.flag("--service") if path[1] == "revisions" else (path[3] if len(path) > 3 else None)
    if path[1] == "revisions" and name is None and path[2] == "describe" and len(path) > 3:
        name = re.sub(r"-\d{5}-\w+$", "", path[3])  # the revision's service: reports-00042-xyz -> reports
    if name and not ctx.same("cloud_run_service", name):
        ctx.keep("cloud_run_service", name)
        return {"service": name}
    return {}


def _log_params(words: Words, path: list[str], rest: list[list[str]]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if (limit := words.flag("--limit")) and limit.isdigit():
        params["limit"] = min(int(limit), 5000)
    if window := words.flag("--freshness"):
        params["window_minutes"] = minutes(window)
    filters = path[2:3] if path[0] in ("logging", "logs") else []
    clauses = [c.strip() for p in [*filters, words.flag("--filter") or ""] for c in re.split(r"\bAND\b", p)]
    jq = " ".join(w for stage in rest for w in stage)
    if m := re.search(r'\.severity\s*==\s*"(\w+)"', jq):
        clauses.append(f"severity={m.group(1)}")
    if m := re.search(r"select\(\.(jsonPayload\.\w+\s*[<>]=?\s*\d+)\)", jq):
        clauses.append(m.group(1))
    match = []
    for clause in clauses:
        if not clause or clause.startswith(("resource.type", "resource.labels", "timestamp")):
            continue  # the service's own filter ({log_filter}) names its resource; the window sets the time
        if m := re.match(r"severity\s*>?=\s*\"?(\w+)\"?", clause):
            params["min_severity"] = m.group(1).upper()
        else:
            match.append(clause.strip('"'))
    if match:
        params["match"] = " AND ".join(match)
    return params


def _update(words: Words, ctx: Context) -> list[Mapped]:
    """`gcloud run services update` flags -> resources, scaling and environment actions (several at once)."""
    found: list[Mapped] = []
    resources = {key: words.flag(f"--{flag}") for flag, key in
                 (("memory", "memory"), ("cpu", "cpu"), ("timeout", "timeout_s"), ("concurrency", "concurrency"))}  # fmt: skip
    if any(resources.values()):
        params = {k: int(v) if k in ("timeout_s", "concurrency") and v.isdigit() else v
                  for k, v in resources.items() if v}  # fmt: skip
        found.append(Mapped("action", "cloud_run.update_resources", params, "Cloud Run resources"))
    scaling = {key: words.flag(f"--{flag}") for flag, key in
               (("min-instances", "min_instances"), ("max-instances", "max_instances"))}  # fmt: skip
    if any(scaling.values()):
        params = {k: int(v) for k, v in scaling.items() if v and v.isdigit()}
        found.append(Mapped("action", "cloud_run.scale", params, "Cloud Run instance limits"))
    if env_text := words.flag("--set-env-vars", "--update-env-vars"):
        env = dict(p.split("=", 1) for p in env_text.split(",") if "=" in p)
        if action := env_action("cloud_run.set_env", env, None, ctx):
            found.append(action)
        else:
            return []  # a value to look up first: the whole command stays manual
    if not found and not _changes_something(words):
        found.append(
            Mapped(
                "action",
                "cloud_run.redeploy",
                {},
                "gcloud run services update with no change: a new revision",
            )
        )
    return found


def _changes_something(words: Words) -> bool:
    """Flags other than where the service is (region, project, platform): a change no action makes."""
    return any(flag not in ("--region", "--project", "--platform", "--quiet", "-q") for flag in words.flags)
