"""What the listeners need, built once by `create_app` and passed in (no globals)."""

from __future__ import annotations

from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field

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
    # Incident work runs here, not on Bolt's listener pool, so acks never queue behind running diagnoses.
    work: Executor = field(
        default_factory=lambda: ThreadPoolExecutor(max_workers=8, thread_name_prefix="incident")
    )
