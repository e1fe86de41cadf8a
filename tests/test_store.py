"""The incident store as the bot relies on it, run against every backend: incidents survive a restart, a retried
Slack event or a double-clicked button acts once, and nothing secret is ever written down.

What is particular to one backend (its files, schema upgrades) is tested beside it: tests/test_store_sqlite.py and
tests/test_store_postgres.py (which also races separate connection pools, as replicas do)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import TypeVar

import pytest

from bot.clock import ManualClock
from bot.errors import UnknownIncidentError
from bot.incidents import IncidentStatus, Outgoing, RequestState, TimelineKind
from bot.severity import Sev
from bot.store import EVENT_RETENTION, SqlStore, open_store

T = TypeVar("T")
START = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
LEASE = timedelta(seconds=45)  # how long a sender holds a page it is sending
SECRETS = [
    "hunter2hunter2",
    "xoxb-123456789012-abcdefghijkl",
    "4f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c",
    "AKIAIOSFODNN7EXAMPLE",
    "s3cr3tP4ss",
]
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of a fresh, empty store of each backend."""
    if request.param == "postgresql":
        return str(request.getfixturevalue("postgres_url"))
    return f"sqlite:///{tmp_path / 'state' / 'chatops.db'}"


@pytest.fixture
def store(store_url: str, clock: ManualClock) -> Iterator[SqlStore]:
    with open_store(store_url, clock) as s:
        yield s


def reopen(store: SqlStore) -> SqlStore:
    """Stop the bot and start it again on the same store."""
    store.close()
    return open_store(store.url, store.clock)


def all_at_once(n: int, work: Callable[[], T]) -> list[T]:
    """Run `work` in n threads released together, as Slack retries and double clicks arrive."""
    barrier = threading.Barrier(n, timeout=10)

    def run() -> T:
        barrier.wait()
        return work()

    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(run) for _ in range(n)]
        return [f.result(timeout=30) for f in futures]


def seen_event(store: SqlStore, event_id: str) -> bool:
    """How the app dedupes Slack's redeliveries: True when the event was handled already."""
    return not store.claim(f"slack-event:{event_id}", ttl=EVENT_RETENTION)


# -- incidents ------------------------------------------------------------------------------------


def test_an_incident_survives_a_restart_of_the_store(store: SqlStore, clock: ManualClock) -> None:
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
    store: SqlStore, clock: ManualClock
) -> None:
    ids = [store.open_incident("auth-service", f"issue {n}", "C1", "U1").id for n in range(3)]
    assert ids == ["INC-20261123-0001", "INC-20261123-0002", "INC-20261123-0003"]

    restarted = reopen(store)
    try:
        assert restarted.open_incident("auth-service", "again", "C1", "U1").id == "INC-20261123-0004"
        clock.advance(timedelta(days=1))
        assert restarted.open_incident("auth-service", "next day", "C1", "U1").id == "INC-20261124-0001"
    finally:
        restarted.close()


def test_the_day_in_the_id_is_the_utc_day(store_url: str) -> None:
    evening_in_new_york = datetime(2026, 11, 23, 21, 30, tzinfo=timezone(timedelta(hours=-5)))
    with open_store(store_url, ManualClock(evening_in_new_york)) as store:
        incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    assert incident.id == "INC-20261124-0001"
    assert incident.created_at == datetime(2026, 11, 24, 2, 30, tzinfo=UTC)


def test_incidents_opened_at_the_same_moment_get_distinct_numbers(store: SqlStore) -> None:
    ids = all_at_once(20, lambda: store.open_incident("api-gateway", "504s", "C1", "U1").id)
    assert sorted(ids) == [f"INC-20261123-{n:04d}" for n in range(1, 21)]


def test_a_thread_reply_finds_its_incident(store: SqlStore) -> None:
    first = store.open_incident("api-gateway", "504s", "C1", "U1")
    second = store.open_incident("auth-service", "login fails", "C1", "U1")
    store.set_thread(first.id, "100.1")
    store.set_thread(second.id, "100.2")

    found = store.by_thread("C1", "100.2")
    assert found is not None and found.id == second.id
    assert store.by_thread("C2", "100.2") is None
    assert store.by_thread("C1", "999.9") is None


def test_resolving_closes_the_incident_once(store: SqlStore, clock: ManualClock) -> None:
    incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    other = store.open_incident("auth-service", "login fails", "C1", "U1")
    clock.advance(timedelta(minutes=42))

    assert store.resolve(incident.id, "U2", "rolled back") is True
    clock.advance(timedelta(minutes=1))
    assert store.resolve(incident.id, "U3") is False  # a second click changes nothing

    resolved = store.get(incident.id)
    assert resolved is not None
    assert resolved.status is IncidentStatus.RESOLVED
    assert resolved.resolved_at == START + timedelta(minutes=42)
    assert resolved.resolved_by == "U2"
    assert resolved.age(clock.now()) == timedelta(minutes=42)
    assert [i.id for i in store.list_open()] == [other.id]
    resolutions = [e for e in store.timeline(incident.id) if e.kind is TimelineKind.RESOLVED]
    assert [(e.actor, e.text) for e in resolutions] == [("U2", "rolled back")]


