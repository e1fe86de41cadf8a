"""Shortcuts on messages (message_action)."""
