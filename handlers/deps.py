"""What the listeners need, built once by `create_app` and passed in (no globals)."""

from __future__ import annotations

from dataclasses import dataclass

from slack_sdk import WebClient

from bot.config import Config
from bot.matcher import Matcher
from bot.playbooks_loader import Catalog
from bot.runner import Runner
from bot.store import Store


@dataclass
class Deps:
    config: Config
    catalog: Catalog
    matcher: Matcher
    store: Store
    runner: Runner
    client: WebClient
