"""Command: report (render the static HTML trend site from the metrics tables)."""

from __future__ import annotations

import json

import click

from flows.cli.app import cli, config_from, settings_from


@cli.command("report")
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Folder for the site (default: <home>/reports). Replaced atomically.")
@click.option("--generated-at", default=None, metavar="ISO",
              help="Generation time shown in the footer (default: now); fix it for byte-identical rebuilds.")
@click.option("--title", default=None, metavar="TEXT",
              help="The site's name in every page's title and header (default: the config's report.title, else "
                   "arXiv trends).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def report(ctx: click.Context, out_dir: str | None, generated_at: str | None, title: str | None,
           as_json: bool) -> None:
    """Render the HTML trend reports: overview, one page per topic, what's new, data coverage."""
    from reports import build_site
    from warehouse.api import Warehouse

    summary = build_site(Warehouse(settings_from(ctx)), out_dir=out_dir, generated_at=generated_at,
                         title=title or config_from(ctx)["report.title"])
    if as_json:
        click.echo(json.dumps(summary.as_dict(), sort_keys=True))
        return
    click.echo(f"report: {summary.pages} pages, {summary.charts} charts, {summary.csv_files} CSV files, "
               f"{summary.total_bytes / 1e6:.1f} MB in {summary.seconds:.1f} s")
    click.echo(f"open {summary.out_dir}/index.html")
    if summary.missing_tables:
        click.echo(f"not available yet: {', '.join(summary.missing_tables)}")
