"""Commands over the warehouse itself: ``backfill`` and ``status``."""

from __future__ import annotations

import json

import click

from flows.cli.app import cli, settings_from
from warehouse.errors import ArxivTrendsError


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.option("--quiet", is_flag=True, help="No progress bar.")
@click.pass_context
def backfill(ctx: click.Context, paths: tuple[str, ...], as_json: bool, quiet: bool) -> None:
    """Import snapshot JSON lines (.gz too), raw OAI-PMH pages or Atom feeds (files or folders)."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from warehouse.api import Warehouse
    from warehouse.backfill import backfill_paths, expand_paths

    wh = Warehouse(settings_from(ctx))
    total_bytes = sum(p.stat().st_size for p in expand_paths(paths))
    bar = Progress(TextColumn("[bold]backfill[/] {task.description}"), BarColumn(),
                   TextColumn("{task.completed:,.0f} records"), TextColumn("{task.fields[rate]}"),
                   TimeElapsedColumn(), console=Console(stderr=True), disable=quiet or as_json)
    task = bar.add_task("", total=None, rate="")

    def on_records(name: str, n: int) -> None:
        if not bar.live.is_started:
            bar.start()  # only once every file was found and recognised
        bar.advance(task, n)
        elapsed = bar.tasks[0].elapsed or 1e-9
        bar.update(task, description=name, rate=f"{bar.tasks[0].completed / elapsed:,.0f}/s")

    try:
        summary = backfill_paths(wh, paths, progress=False, on_records=on_records)
    finally:
        bar.stop()
    if as_json:
        click.echo(json.dumps(summary.as_dict(), indent=2))
        return
    click.echo(f"read {summary.read:,} records from {len(summary.files)} file(s) "
               f"({total_bytes / 1e6:,.1f} MB) in {summary.seconds:.1f} s: "
               f"{summary.inserted:,} new, {summary.updated:,} updated, {summary.unchanged:,} unchanged, "
               f"{summary.quarantined:,} quarantined" + (f", {summary.deleted:,} deletions" if summary.deleted else ""))
    if summary.quarantine_file:
        click.echo(f"quarantined records (with line numbers and reasons): {summary.quarantine_file}")


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """What the warehouse holds: papers by source and year, tables, last runs, classifier version, integrity
    (exit code 1 when damage is known)."""
    from warehouse.api import Warehouse
    from warehouse.status import status as warehouse_status

    info = warehouse_status(Warehouse(settings_from(ctx)))
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
    else:
        _print_status(info)
    problems = len(info["integrity"]["damage"]) + len(info["integrity"]["unreadable"])
    if problems:
        raise ArxivTrendsError(f"{problems} damaged or unreadable table file(s) (listed above): "
                               "`arxiv-trends repair` restores them")


def _print_status(info: dict) -> None:
    click.echo(f"data root: {info['home']}")
    if info.get("local_dir"):
        click.echo(f"local working folder: {info['local_dir']}")
    if not info["papers"]:
        click.echo("papers: none yet (run `arxiv-trends backfill PATH...` or `arxiv-trends harvest`)")
    else:
        lo, hi = (s[:10] for s in info["submitted_range"])
        click.echo(f"papers: {info['papers']:,} submitted {lo} .. {hi}")
        click.echo("  by source: " + ", ".join(f"{k} {v:,}" for k, v in info["by_source"].items()))
        click.echo("  by year:   " + ", ".join(f"{k} {v:,}" for k, v in info["by_year"].items()))
        click.echo("  trend date from: " + ", ".join(f"{k} {v:,}" for k, v in info["by_date_source"].items()))
    for name, rows in info["tables"].items():
        click.echo(f"table {name}: " + (f"{rows:,} rows" if rows is not None else "unreadable (see below)"))
    if "classifier" in info:
        c = info["classifier"]
        if c.get("error"):
            click.echo(f"classifier: {c['error']}")
        else:
            ci = c.get("macro_f1_ci")
            f1 = f", macro F1 {c['macro_f1']:.3f}" if c.get("macro_f1") is not None else ""
            f1 += f" (95% CI {ci[0]:.3f}–{ci[1]:.3f})" if f1 and ci else ""
            f1 += (f", mean |count bias| {c['mean_abs_count_bias']:.1%}, cross-validated on {c['labels']} labelled "
                   "papers") if f1 and c.get("labels") else ""
            click.echo(f"classifier: {c.get('version')} ({c.get('embedder')} embedder{f1})")
    runs = info["last_runs"]
    for kind in ("backfill", "harvest", "classify", "aggregate", "report"):
        run = runs.get(kind)
        click.echo(f"last {kind}: " + (run["finished_at"] if run else "never"))
    click.echo(_integrity(info["integrity"]))


def _integrity(integrity: dict) -> str:
    """``verified at ...`` or the damage known (found by verify or by a command that ran into it)."""
    lines = []
    for entry in integrity["damage"]:
        what = f"file {entry['file']}" if entry.get("file") and entry.get("kind") != "version" else "current version"
        lines.append(f"DAMAGED: table {entry['table']}, {what} {entry['problem']} (found by {entry['found_by']} at "
                     f"{entry['found_at']})")
    lines += [f"UNREADABLE: {text}" for text in integrity["unreadable"]]
    if lines:
        lines.append("run `arxiv-trends repair` to restore the damaged tables (`arxiv-trends verify` lists all damage)")
    verified = integrity.get("verified") or {}
    if integrity.get("verified_at"):
        lines.insert(0, f"verified at {integrity['verified_at']}: {verified.get('tables', 0)} tables, "
                        f"{verified.get('files', 0):,} files" + ("" if lines else ", no damage known since"))
    else:
        lines.insert(0, "integrity: never verified (`arxiv-trends verify` reads every table file against its "
                        "checksum)" + ("" if lines else "; no damage known"))
    return "\n".join(lines)
