"""Commands: classify (being built)."""
