"""The incident store as the Slack app relies on it: incidents survive a restart, a retried Slack event or a
double-clicked button acts once, and nothing secret is ever written to disk."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import pytest

from bot.config import Config, StoreSettings
from bot.incidents import IncidentStatus, TimelineKind
from bot.severity import Sev
from bot.store import MIGRATIONS, Store, StoreError, UnknownIncidentError

T = TypeVar("T")
START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
SECRETS = [
    "hunter2hunter2",
    "xoxb-123456789012-abcdefghijkl",
    "4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
    "AKIAIOSFODNN7EXAMPLE",
    "s3cr3tP4ss",
]


class FakeClock:
    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "state" / "chatops.db"


@pytest.fixture
def store(db_path: Path, clock: FakeClock) -> Iterator[Store]:
    with Store(db_path, clock) as s:
        yield s


def reopen(store: Store) -> Store:
    """Stop the bot and start it again on the same file."""
    store.close()
    return Store(store.path, store.clock)


def all_at_once(n: int, work: Callable[[], T]) -> list[T]:
    """Run `work` in n threads released together, as Slack retries and double clicks arrive."""
    barrier = threading.Barrier(n, timeout=10)

    def run() -> T:
        barrier.wait()
        return work()

    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(run) for _ in range(n)]
        return [f.result(timeout=30) for f in futures]


# -- incidents ------------------------------------------------------------------------------------


def test_an_incident_survives_a_restart_of_the_store(store: Store, clock: FakeClock) -> None:
    opened = store.open_incident("api-gateway", "504s since the deploy", "C0INCIDENTS", "U0ALICE")
    store.set_thread(opened.id, "1763890200.000100")
    store.set_playbook(opened.id, "ai-platform/high-latency-or-timeouts", why="matched '504'")
    store.set_severity(opened.id, Sev.SEV2, "U0BOB", "checkout is failing for some users")
    store.append(opened.id, "note", "rolled back at 09:41", "U0BOB")

    restarted = reopen(store)
    try:
        incident = restarted.get(opened.id)
        assert incident is not None
        assert incident.service == "api-gateway"
        assert incident.symptom == "504s since the deploy"
        assert incident.created_by == "U0ALICE"
        assert incident.created_at == START
        assert incident.thread_ts == "1763890200.000100"
        assert incident.playbook_id == "ai-platform/high-latency-or-timeouts"
        assert incident.severity is Sev.SEV2
        assert incident.is_open
        assert restarted.by_thread("C0INCIDENTS", "1763890200.000100") == incident
        assert restarted.list_open() == [incident]
        kinds = [e.kind for e in restarted.timeline(opened.id)]
        assert kinds == ["opened", "matched", "severity", "note"]
    finally:
        restarted.close()


def test_incidents_are_numbered_per_day_and_the_numbers_survive_a_restart(
    store: Store, clock: FakeClock
) -> None:
    ids = [store.open_incident("auth-service", f"issue {n}", "C1", "U1").id for n in range(3)]
    assert ids == ["INC-20261123-0001", "INC-20261123-0002", "INC-20261123-0003"]

    restarted = reopen(store)
    try:
        assert restarted.open_incident("auth-service", "again", "C1", "U1").id == "INC-20261123-0004"
        clock.advance(days=1)
        assert restarted.open_incident("auth-service", "next day", "C1", "U1").id == "INC-20261124-0001"
    finally:
        restarted.close()


def test_the_day_in_the_id_is_the_utc_day(db_path: Path) -> None:
    evening_in_new_york = datetime(2026, 11, 23, 21, 30, tzinfo=timezone(timedelta(hours=-5)))
    with Store(db_path, lambda: evening_in_new_york) as store:
        incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    assert incident.id == "INC-20261124-0001"
    assert incident.created_at == datetime(2026, 11, 24, 2, 30, tzinfo=UTC)


def test_incidents_opened_at_the_same_moment_get_distinct_numbers(store: Store) -> None:
    ids = all_at_once(20, lambda: store.open_incident("api-gateway", "504s", "C1", "U1").id)
    assert sorted(ids) == [f"INC-20261123-{n:04d}" for n in range(1, 21)]


def test_a_thread_reply_finds_its_incident(store: Store) -> None:
    first = store.open_incident("api-gateway", "504s", "C1", "U1")
    second = store.open_incident("auth-service", "login fails", "C1", "U1")
    store.set_thread(first.id, "100.1")
    store.set_thread(second.id, "100.2")

    found = store.by_thread("C1", "100.2")
    assert found is not None and found.id == second.id
    assert store.by_thread("C2", "100.2") is None
    assert store.by_thread("C1", "999.9") is None


def test_resolving_closes_the_incident_once(store: Store, clock: FakeClock) -> None:
    incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    other = store.open_incident("auth-service", "login fails", "C1", "U1")
    clock.advance(minutes=42)

    assert store.resolve(incident.id, "U2", "rolled back") is True
    clock.advance(minutes=1)
    assert store.resolve(incident.id, "U3") is False  # a second click changes nothing

    resolved = store.get(incident.id)
    assert resolved is not None
    assert resolved.status is IncidentStatus.RESOLVED
    assert resolved.resolved_at == START + timedelta(minutes=42)
    assert resolved.resolved_by == "U2"
    assert resolved.age(clock.now) == timedelta(minutes=42)
    assert [i.id for i in store.list_open()] == [other.id]
    resolutions = [e for e in store.timeline(incident.id) if e.kind is TimelineKind.RESOLVED]
    assert [(e.actor, e.text) for e in resolutions] == [("U2", "rolled back")]


def test_severity_changes_record_who_and_why(store: Store, clock: FakeClock) -> None:
    incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    store.set_severity(incident.id, Sev.SEV3, None, "SEV-3 is this playbook's default")
    clock.advance(minutes=5)
    updated = store.set_severity(incident.id, "SEV-1", "U0IC", "all checkouts fail")
    assert store.set_severity(incident.id, "SEV-1", "U0BOB", "double click") is None

    assert updated is not None and updated.severity is Sev.SEV1
    assert (updated.severity_by, updated.severity_reason) == ("U0IC", "all checkouts fail")
    changes = [e for e in store.timeline(incident.id) if e.kind is TimelineKind.SEVERITY]
    assert [(e.actor, e.text) for e in changes] == [
        (None, "SEV-3: SEV-3 is this playbook's default"),
        ("U0IC", "SEV-1 (was SEV-3): all checkouts fail"),
    ]
    assert changes[1].data == {"severity": "SEV-1", "previous": "SEV-3"}
    assert changes[1].at == START + timedelta(minutes=5)
    with pytest.raises(ValueError):
        store.set_severity(incident.id, "SEV-9", "U0IC", "typo")


def test_picking_another_playbook_is_recorded_but_the_same_one_is_not(store: Store) -> None:
    incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    store.set_playbook(incident.id, "ai-platform/high-latency-or-timeouts")
    store.set_playbook(incident.id, "ai-platform/high-latency-or-timeouts")
    store.set_playbook(incident.id, "ai-platform/pods-crashlooping", actor="U2", why="picked by U2")

    matched = [e for e in store.timeline(incident.id) if e.kind is TimelineKind.MATCHED]
    assert [e.text for e in matched] == [
        "playbook ai-platform/high-latency-or-timeouts",
        "playbook ai-platform/pods-crashlooping: picked by U2",
    ]
    assert matched[1].data["previous"] == "ai-platform/high-latency-or-timeouts"


def test_an_unknown_incident_is_reported_by_its_id(store: Store) -> None:
    assert store.get("INC-20261123-0042") is None
    for call in (
        lambda: store.set_thread("INC-20261123-0042", "1.2"),
        lambda: store.set_severity("INC-20261123-0042", Sev.SEV2, "U1", "why"),
        lambda: store.resolve("INC-20261123-0042", "U1"),
        lambda: store.append("INC-20261123-0042", "note", "hello"),
        lambda: store.offer_once("INC-20261123-0042", "p"),
    ):
        with pytest.raises(UnknownIncidentError, match="unknown incident 'INC-20261123-0042'"):
            call()
    assert store.timeline("INC-20261123-0042") == []


# -- timeline -------------------------------------------------------------------------------------


def test_the_timeline_keeps_the_order_things_happened(store: Store, clock: FakeClock) -> None:
    incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    for n in range(5):  # several in the same instant: order still kept
        store.append(incident.id, TimelineKind.FINDING, f"check {n}: ok", data={"n": n})
    clock.advance(seconds=3)
    store.append(incident.id, "verdict", "Checks are healthy (5 ok)")

    entries = store.timeline(incident.id)
    assert [e.text for e in entries[1:]] == [
        *(f"check {n}: ok" for n in range(5)),
        "Checks are healthy (5 ok)",
    ]
    assert [e.data.get("n") for e in entries[1:6]] == [0, 1, 2, 3, 4]
    assert entries[-1].at == START + timedelta(seconds=3)
    assert entries[-1].actor is None


def test_a_misspelt_timeline_kind_is_refused(store: Store) -> None:
    incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    with pytest.raises(ValueError, match="unknown timeline kind 'findng'"):
        store.append(incident.id, "findng", "x")
    assert len(store.timeline(incident.id)) == 1


def test_the_timeline_never_holds_a_secret(store: Store, db_path: Path) -> None:
    incident = store.open_incident("api-gateway", "401s since rotating password=hunter2hunter2", "C1", "U1")
    store.append(
        incident.id,
        "finding",
        "config: SLACK_TOKEN=xoxb-123456789012-abcdefghijkl, Authorization: Bearer 4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
        data={
            "env": {"AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE", "replicas": 3},
            "dsn": ["postgres://app:s3cr3tP4ss@db:5432/app"],
        },
    )
    store.set_severity(incident.id, Sev.SEV2, "U2", "leaked password=hunter2hunter2 in logs")
    store.resolve(incident.id, "U2", "rotated the key AKIAIOSFODNN7EXAMPLE")

    entries = store.timeline(incident.id)
    shown = repr(entries) + repr(store.get(incident.id))
    for secret in SECRETS:
        assert secret not in shown
    assert entries[1].data["env"]["replicas"] == 3  # non-secret data survives as it was
    assert "[REDACTED" in entries[1].text

    store.close()  # and nothing secret reached the disk (database and its write-ahead log)
    on_disk = b"".join(p.read_bytes() for p in db_path.parent.iterdir())
    assert b"INC-20261123-0001" in on_disk
    for secret in SECRETS:
        assert secret.encode() not in on_disk


# -- Slack event dedupe -------------------------------------------------------------------------


def test_a_retried_slack_event_is_recognised(store: Store, clock: FakeClock) -> None:
    assert store.seen_event("Ev0PV52K21") is False  # first delivery: act on it
    clock.advance(minutes=1)
    assert store.seen_event("Ev0PV52K21") is True  # retry after 1 min
    clock.advance(minutes=4)
    assert store.seen_event("Ev0PV52K21") is True  # retry after 5 min
    assert store.seen_event("Ev0PV52K22") is False  # another event


def test_a_retry_after_a_restart_is_still_recognised(store: Store) -> None:
    store.seen_event("Ev0PV52K21")
    restarted = reopen(store)
    try:
        assert restarted.seen_event("Ev0PV52K21") is True
    finally:
        restarted.close()


def test_event_ids_are_kept_an_hour_then_forgotten(store: Store, clock: FakeClock) -> None:
    store.seen_event("Ev1")
    clock.advance(minutes=59)
    assert store.prune() == 0
    assert store.seen_event("Ev1") is True
    clock.advance(minutes=2)
    assert store.prune() == 1
    assert store.seen_event("Ev1") is False
    with pytest.raises(ValueError, match="at least"):
        store.prune(older_than=timedelta(minutes=10))


def test_old_event_ids_are_forgotten_without_an_explicit_prune(store: Store, clock: FakeClock) -> None:
    store.seen_event("Ev1")
    clock.advance(hours=2)
    store.seen_event("Ev2")
    assert store.prune() == 0  # Ev1 went when Ev2 arrived
    assert store.seen_event("Ev1") is False


def test_an_event_delivered_to_many_threads_at_once_is_new_exactly_once(store: Store) -> None:
    results = all_at_once(20, lambda: store.seen_event("Ev0RACE"))
    assert results.count(False) == 1
    assert results.count(True) == 19


# -- button state ---------------------------------------------------------------------------------


def test_a_button_carries_only_an_opaque_id_of_its_state(store: Store) -> None:
    payload = {
        "incident": "INC-20261123-0001",
        "action": "rollout_undo",
        "params": {"deployment": "api-gateway"},
    }
    state_id = store.put_state("approve_action", payload)
    another = store.put_state("approve_action", payload)

    assert state_id != another
    assert "api-gateway" not in state_id and "rollout" not in state_id
    assert len(state_id) <= 2000 and state_id.replace("-", "").replace("_", "").isalnum()
    assert store.get_state(state_id) == ("approve_action", payload)
    kind, got = store.get_state(state_id) or ("", {})
    assert (kind, got) == ("approve_action", payload)
    assert store.get_state("forged-value") is None


def test_a_double_clicked_button_acts_once(store: Store) -> None:
    state_id = store.put_state("approve_action", {"request": 7})
    assert store.claim_state(state_id, "U2") is True
    assert store.claim_state(state_id, "U2") is False
    assert store.claim_state(state_id, "U3") is False
    assert store.get_state(state_id) == ("approve_action", {"request": 7})  # still readable for rendering
    assert store.claim_state("never-issued") is False


def test_a_claimed_button_stays_claimed_after_a_restart(store: Store) -> None:
    state_id = store.put_state("resolve", {"incident": "INC-20261123-0001"})
    store.claim_state(state_id)
    restarted = reopen(store)
    try:
        assert restarted.get_state(state_id) == ("resolve", {"incident": "INC-20261123-0001"})
        assert restarted.claim_state(state_id) is False
    finally:
        restarted.close()


def test_clicks_racing_on_many_threads_claim_once(store: Store) -> None:
    state_id = store.put_state("approve_action", {"request": 1})
    results = all_at_once(20, lambda: store.claim_state(state_id, "U2"))
    assert results.count(True) == 1


# -- offers ---------------------------------------------------------------------------------------


def test_a_playbooks_fixes_are_offered_once_per_incident(store: Store) -> None:
    first = store.open_incident("api-gateway", "504s", "C1", "U1")
    second = store.open_incident("api-gateway", "504s again", "C1", "U1")

    assert store.offer_once(first.id, "ai-platform/high-latency-or-timeouts") is True
    assert store.offer_once(first.id, "ai-platform/high-latency-or-timeouts") is False
    assert store.offer_once(first.id, "ai-platform/pods-crashlooping") is True
    assert store.offer_once(second.id, "ai-platform/high-latency-or-timeouts") is True

    restarted = reopen(store)
    try:
        assert restarted.offer_once(first.id, "ai-platform/high-latency-or-timeouts") is False
    finally:
        restarted.close()


def test_offers_racing_on_many_threads_happen_once(store: Store) -> None:
    incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    results = all_at_once(20, lambda: store.offer_once(incident.id, "ai-platform/high-latency-or-timeouts"))
    assert results.count(True) == 1


# -- the file -------------------------------------------------------------------------------------


def test_the_store_file_comes_from_the_config(example_config: Config, tmp_path: Path) -> None:
    path = tmp_path / "var" / "chatops.db"
    config = example_config.model_copy(update={"store": StoreSettings(path=str(path))})
    with Store.from_config(config) as store:
        incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    assert path.exists()
    with Store(path) as again:
        assert again.get(incident.id) is not None


def test_opening_the_file_again_keeps_its_data_and_schema(store: Store, db_path: Path) -> None:
    incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    for _ in range(2):
        store = reopen(store)
    try:
        assert store.schema_version == len(MIGRATIONS)
        assert store.get(incident.id) is not None
    finally:
        store.close()
    with sqlite3.connect(db_path) as conn:  # WAL: readers (the CLI, a backup) never block the bot
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()


def test_a_file_from_a_newer_bot_is_refused_with_advice(store: Store, db_path: Path) -> None:
    store.close()
    with sqlite3.connect(db_path) as conn:
        conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (99, '2030-01-01')")
    conn.close()
    with pytest.raises(StoreError, match=r"schema version 99.*upgrade the bot"):
        Store(db_path)


def test_a_clock_without_a_timezone_is_refused_at_start_up(db_path: Path) -> None:
    with pytest.raises(ValueError, match="aware"):
        Store(db_path, lambda: datetime(2026, 11, 23, 9, 30))
