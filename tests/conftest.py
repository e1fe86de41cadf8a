from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # test helpers (guide_sections, fakes)

from bot.config import Config, load_config  # noqa: E402
from bot.matcher import Matcher  # noqa: E402
from bot.playbooks_loader import Catalog, load_catalog  # noqa: E402


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def matcher(catalog: Catalog) -> Matcher:
    return Matcher(catalog)


@pytest.fixture(scope="session")
def example_config(catalog: Catalog) -> Config:
    return load_config(ROOT / "config.example.yaml", guides=catalog.guides())
