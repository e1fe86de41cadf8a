"""An incident across its runs: faults keyed on what is wrong (never on text), open until the same check no
longer finds them, what changed since the last run, and the worst open fault for the channel's root message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from builders import playbook

from bot.changes import changes, finding_record, incident_verdict, open_faults, runs
from bot.faults import Rank, fault
from bot.findings import Finding, diagnose
from bot.incidents import TimelineEntry, TimelineKind
from bot.playbook import Playbook
from bot.severity import Status

START = datetime(2026, 3, 14, 14, 2, tzinfo=UTC)
CRASH = fault(
    "Pods/api-gateway:CrashLoopBackOff",
    Rank.FAILING,
    Status.CRITICAL,
    "0/3 pods ready: 3 CrashLoopBackOff",
    "crash-loop",
)
EMPTY = fault(
    "Service/api-gateway:no-ready-endpoints",
    Rank.NOT_SERVING,
    Status.CRITICAL,
    "nothing is serving api-gateway",
    "no-ready-endpoints",
)
EVENT = fault("Events/api-gateway:FailedMount", Rank.SIGN, Status.CRITICAL, "FailedMount x1 on 1 pod", "warning-events")  # fmt: skip


@pytest.fixture
def book(tmp_path: Path) -> Playbook:
    return playbook(tmp_path, [{"probe": "k8s.pods"}, {"probe": "k8s.endpoints"}, {"probe": "k8s.events"}])


def seen(step: str, status: Status, *faults: dict[str, Any], summary: str = "") -> Finding:
    return Finding(step, step, step, status, summary or f"{step} {status}", data={"faults": list(faults)})


class Timeline:
    """A store's timeline as the flow writes it: a FINDING entry per check, a VERDICT entry ending each run."""

    def __init__(self, book: Playbook) -> None:
        self.book, self.entries, self.at = book, [], START

    def run(self, *findings: Finding) -> Any:
        before = list(self.entries)
        for f in findings:
            self._add(TimelineKind.FINDING, f.summary, finding_record(self.book, f))
        done = diagnose(self.book, list(findings), 10)
        self._add(TimelineKind.VERDICT, done.verdict, {"worst": done.worst.value})
        self.at += timedelta(minutes=9)
        return changes(before, self.book, done)

    def _add(self, kind: TimelineKind, text: str, data: dict[str, Any]) -> None:
        self.entries.append(TimelineEntry(len(self.entries) + 1, "INC-1", self.at, kind, text, data=data))


def test_the_first_run_has_nothing_to_compare_with(book: Playbook) -> None:
    assert Timeline(book).run(seen("k8s.pods", Status.CRITICAL, CRASH)) is None


def test_a_rerun_says_what_is_new_still_and_resolved_since_the_last_run(book: Playbook) -> None:
    timeline = Timeline(book)
    timeline.run(seen("k8s.pods", Status.CRITICAL, CRASH), seen("k8s.endpoints", Status.CRITICAL, EMPTY),
                 seen("k8s.events", Status.OK))  # fmt: skip
    changed = timeline.run(
        seen(
            "k8s.pods", Status.CRITICAL, {**CRASH, "text": "0/3 pods ready: 3 CrashLoopBackOff; 22 restarts"}
        ),
        seen("k8s.endpoints", Status.OK),
        seen("k8s.events", Status.CRITICAL, EVENT),
    )
    assert changed is not None
    assert changed.text == (
        "Since 14:02 UTC: new: FailedMount x1 on 1 pod; still: 0/3 pods ready: 3 CrashLoopBackOff; 22 restarts; "
        "resolved: nothing is serving api-gateway"
    ), "keyed on the fault, not on its text: more restarts is the same crash loop"


def test_a_check_that_could_not_run_resolves_nothing(book: Playbook) -> None:
    timeline = Timeline(book)
    timeline.run(seen("k8s.pods", Status.CRITICAL, CRASH))
    changed = timeline.run(seen("k8s.pods", Status.ERROR, summary="kube-apiserver refused the connection"))
    assert changed is not None and changed.text == "Since 14:02 UTC: no change in what the checks found"
    assert list(open_faults(runs(timeline.entries))) == [CRASH["key"]]


def test_a_fault_is_resolved_only_by_the_check_that_found_it(book: Playbook, tmp_path: Path) -> None:
    timeline = Timeline(book)
    timeline.run(seen("k8s.pods", Status.CRITICAL, CRASH))
    (tmp_path / "other").mkdir()
    other = playbook(tmp_path / "other", [{"probe": "k8s.pods", "params": {"scope": "namespace"}}])
    timeline.book = other  # a namespace-wide look is another check: it neither confirms nor resolves this one
    timeline.run(seen("k8s.pods", Status.OK))
    assert list(open_faults(runs(timeline.entries))) == [CRASH["key"]]


def test_the_root_shows_the_worst_open_fault_of_the_incident_not_the_latest_run(book: Playbook) -> None:
    timeline = Timeline(book)
    timeline.run(seen("k8s.pods", Status.CRITICAL, CRASH), seen("k8s.endpoints", Status.CRITICAL, EMPTY))
    timeline.run(seen("k8s.events", Status.CRITICAL, EVENT))  # a weak runner-up saw only an event
    assert incident_verdict(timeline.entries, "504s since the deploy") == (
        Status.CRITICAL,
        "Problem confirmed: nothing is serving api-gateway; 0/3 pods ready: 3 CrashLoopBackOff; FailedMount x1 on 1 pod",
    )


def test_once_everything_is_resolved_the_root_shows_the_latest_verdict(book: Playbook) -> None:
    timeline = Timeline(book)
    timeline.run(seen("k8s.pods", Status.CRITICAL, CRASH))
    timeline.run(seen("k8s.pods", Status.OK))
    assert incident_verdict(timeline.entries, "") == (Status.OK, "Checks are healthy (1 ok)")
    assert incident_verdict([], "") is None


def test_findings_are_recorded_with_their_check_and_fault_keys(book: Playbook) -> None:
    record = finding_record(book, seen("k8s.pods", Status.CRITICAL, CRASH))
    assert record["check"].startswith("k8s.pods:") and record["faults"][0]["key"] == CRASH["key"]
    same = finding_record(book.model_copy(update={"id": "demo/another"}), seen("k8s.pods", Status.OK))
    assert same["check"] == record["check"], "the same probe with the same parameters is the same check"
