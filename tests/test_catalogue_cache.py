"""The validated catalogue is cached between runs: read back while nothing changed, rebuilt when a playbook file
changes, and a corrupt cache is only a slower start."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot import catalogue_cache, playbooks_loader
from bot.playbooks_loader import default_dir, load_catalog


@pytest.fixture
def playbooks(tmp_path: Path) -> Path:
    root = tmp_path / "playbooks"
    shutil.copytree(default_dir(), root)
    return root


def parses(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The files parsed from here on."""
    parsed: list[Path] = []
    real = playbooks_loader.load_file

    def counting(path: Path, root: Path | None = None) -> tuple[object, list[object]]:
        parsed.append(path)
        return real(path, root)  # type: ignore[return-value]

    monkeypatch.setattr(playbooks_loader, "load_file", counting)
    return parsed


def test_the_catalogue_is_read_back_while_nothing_changed(
    playbooks: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = load_catalog(playbooks, cache_dir=tmp_path / "cache")
    parsed = parses(monkeypatch)
    again = load_catalog(playbooks, cache_dir=tmp_path / "cache")
    assert parsed == [], "nothing parsed: the validated playbooks came from the cache"
    assert [p.id for p in again] == [p.id for p in first]
    step = next(iter(again)).probes[0]
    assert step.typed_params == next(iter(first)).probes[0].typed_params, "checked parameters are kept too"


def test_a_changed_playbook_rebuilds_the_cache(playbooks: Path, tmp_path: Path) -> None:
    catalogue = load_catalog(playbooks, cache_dir=tmp_path / "cache")
    playbook = next(iter(catalogue))
    path = playbooks / f"{playbook.id}.yaml"
    path.write_text(path.read_text().replace(f"title: {playbook.title}", "title: Renamed", 1))
    assert load_catalog(playbooks, cache_dir=tmp_path / "cache").get(playbook.id).title == "Renamed"


def test_a_corrupt_or_unwritable_cache_only_costs_speed(playbooks: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    expected = len(load_catalog(playbooks, cache_dir=cache))
    (file,) = cache.iterdir()
    file.write_bytes(b"\x80\x04garbage")
    assert len(load_catalog(playbooks, cache_dir=cache)) == expected
    assert catalogue_cache.load(file, catalogue_cache.key(playbooks, sorted(playbooks.rglob("*.yaml")))), (
        "rewritten"
    )
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the cache folder would be")
    assert len(load_catalog(playbooks, cache_dir=blocked)) == expected
