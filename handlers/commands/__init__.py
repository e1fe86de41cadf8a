"""Slash commands: each module exposes `register(app, deps)`."""
