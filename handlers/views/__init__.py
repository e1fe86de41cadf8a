"""Modals: building them and taking their submissions (view_submission)."""
