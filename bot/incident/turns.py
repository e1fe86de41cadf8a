"""How many incidents run their checks at once: past a cap, the next ones wait their turn, and say so.

The flows take a turn around a playbook's checks (`with turns.take(waiting): ...`). Everything before it (the
incident, its root message, the match) happens at once, so a person always sees their incident open; only
the checks queue. `UNLIMITED` never waits (`chatops diagnose`, the shell); the Slack edge shares one cap
between its worker processes (handlers.turns).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol

Waiting = Callable[[int], None]  # told how many incidents are ahead (running or queued), before waiting


class Turns(Protocol):
    def take(self, waiting: Waiting) -> AbstractContextManager[object]:
        """Hold a turn for the block; when none is free, call `waiting(ahead)` once, then wait for one."""
        ...


class Unlimited:
    """Every incident runs at once."""

    def take(self, waiting: Waiting) -> AbstractContextManager[object]:
        return nullcontext()


UNLIMITED = Unlimited()
