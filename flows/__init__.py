"""Prefect flows and deployments, and the CLI that composes every layer."""
