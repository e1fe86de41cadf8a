"""Scenarios of the simulated cluster: `sandbox/scenarios/<name>.yaml`, loaded with their `base` chain.

A scenario holds Kubernetes objects as YAML, pod logs (current and previous container), an optional
`delay_s` before every response, and what the simulated kubelet and scheduler do with new pods:
`bad_images` (image -> how its containers die, e.g. `OOMKilled`: its pods crash-loop) and
`node_free_memory` (a pod requesting more memory than this stays Pending, Unschedulable). `cloud_run` picks
the state of the sandbox's one Cloud Run service (sandbox.cloud_run_api.STATES) and when its newest revision
was created: `{state: failed-latest-revision, newest: "{now-20m}"}`.

`base: <scenario>` starts from another scenario; objects replace the base's object of the same kind and
name, `patches` deep-merge into base objects (by kind and name), `remove` drops some. Any string may hold
`{now-7m}` / `{now+60d}` (s, m, h, d): replaced by that UTC time at load, so "minutes ago" stays true.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).resolve().parent / "scenarios"
_NOW = re.compile(r"\{now(?:([+-]\d+)([smhd]))?\}")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def fill_now(value: Any, now: datetime) -> Any:
    """Replace `{now±N<unit>}` in every string of a loaded fixture with an RFC 3339 UTC time."""
    if isinstance(value, dict):
        return {k: fill_now(v, now) for k, v in value.items()}
    if isinstance(value, list):
        return [fill_now(v, now) for v in value]
    if isinstance(value, str):

        def at(match: re.Match[str]) -> str:
            offset = (
                timedelta(**{_UNITS[match.group(2)]: int(match.group(1))}) if match.group(1) else timedelta()
            )
            return (now + offset).strftime("%Y-%m-%dT%H:%M:%SZ")

        return _NOW.sub(at, value)
    return value


def load_scenario(name: str) -> dict[str, Any]:
    """A scenario's raw YAML with its `base` chain applied (objects by kind+name, logs by pod)."""
    doc: dict[str, Any] = yaml.safe_load((FIXTURES / f"{name}.yaml").read_text())
    if "base" not in doc:
        return {
            "objects": [],
            "logs": {},
            "bad_images": {},
            "node_free_memory": None,
            "cloud_run": None,
            **doc,
        }
    merged = load_scenario(doc["base"])
    key = lambda o: (o["kind"], o["metadata"]["name"])  # noqa: E731
    overrides = {key(o) for o in doc.get("objects", [])}
    drop = [(r["kind"], r.get("name")) for r in doc.get("remove", [])]
    kept = [
        o for o in merged["objects"]
        if key(o) not in overrides and not any(k == o["kind"] and n in (None, key(o)[1]) for k, n in drop)
    ]  # fmt: skip
    for patch in doc.get("patches", []):
        target = next(o for o in kept if key(o) == (patch["kind"], patch["metadata"]["name"]))
        _deep_merge(target, patch)
    logs = {p: v for p, v in merged["logs"].items() if ("Pod", None) not in drop}
    return {
        "objects": kept + doc.get("objects", []),
        "logs": {**logs, **doc.get("logs", {})},
        "delay_s": doc.get("delay_s", merged.get("delay_s", 0)),
        "bad_images": {**merged["bad_images"], **doc.get("bad_images", {})},
        "node_free_memory": doc.get("node_free_memory", merged["node_free_memory"]),
        "cloud_run": doc.get("cloud_run", merged["cloud_run"]),
    }


def _deep_merge(target: dict[str, Any], patch: dict[str, Any]) -> None:
    for k, v in patch.items():
        if isinstance(v, dict) and isinstance(target.get(k), dict):
            target[k] = dict(target[k])  # YAML anchors share dicts: copy before changing
            _deep_merge(target[k], v)
        else:
            target[k] = v
