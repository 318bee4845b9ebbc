"""The ``arxiv-trends`` click group: global options and the user-error boundary."""

from __future__ import annotations

import sys

import click

from warehouse.errors import ArxivTrendsError
from warehouse.settings import Settings


class _Group(click.Group):
    """Turns known user errors into a one-line message and exit code 1 (no traceback)."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ArxivTrendsError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--home", type=str, default=None, envvar="ARXIV_TRENDS_HOME", metavar="PATH|URL",
              help="Data root (default: $ARXIV_TRENDS_HOME, else ./data): a folder, or an fsspec URL such as "
                   "s3://bucket/prefix for the tables on object storage.")
@click.pass_context
def cli(ctx: click.Context, home: str | None) -> None:
    """arxiv-trends: research-trend analytics for arXiv."""
    ctx.obj = Settings.from_home(home)


def settings_from(ctx: click.Context) -> Settings:
    """The Settings chosen by the global options."""
    return ctx.find_root().obj
