"""Commands: report (being built)."""
