"""Read-only diagnostics: each module holds the probes of one system and their parameter models."""