def test_severity_changes_record_who_and_why(store: SqlStore, clock: ManualClock) -> None:
    incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    store.set_severity(incident.id, Sev.SEV3, None, "SEV-3 is this playbook's default")
    clock.advance(timedelta(minutes=5))
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


def test_picking_another_playbook_is_recorded_but_the_same_one_is_not(store: SqlStore) -> None:
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


def test_an_unknown_incident_is_reported_by_its_id(store: SqlStore) -> None:
    assert store.get("INC-20261123-0042") is None
    for call in (
        lambda: store.set_thread("INC-20261123-0042", "1.2"),
        lambda: store.set_severity("INC-20261123-0042", Sev.SEV2, "U1", "why"),
        lambda: store.resolve("INC-20261123-0042", "U1"),
        lambda: store.append("INC-20261123-0042", "note", "hello"),
    ):
        with pytest.raises(UnknownIncidentError, match="unknown incident 'INC-20261123-0042'"):
            call()
    assert store.timeline("INC-20261123-0042") == []


# -- timeline -------------------------------------------------------------------------------------


def test_the_timeline_keeps_the_order_things_happened(store: SqlStore, clock: ManualClock) -> None:
    incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    for n in range(5):  # several in the same instant: order still kept
        store.append(incident.id, TimelineKind.FINDING, f"check {n}: ok", data={"n": n})
    clock.advance(timedelta(seconds=3))
    store.append(incident.id, "verdict", "Checks are healthy (5 ok)")

    entries = store.timeline(incident.id)
    assert [e.text for e in entries[1:]] == [
        *(f"check {n}: ok" for n in range(5)),
        "Checks are healthy (5 ok)",
    ]
    assert [e.data.get("n") for e in entries[1:6]] == [0, 1, 2, 3, 4]
    assert entries[-1].at == START + timedelta(seconds=3)
    assert entries[-1].actor is None


def test_a_misspelt_timeline_kind_is_refused(store: SqlStore) -> None:
    incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    with pytest.raises(ValueError, match="unknown timeline kind 'findng'"):
        store.append(incident.id, "findng", "x")
    assert len(store.timeline(incident.id)) == 1


def test_the_timeline_never_holds_a_secret(store: SqlStore) -> None:
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


# -- things that happen once ----------------------------------------------------------------------


def test_a_retried_slack_event_is_recognised(store: SqlStore, clock: ManualClock) -> None:
    assert seen_event(store, "Ev0PV52K21") is False  # first delivery: act on it
    clock.advance(timedelta(minutes=1))
    assert seen_event(store, "Ev0PV52K21") is True  # retry after 1 min
    clock.advance(timedelta(minutes=4))
    assert seen_event(store, "Ev0PV52K21") is True  # retry after 5 min
    assert seen_event(store, "Ev0PV52K22") is False  # another event


def test_a_retry_after_a_restart_is_still_recognised(store: SqlStore) -> None:
    seen_event(store, "Ev0PV52K21")
    restarted = reopen(store)
    try:
        assert seen_event(restarted, "Ev0PV52K21") is True
    finally:
        restarted.close()


def test_event_ids_are_kept_an_hour_then_forgotten(store: SqlStore, clock: ManualClock) -> None:
    seen_event(store, "Ev1")
    clock.advance(timedelta(minutes=59))
    assert seen_event(store, "Ev1") is True
    clock.advance(timedelta(minutes=2))
    assert seen_event(store, "Ev1") is False


def test_a_claim_without_expiry_holds_for_good(store: SqlStore, clock: ManualClock) -> None:
    assert store.claim("offer:INC-1:ai-platform/5xx-errors") is True
    clock.advance(timedelta(days=400))
    assert store.claim("offer:INC-1:ai-platform/5xx-errors") is False
    assert store.claim("offer:INC-1:ai-platform/pods-crashlooping") is True
    with pytest.raises(ValueError):
        store.claim("")


def test_an_event_delivered_to_many_threads_at_once_is_new_exactly_once(store: SqlStore) -> None:
    results = all_at_once(20, lambda: seen_event(store, "Ev0RACE"))
    assert results.count(False) == 1
    assert results.count(True) == 19


