"""Commands: aggregate (being built)."""
