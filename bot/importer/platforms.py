"""Which platform an entry is about, read from the tools its commands use, and which the service runs on.

A guide for a system on two platforms (Cloud Run and Kubernetes) or with parts elsewhere (a Cloudflare
worker in front of a Kubernetes gateway) says which one an entry is about by its commands: `kubectl` and
`helm` are Kubernetes, `gcloud run` is Cloud Run, `wrangler` a Cloudflare worker, `docker compose` a
compose host. Probes of a platform are suggested only for entries about it (or naming none).
"""

from __future__ import annotations

from bot.importer.guide import Entry
from bot.importer.placeholders import Context
from bot.importer.shellwords import stages

KUBERNETES, CLOUD_RUN, NEUTRAL = "kubernetes", "cloud_run", "any"
_TOOLS = {"kubectl": KUBERNETES, "helm": KUBERNETES, "stern": KUBERNETES, "wrangler": "cloudflare",
          "docker-compose": "compose", "systemctl": "host", "journalctl": "host"}  # fmt: skip


def entry_platforms(entry: Entry) -> set[str]:
    """The platforms the entry's shell commands run against (none for an entry without such commands)."""
    found: set[str] = set()
    for step in entry.steps:
        if step.command is None or step.lang != "shell":
            continue
        for stage in stages(step.command) or []:
            tool = stage[0].rsplit("/", 1)[-1]
            if tool == "gcloud" and "run" in stage[1:3]:
                found.add(CLOUD_RUN)
            elif tool == "docker" and stage[1:2] == ["compose"]:
                found.add("compose")
            elif tool in _TOOLS:
                found.add(_TOOLS[tool])
    return found


def service_platforms(ctx: Context) -> set[str]:
    """The platforms the service of the catalogue runs on."""
    return {
        p
        for p, variable in ((KUBERNETES, "deployment"), (CLOUD_RUN, "cloud_run_service"))
        if ctx.has(variable)
    }
