"""Retention: `chatops store prune` forgets only resolved incidents older than `store.retention`, with their
timeline, buttons and claims; buttons of resolved incidents expire at once; open incidents are never touched."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import ROOT

from bot.clock import ManualClock
from bot.store import SqlStore, open_store
from bot.store.retention import prune

RETENTION = timedelta(days=90)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 1, 1, 9, 0, tzinfo=UTC))


@pytest.fixture
def store(tmp_path: Path, clock: ManualClock) -> Iterator[SqlStore]:
    with open_store(f"sqlite:///{tmp_path / 'chatops.db'}", clock) as s:
        yield s


def incident(store: SqlStore, resolved: bool) -> tuple[str, str]:
    """An incident with a button and an offer made in it (resolved now, if asked); its id and button."""
    opened = store.open_incident("api-gateway", "504s", "C0INCIDENTS", "U0ALICE")
    state = store.put_state("set_severity", {"incident": opened.id, "sev": "SEV-2"}, opened.id)
    assert store.claim(f"button:{state}", "U0ALICE") and store.claim(f"offer:{opened.id}:a/b")
    if resolved:
        store.resolve(opened.id, by="U0ALICE")
    return opened.id, state


def test_prune_deletes_only_old_resolved_incidents_and_their_buttons(
    store: SqlStore, clock: ManualClock
) -> None:
    old, old_button = incident(store, resolved=True)
    guess = store.put_state("diagnose_service", {"service": "api-gateway", "symptom": "504s"})  # no incident
    clock.advance(RETENTION + timedelta(days=1))
    recent, recent_button = incident(store, resolved=True)
    still_open, open_button = incident(store, resolved=False)

    counted = prune(store, RETENTION, clock, dry_run=True)
    assert (counted.incidents, counted.buttons) == (1, 3) and counted.timeline >= 2
    assert store.get(old) is not None and store.get_state(old_button) is not None, "a dry run deletes nothing"

    assert prune(store, RETENTION, clock) == counted
    assert store.get(old) is None and store.timeline(old) == []
    assert store.get_state(old_button) is None and store.get_state(guess) is None
    assert store.claim(f"button:{old_button}") and store.claim(f"offer:{old}:a/b"), "their claims went too"
    assert store.get(recent) is not None, "resolved within the retention period: kept"
    assert store.get_state(recent_button) is None, "but a resolved incident's buttons expire"
    assert store.get(still_open) is not None and store.get_state(open_button) is not None
    assert not store.claim(f"offer:{still_open}:a/b"), "an open incident's claims stay"
    assert prune(store, RETENTION, clock).incidents == 0


def test_the_prune_command_reports_what_it_would_delete(tmp_path: Path) -> None:
    config = tmp_path / "chatops.yaml"
    config.write_text(
        (ROOT / "config.example.yaml").read_text().replace("path: chatops.db", f"path: {tmp_path / 'c.db'}")
    )
    run = subprocess.run([sys.executable, "-c", "from handlers.cli import main; raise SystemExit(main())",
                          "--config", str(config), "store", "prune", "--dry-run"],
                         capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.endswith("would delete 0 resolved incidents (0 timeline entries) and 0 buttons\n")
