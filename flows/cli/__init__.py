"""``arxiv-trends``: importing this package registers every command on the click group."""

from flows.cli.app import cli
from flows.cli import cmd_warehouse, cmd_harvest, cmd_classify, cmd_aggregate, cmd_report, cmd_pipeline  # noqa: F401

__all__ = ["cli"]


def main() -> None:
    cli(prog_name="arxiv-trends")