def test_a_button_carries_only_an_opaque_id_of_its_state(store: SqlStore) -> None:
    payload = {
        "incident": "INC-20261123-0001",
        "action": "rollout_undo",
        "params": {"deployment": "api-gateway"},
    }
    state_id = store.put_state("approve_action", payload, "INC-20261123-0001")
    another = store.put_state("approve_action", payload)

    assert state_id != another
    assert "api-gateway" not in state_id and "rollout" not in state_id
    assert len(state_id) <= 2000 and state_id.replace("-", "").replace("_", "").isalnum()
    assert store.get_state(state_id) == ("approve_action", payload)
    assert store.get_state("forged-value") is None


def test_a_double_clicked_button_acts_once_even_after_a_restart(store: SqlStore) -> None:
    state_id = store.put_state("approve_action", {"request": 7})
    assert store.claim(f"button:{state_id}", "U2") is True
    assert store.claim(f"button:{state_id}", "U3") is False
    restarted = reopen(store)
    try:
        assert restarted.get_state(state_id) == ("approve_action", {"request": 7})  # still readable
        assert restarted.claim(f"button:{state_id}", "U2") is False
    finally:
        restarted.close()


def test_clicks_racing_on_many_threads_claim_once(store: SqlStore) -> None:
    state_id = store.put_state("approve_action", {"request": 1})
    results = all_at_once(20, lambda: store.claim(f"button:{state_id}", "U2"))
    assert results.count(True) == 1


def test_the_store_answers_a_health_check(store: SqlStore) -> None:
    store.ping()
    store.open_incident("api-gateway", "504s", "C1", "U1")
    assert store.count_open() == {"none": 1}


def test_a_clock_without_a_timezone_is_refused_at_start_up(store_url: str) -> None:
    class Naive(ManualClock):
        def now(self) -> datetime:
            return datetime(2026, 11, 23, 9, 30)

    with pytest.raises(ValueError, match="aware"):
        open_store(store_url, Naive())


# -- fix requests and the audit log --------------------------------------------------------------


def pending_request(store: SqlStore, clock: ManualClock, needed: int = 1) -> str:
    incident = store.open_incident("api-gateway", "504s", "C1", "U0BOB")
    request = store.create_request(incident.id, "ai-platform/5xx-errors", "k8s.rollout_undo", "Roll back", {},
                                   {"target": {"version": "7"}}, "U0BOB", clock.now() + timedelta(minutes=15), needed)  # fmt: skip
    return request.id


def test_of_many_approvers_at_once_exactly_one_runs_the_fix(store: SqlStore, clock: ManualClock) -> None:
    request_id = pending_request(store, clock)
    results = all_at_once(12, lambda: store.approve(request_id, "U0ALICE")[1])
    assert results.count(True) == 1
    request = store.get_request(request_id)
    assert request is not None and request.state == "executing" and request.decided_by == "U0ALICE"


def test_the_requester_never_counts_and_two_approvals_need_two_people(
    store: SqlStore, clock: ManualClock
) -> None:
    request_id = pending_request(store, clock, needed=2)
    assert store.approve(request_id, "U0BOB") == (0, False), "the requester's own approval is not one"
    assert store.approve(request_id, "U0ALICE") == (1, False)
    assert store.approve(request_id, "U0ALICE") == (1, False), "the same person twice is one approval"
    assert store.approve(request_id, "U0CAROL") == (2, True)
    events = [(e.event, e.actor) for e in store.audit()]
    assert events == [("requested", "U0BOB"), ("approval_recorded", "U0ALICE"), ("executing", "U0CAROL")]


def test_an_expired_request_cannot_be_approved(store: SqlStore, clock: ManualClock) -> None:
    request_id = pending_request(store, clock)
    clock.advance(timedelta(minutes=15))
    assert store.approve(request_id, "U0ALICE") == (1, False)
    assert store.expire_request(request_id) is True and store.expire_request(request_id) is False
    request = store.get_request(request_id)
    assert request is not None and request.state == "expired"


def test_a_request_moves_on_once_and_ends_with_its_outcome(store: SqlStore, clock: ManualClock) -> None:
    request_id = pending_request(store, clock)
    store.approve(request_id, "U0ALICE")
    done = [RequestState.SUCCEEDED]
    assert store.move_request(request_id, [RequestState.EXECUTING], done[0], outcome={"summary": "rolled back"},
                              verification={"status": "verified"}) is True  # fmt: skip
    assert store.move_request(request_id, [RequestState.EXECUTING], RequestState.FAILED) is False
    request = store.get_request(request_id)
    assert (
        request is not None and request.outcome == {"summary": "rolled back"} and request.state == "succeeded"
    )


