"""Commands: warehouse (being built)."""
