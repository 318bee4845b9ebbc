"""Commands: run (the daily pipeline as Prefect flows) and serve (the scheduled deployments, one process).

Prefect is imported inside the commands, after ``flows.prefect_env.configure`` has set its offline
defaults, so the other commands never pay for it.
"""

from __future__ import annotations

import json
import os

import click

from flows.cli.app import cli, settings_from
from flows.prefect_env import configure
from warehouse.errors import ArxivTrendsError
from warehouse.stopping import StopRequested


def _format_step(name: str, step: dict) -> str:
    summary = step.get("summary") or {}
    if step["status"] == "skipped":
        return f"  {name:<10} skipped: {step['reason']}"
    if step["status"] == "failed":
        return f"  {name:<10} FAILED: {step['reason']}"
    numbers = ", ".join(f"{key} {summary[key]:,}" for key in ("read", "inserted", "updated", "classified",
                                                                "months", "pages", "charts")
                        if isinstance(summary.get(key), int))
    note = " (reused: inputs unchanged since the last run)" if step["status"] == "cached" else ""
    return f"  {name:<10} {step['status']} in {step['seconds']:.1f} s{': ' + numbers if numbers else ''}{note}"


@cli.command("run")
@click.option("--no-harvest", is_flag=True, help="Skip the harvest: work offline on the papers already in.")
@click.option("--no-report", is_flag=True, help="Stop after the metrics (the weekly deployment builds the report).")
@click.option("--embedder", type=click.Choice(["fast", "accurate"]), default="fast", show_default=True,
              help="Embedding model for classification.")
@click.option("--workers", type=click.IntRange(min=0), default=0, show_default=True,
              help="Classify on a local Dask cluster of N worker processes (0: in this process).")
@click.option("--dask-address", metavar="URL", default=None,
              help="Classify on an existing Dask cluster, e.g. tcp://scheduler:8786.")
@click.option("--wait-lock", type=click.FloatRange(min=0), default=0.0, show_default=True, metavar="SECONDS",
              help="If another run is writing the warehouse, wait this long for it before failing.")
@click.option("--endpoint", metavar="URL", default=None, help="OAI-PMH endpoint (default: arXiv's).")
@click.option("--delay", type=float, default=None, metavar="SEC", help="Seconds between harvest requests.")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.pass_context
def run(ctx: click.Context, no_harvest: bool, no_report: bool, embedder: str, workers: int,
        dask_address: str | None, wait_lock: float, endpoint: str | None, delay: float | None,
        as_json: bool) -> None:
    """The daily pipeline as Prefect flows: harvest -> classify new -> aggregate -> report."""
    settings = settings_from(ctx)
    configure(settings)
    from prefect.exceptions import CancelledRun

    from flows.pipeline import daily_pipeline

    options = {key: value for key, value in (("endpoint", endpoint), ("delay", delay)) if value is not None}
    try:
        result = daily_pipeline(home=settings.location, harvest=not no_harvest, report=not no_report,
                                embedder=embedder, workers=workers, dask_address=dask_address, wait_lock=wait_lock,
                                harvest_options=options or None)
    except CancelledRun:  # SIGTERM or a cancellation: the flow stopped at a safe point and said so
        raise StopRequested("SIGTERM or a Prefect cancellation") from None
    if as_json:
        click.echo(json.dumps(result, sort_keys=True, default=str))
    else:
        click.echo(f"daily pipeline on {result['home']}:")
        for name, step in result["steps"].items():
            click.echo(_format_step(name, step))
        if result.get("report_url"):
            click.echo(f"report: {result['report_url']}")
    failed = [name for name, step in result["steps"].items() if step["status"] == "failed"]
    if failed:
        raise ArxivTrendsError(f"{', '.join(failed)} failed (see above); the other steps ran on the papers "
                               "already in the warehouse")


@cli.command("serve")
@click.option("--limit", type=click.IntRange(min=1), default=1, show_default=True,
              help="How many flow runs may execute at once.")
@click.pass_context
def serve(ctx: click.Context, limit: int) -> None:
    """Serve the scheduled deployments (daily pipeline, weekly report) in this long-running process."""
    settings = settings_from(ctx)
    configure(settings)
    if not os.environ.get("PREFECT_API_URL"):
        from prefect.settings import PREFECT_API_URL

        if not PREFECT_API_URL.value():
            raise ArxivTrendsError(
                "serve needs a Prefect server to schedule runs: start one with "
                "`prefect server start --host 127.0.0.1` and export PREFECT_API_URL=http://127.0.0.1:4200/api")
    from flows.deployments import serve_deployments

    click.echo(f"serving the arxiv-trends deployments for {settings.location} (Ctrl-C to stop)")
    serve_deployments(settings.location, limit=limit)
