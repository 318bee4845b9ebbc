"""The ``arxiv-trends`` click group: global options and the user-error boundary."""

from __future__ import annotations

import signal
import sys
import threading

import click

from flows.failures import explain
from warehouse.settings import Settings
from warehouse.stopping import StopRequested, deferring, raise_stop

EXIT_STOPPED = 128 + signal.SIGTERM  # what a shell reports for a process ended by SIGTERM


class _Group(click.Group):
    """Turns every failure into a one-line message and exit code 1 (no traceback), and SIGTERM into a stop
    at the next safe point (exit code 143)."""

    def invoke(self, ctx: click.Context):
        previous = None
        if threading.current_thread() is threading.main_thread():
            previous = signal.signal(signal.SIGTERM, deferring(raise_stop))
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except StopRequested as exc:
            click.echo(f"stopped ({exc.reason}) at a safe point: the unfinished step was dropped, every table is "
                       "whole (its previous version, or its new one if that step had finished); run the same "
                       "command again to go on", err=True)
            sys.exit(EXIT_STOPPED)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            sys.exit(130)
        except Exception as exc:
            click.echo(f"error: {explain(exc, ctx.obj, ctx.invoked_subcommand)}", err=True)
            sys.exit(1)
        finally:
            if previous is not None:
                signal.signal(signal.SIGTERM, previous)


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
