from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))  # test helpers (guide_sections, fakes)
sys.path.insert(0, str(Path(__file__).resolve().parent / "handlers"))  # Slack scenario helpers

from postgres_server import PostgresServer, find_bindir  # noqa: E402

from bot.config import Config, load_config  # noqa: E402
from bot.matcher import Matcher  # noqa: E402
from bot.playbooks_loader import Catalog, load_catalog  # noqa: E402
from bot.settings import Settings  # noqa: E402


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def matcher(catalog: Catalog) -> Matcher:
    return Matcher(catalog)


@pytest.fixture(scope="session")
def example_config(catalog: Catalog) -> Config:
    return load_config(ROOT / "config.example.yaml", guides=catalog.guides())


@pytest.fixture(scope="session")
def example_settings(example_config: Config) -> Settings:
    """The bundled example config, with nothing from this machine's environment."""
    return Settings.from_config(example_config, ROOT / "config.example.yaml", env={})


@pytest.fixture
def workspace(tmp_path: Path, catalog: Catalog, example_settings: Settings) -> Iterator[Any]:
    """A Slack workspace: the Bolt app, the local Slack Web API, the simulated cluster and a store."""
    from handlers.shell.workspace import LocalWorkspace

    with LocalWorkspace(example_settings, catalog, "crashloop-oom", tmp_path / "chatops.db") as workspace:
        yield workspace


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL cluster for the session; skipped without the binaries, but in CI that fails."""
    bindir = find_bindir()
    if bindir is None:
        reason = "PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}: CI must run the PostgreSQL store tests")
        pytest.skip(reason)
    server = PostgresServer(bindir)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres: PostgresServer) -> str:
    """The URL of a fresh, empty PostgreSQL database."""
    return postgres.database()
