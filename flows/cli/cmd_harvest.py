"""Commands: harvest (being built)."""
