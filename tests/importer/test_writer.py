"""What a re-import does to a playbook file already on disk: replace it, or leave it and write `.new` beside it."""

from __future__ import annotations

from pathlib import Path

from bot.importer.writer import apply, plan, render

DRAFT = {"id": "shop/disk-full", "title": "Disk Full", "symptoms": ["No space left on device"]}


def write_plan(path: Path, data: dict[str, object]) -> str:
    text = render(data, ["Drafted by a test."])
    apply(plan(path, text), text)
    return text


def test_a_playbook_written_by_hand_is_left_alone_and_the_draft_goes_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "disk-full.yaml"
    path.write_text("id: shop/disk-full\ntitle: Disk full on the shop host\n", encoding="utf-8")
    text = render(DRAFT, ["Drafted by a test."])
    written = plan(path, text)
    apply(written, text)
    assert written.status == "conflict"
    assert written.why == "not written by the importer (no header)"
    assert "-title: Disk full on the shop host" in written.diff
    assert "+title: Disk Full" in written.diff
    assert path.read_text(encoding="utf-8") == "id: shop/disk-full\ntitle: Disk full on the shop host\n"
    assert (tmp_path / "disk-full.yaml.new").read_text(encoding="utf-8") == text


def test_an_untouched_draft_is_replaced_and_the_diff_shows_the_change(tmp_path: Path) -> None:
    path = tmp_path / "disk-full.yaml"
    write_plan(path, DRAFT)
    changed = {**DRAFT, "symptoms": ["No space left on device", "Writes fail"]}
    text = render(changed, ["Drafted by a test."])
    written = plan(path, text)
    apply(written, text)
    assert written.status == "updated"
    assert "+- Writes fail" in written.diff
    assert path.read_text(encoding="utf-8") == text
    assert not (tmp_path / "disk-full.yaml.new").exists()


def test_a_hand_edit_that_matches_the_new_draft_is_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "disk-full.yaml"
    first = write_plan(path, DRAFT)
    changed = {**DRAFT, "title": "Disk Full!"}
    path.write_text(first.replace("title: Disk Full", "title: Disk Full!"), encoding="utf-8")
    written = plan(path, render(changed, ["Drafted by a test."]))
    assert written.status == "unchanged"
    assert written.why == "edited by hand, but the new draft is the same"
