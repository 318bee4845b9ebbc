"""``arxiv-trends``: importing this package registers every command on the click group."""

from flows.cli.app import cli
from flows.cli import (cmd_aggregate, cmd_classify, cmd_harvest, cmd_integrity, cmd_pipeline,  # noqa: F401
                       cmd_report, cmd_warehouse)

__all__ = ["cli"]


def main() -> None:
    cli(prog_name="arxiv-trends")