def test_the_audit_log_is_append_only_and_holds_no_secret(store: SqlStore, clock: ManualClock) -> None:
    request_id = pending_request(store, clock)
    store.record_audit(
        store.list_open()[0].id, request_id, "note", "U0ALICE", {"env": "password=hunter2hunter2"}
    )
    assert "hunter2hunter2" not in repr(store.audit())
    with pytest.raises(Exception, match="append-only"), store.backend.write() as db:
        db.execute("UPDATE audit_log SET event = 'forged'")
    with pytest.raises(Exception, match="append-only"), store.backend.write() as db:
        db.execute("DELETE FROM audit_log")
    assert len(store.audit()) == 2


# -- the escalation ladder and the outbox of pages ------------------------------------------------


def test_a_due_rung_fires_once_however_many_reconcilers_race_for_it(
    store: SqlStore, clock: ManualClock
) -> None:
    incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    store.plan_escalation(incident.id, [(1, "oncall", "not_acknowledged", START + timedelta(minutes=15)),
                                        (2, "team_lead", "not_resolved", START + timedelta(hours=1))])  # fmt: skip
    assert store.due_escalations() == []
    clock.advance(timedelta(minutes=15))
    (due,) = store.due_escalations()
    assert (due.tier, due.condition, due.state) == ("oncall", "not_acknowledged", "waiting")
    assert all_at_once(10, lambda: store.fire_escalation(due.id)).count(True) == 1
    assert store.due_escalations() == []
    assert store.cancel_escalations(incident.id, "not_resolved") == 1
    states = [
        (r.tier, r.state, r.fired_at) for r in after_restart(store, lambda s: s.escalations_of(incident.id))
    ]
    assert states == [("oncall", "fired", START + timedelta(minutes=15)), ("team_lead", "cancelled", None)]


def after_restart(store: SqlStore, read: Callable[[SqlStore], T]) -> T:
    """What a process that opens the same store afresh reads (the store given is closed)."""
    restarted = reopen(store)
    try:
        return read(restarted)
    finally:
        restarted.close()


def test_a_page_is_kept_once_and_claimed_by_one_sender_in_order(store: SqlStore, clock: ManualClock) -> None:
    incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    trigger = {"action": "trigger", "tier": "oncall", "key_env": "PAGERDUTY_KEY_PLATFORM"}
    kept = all_at_once(5, lambda: store.enqueue(incident.id, Outgoing("page:trigger", "pagerduty", trigger)))
    assert kept.count(True) == 1
    assert store.enqueue(incident.id, Outgoing("page:ack", "pagerduty", {**trigger, "action": "acknowledge"}))
    claimed = [m for m in all_at_once(5, lambda: store.claim_outbox(LEASE)) if m is not None]
    assert [(m.dedup, m.state, m.attempts, m.payload) for m in claimed] == [
        ("page:trigger", "sending", 1, trigger)
    ]
    store.outbox_done(claimed[0].id, "delivered")
    ack = store.claim_outbox(LEASE)  # the acknowledge only once its trigger went out
    assert ack is not None and ack.dedup == "page:ack"
    store.outbox_done(ack.id, "pending", "503 from PagerDuty", retry_in=timedelta(seconds=30))
    assert store.claim_outbox(LEASE) is None
    clock.advance(timedelta(seconds=30))
    again = store.claim_outbox(LEASE)
    assert again is not None and again.attempts == 2
    clock.advance(LEASE - timedelta(seconds=1))  # its sender may still be waiting for PagerDuty's answer
    assert store.claim_outbox(LEASE) is None
    clock.advance(timedelta(seconds=1))  # a sender that died holding it: another takes it after the lease
    last = store.claim_outbox(LEASE)
    assert last is not None and last.attempts == 3
    assert [m.state for m in store.outbox_of(incident.id)] == ["delivered", "sending"]


def test_a_rung_and_its_page_are_kept_in_one_write(store: SqlStore, clock: ManualClock) -> None:
    """Whoever wins a rung has its page in the outbox already: dying right after the claim loses no page."""
    incident = store.open_incident("api-gateway", "504s", "C1", "U1")
    store.plan_escalation(incident.id, [(1, "team_lead", "not_resolved", START + timedelta(minutes=5))])
    clock.advance(timedelta(minutes=5))
    (due,) = store.due_escalations()
    page = Outgoing(f"page:{incident.id}:PAGERDUTY_KEY_LEAD:trigger", "pagerduty", {"tier": "team_lead"})
    assert all_at_once(5, lambda: store.fire_escalation(due.id, page)).count(True) == 1
    assert not store.fire_escalation(due.id, page), "a rung fired once keeps nothing more"
    assert [(m.dedup, m.state) for m in after_restart(store, lambda s: s.outbox_of(incident.id))] == [
        (page.dedup, "pending")
    ]
