"""The demo's last act: a team's own guide (sandbox/guides/shop.md) imported into playbooks, then `/diagnose`
with them in the local workspace, as a team adopting the bot would do on its first day.

The shop's service is configured as the guide describes it (namespace `shop`, deployment `shop-api`), so the
importer maps the guide's literals to placeholders; in the sandbox it is the simulated cluster's crash-looping
workload, as every service is.
"""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

from bot.importer.command import cmd_playbooks_import
from bot.playbooks_loader import load_catalog
from bot.settings import Settings
from handlers.shell.repl import run_shell

GUIDE = Path(__file__).resolve().parents[2] / "sandbox" / "guides" / "shop.md"
CONFIG = """\
services:
  shop-api:
    guide: shop
    team: shop
    description: The shop API, as its team's guide describes it
    kubernetes: {namespace: shop, deployment: shop-api, selector: app=shop-api}
teams:
  shop:
    oncall: {slack: S0ONCALL}
    approvers: [S0ONCALL]
"""
SYMPTOM = "/diagnose shop-api checkout returns 502 Bad Gateway since the last release, pods keep restarting"


def play_own_guide(write: Callable[[str], None]) -> int:
    with tempfile.TemporaryDirectory(prefix="chatops-own-guide-") as scratch:
        root = Path(scratch)
        (root / "chatops.yaml").write_text(CONFIG)
        playbooks = root / "playbooks"
        settings = Settings.load(str(root / "chatops.yaml"), str(playbooks), env={}, guides=["shop"])
        write(f"\n# Bring your own guide: the shop team's runbook ({GUIDE.name}) becomes playbooks.")
        write(f"$ chatops playbooks import {GUIDE.name} --guide shop --service shop-api")
        args = argparse.Namespace(path=str(GUIDE), guide="shop", out=str(playbooks / "shop"), service="shop-api",
                                  dry_run=False, json=False)  # fmt: skip
        if cmd_playbooks_import(SimpleNamespace(config=settings.config), args) != 0:
            return 1
        write("\n# /diagnose with the imported playbooks, against the simulated cluster.")
        return run_shell(settings, load_catalog(playbooks), "crashloop-oom", [SYMPTOM])
