"""The validated catalogue kept on disk between runs, so start-up reads one file instead of parsing every playbook.

The key covers every playbook file's path and bytes and the code that validates them (the modules of `bot`, by
size and modification time, and the Python and pydantic versions): a change to either rebuilds it. A cache
that is missing, unreadable, corrupt or written for another key is ignored and rewritten; one that cannot be
written only costs the next start-up its speed. It is a pickle, so it lives in the user's own cache folder
(mode 0700): only someone who could already change the bot's code could change it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import sys
from pathlib import Path

import pydantic

from bot.playbook import Playbook

FORMAT = 1  # bump when what is stored changes shape
CODE = Path(__file__).resolve().parent  # the bot package


def key(root: Path, files: list[Path]) -> str:
    """What the cached catalogue was built from."""
    digest = hashlib.sha256(f"{FORMAT}|{sys.version}|{pydantic.VERSION}".encode())
    for module in sorted(CODE.rglob("*.py")):
        stat = module.stat()
        digest.update(f"|{module}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    for path in files:
        digest.update(f"|{path.relative_to(root).as_posix()}|".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def path_for(folder: Path, root: Path) -> Path:
    """One cache file per playbooks folder, so two folders never evict each other."""
    return folder / f"catalogue-{hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:16]}.pickle"


def load(path: Path, wanted: str) -> list[Playbook] | None:
    """The cached playbooks if they were built from `wanted`, else None."""
    try:
        with path.open("rb") as file:
            stored, playbooks = pickle.load(file)
    except Exception:  # missing, truncated, corrupt or from another version: rebuilt by the caller
        return None
    if stored != wanted or not all(isinstance(p, Playbook) for p in playbooks):
        return None
    return list(playbooks)


def save(path: Path, built_from: str, playbooks: list[Playbook]) -> None:
    """Write the cache whole or not at all (a reader never sees half a file)."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.partial")
        partial.write_bytes(pickle.dumps((built_from, playbooks), protocol=pickle.HIGHEST_PROTOCOL))
        os.replace(partial, path)
    except OSError:  # a read-only or full disk: no cache, just a slower start next time
        pass
