"""Commands: pipeline (being built)."""
