"""``arxiv-trends aggregate``: recompute the metrics tables."""

from __future__ import annotations

import json

import click

from flows.cli.app import cli, settings_from


def _months(months: list[str], limit: int = 12) -> str:
    shown = ", ".join(months[-limit:])
    return f"{len(months)} ({'..., ' if len(months) > limit else ''}{shown})" if months else "none"


def _human(summary) -> str:
    lines = [f"aggregated {summary.months} months ({summary.first_month} .. {summary.last_month}) "
             f"in {summary.seconds:.1f} s; classifier version: {summary.model_version or 'none'}"]
    lines += [f"  {name:<32} {rows:>9,} rows" for name, rows in summary.tables.items()]
    lines.append(f"  partial months: {_months(summary.partial_months)}"
                 f"{' (included in growth)' if summary.include_partial else ' (excluded from growth)'}")
    lines.append(f"  low-coverage months: {_months(summary.low_coverage_months)}")
    lines += [f"  note: {note}" for note in summary.notes]
    return "\n".join(lines)


@cli.command("aggregate")
@click.option("--include-partial", is_flag=True,
              help="Compute growth figures for the current (partial) month too (it stays flagged).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def aggregate_command(ctx: click.Context, include_partial: bool, as_json: bool) -> None:
    """Recompute the metrics tables (topic/subtopic growth, bursts, co-occurrence, coverage)."""
    from analytics.metrics import aggregate
    from warehouse.api import Warehouse

    summary = aggregate(Warehouse(settings_from(ctx)), include_partial=include_partial)
    click.echo(json.dumps(summary.as_dict(), indent=2) if as_json else _human(summary))
