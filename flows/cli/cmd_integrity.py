"""Commands: ``verify`` (every table file against its checksum) and ``repair`` (restore what is damaged)."""

from __future__ import annotations

import json

import click

from flows.cli.app import cli, settings_from
from warehouse.errors import ArxivTrendsError


def _progress(text: str) -> None:
    click.echo(text, err=True)


@cli.command("verify")
@click.option("--table", "tables", multiple=True, metavar="NAME",
              help="Verify only this table (repeatable), e.g. --table papers --table metrics/topic_monthly.")
@click.option("--json", "as_json", is_flag=True, help="Print the findings as JSON.")
@click.pass_context
def verify(ctx: click.Context, tables: tuple[str, ...], as_json: bool) -> None:
    """Read every file of the tables' current versions and check its size, checksum and Parquet footer."""
    from flows.repair import model_problem
    from warehouse.api import Warehouse
    from warehouse.integrity import record_verification

    wh = Warehouse(settings_from(ctx))
    report = wh.verify(list(tables) or None)
    record_verification(wh.settings, report, complete=not tables)
    model = None if tables else model_problem(wh.settings)
    if as_json:
        click.echo(json.dumps({**report.as_dict(), "model_problem": model}, indent=2))
    else:
        for item in report.damage:
            click.echo(f"damaged: {item.table}: {item.describe().split(' is damaged: ', 1)[1]}")
        if model:
            click.echo(f"damaged: {model}")
        for name in report.unrecorded:
            click.echo(f"note: {name} was written before checksums were recorded: only its Parquet footers were "
                       "checked (its next write records them)")
        state = "all intact" if report.ok and not model else f"{len(report.damage) + bool(model)} problem(s)"
        click.echo(f"verified {len(report.tables)} table(s), {report.files:,} files "
                   f"({report.bytes / 1e6:,.1f} MB) in {report.seconds:.1f} s: {state}")
    if not report.ok or model:
        what = [f"{len(report.damage)} damaged file(s) in {', '.join(dict.fromkeys(d.table for d in report.damage))}"
                ] if report.damage else []
        what += ["a damaged model (models/current.json)"] if model else []
        raise ArxivTrendsError(f"{' and '.join(what)} (listed above): `arxiv-trends repair` restores them, keeping the "
                               "damaged files aside")


@cli.command("repair")
@click.option("--json", "as_json", is_flag=True, help="Print what was found and done as JSON.")
@click.pass_context
def repair(ctx: click.Context, as_json: bool) -> None:
    """Restore every damaged table (rebuilt from its inputs, or its newest intact version); damaged files are
    kept under <home>/damaged/."""
    from flows.repair import repair_warehouse
    from warehouse.api import Warehouse

    summary = repair_warehouse(Warehouse(settings_from(ctx)), progress=None if as_json else _progress)
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
    elif not summary.found and not summary.model_problem:
        click.echo("nothing to repair: every table file matches its checksum")
    else:
        click.echo(f"found {len(summary.found)} damaged file(s)"
                   + (" and a model problem" if summary.model_problem else "")
                   + f"; damaged files kept in {summary.kept_in}")
        for line in summary.done:
            click.echo(f"  done: {line}")
        for line in summary.not_restored:
            click.echo(f"  NOT RESTORED: {line}")
        click.echo(f"repair took {summary.seconds:.1f} s; verify afterwards: "
                   + ("all intact" if summary.intact_after else "problems remain (see above)"))
    if summary.not_restored or not summary.intact_after:
        raise ArxivTrendsError(f"{len(summary.not_restored)} thing(s) could not be restored (listed above); "
                               f"the damaged files are kept in {summary.kept_in}")
