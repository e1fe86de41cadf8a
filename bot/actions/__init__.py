"""Mutating actions: each runs only after a second person approves it, exactly once, and is audited."""
