"""``arxiv-trends harvest``: incremental OAI-PMH harvest, or an ad hoc arXiv API query with ``--query``."""

from __future__ import annotations

import json
from datetime import datetime

import click

from flows.cli.app import cli, config_from, settings_from
from warehouse.errors import InputError
from warehouse.harvest.defaults import DEFAULT_API_ENDPOINT, DEFAULT_OAI_ENDPOINT, DEFAULT_SETS
from warehouse.sources.oai import PREFIXES
from warehouse.stopping import StopRequested

_DAY = click.DateTime(formats=["%Y-%m-%d"])


def _progress(text: str) -> None:
    click.echo(text, err=True)


def _human(summary) -> str:
    what = (f"query {summary.query!r}" if summary.mode == "query"
            else f"{summary.prefix} {summary.from_date}..{summary.until_date} sets {','.join(summary.sets) or 'all'}")
    line = (f"harvested {what}: {summary.pages:,} pages ({summary.requests:,} requests, {summary.retries:,} retried), "
            f"{summary.read:,} records: {summary.inserted:,} new, {summary.updated:,} updated, "
            f"{summary.unchanged:,} unchanged, {summary.quarantined:,} quarantined, {summary.deleted:,} deleted")
    if summary.filtered_out:
        line += f", {summary.filtered_out:,} outside --category"
    if summary.mode == "oai":
        line += f"; watermark {summary.watermark}"
    if summary.total_results is not None and summary.total_results > summary.read:
        line += f"; the query matches {summary.total_results:,} (raise --max or narrow with --from/--until)"
    return line + f" ({summary.seconds:.1f} s)"


@cli.command()
@click.option("--from", "from_date", type=_DAY, default=None,
              help="First OAI datestamp day (YYYY-MM-DD). Default: the last watermark minus 7 days, "
                   "or 30 days ago on a first run. With --query: submittedDate from.")
@click.option("--until", "until_date", type=_DAY, default=None, help="Last day, inclusive (default: today, UTC).")
@click.option("--set", "sets", multiple=True,
              help=f"OAI set, repeatable (default: the config's harvest.sets, else {' '.join(DEFAULT_SETS)}; "
                   "'all' for no set restriction).")
@click.option("--category", "categories", multiple=True,
              help="Keep only papers in this category (repeatable, e.g. cs.CL; default: the config's "
                   "harvest.categories).")
@click.option("--endpoint", default=None,
              help=f"OAI-PMH base URL (default: the config's harvest.endpoint, else {DEFAULT_OAI_ENDPOINT}; "
                   f"http://export.arxiv.org/oai2 works too), or the API URL with --query (default "
                   f"{DEFAULT_API_ENDPOINT}).")
@click.option("--prefix", type=click.Choice(PREFIXES), default="arXivRaw", show_default=True,
              help="OAI metadataPrefix; arXivRaw carries the version history (the v1 date).")
@click.option("--delay", type=float, default=None,
              help="Seconds between requests (default 3, 0 for a loopback endpoint; never below 3 against "
                   "arXiv's hosts).")
@click.option("--window-days", type=int, default=7, show_default=True,
              help="Harvest in windows of this many days (a lost resumptionToken costs one window).")
@click.option("--retry-budget", type=float, default=1800.0, show_default=True,
              help="Seconds a run may spend waiting on failed requests (503/429/5xx/network) before giving up.")
@click.option("--query", default=None, help="arXiv API search query, e.g. 'cat:cs.CL AND ti:translation'.")
@click.option("--max", "max_results", type=int, default=1000, show_default=True,
              help="With --query: how many entries at most (<= 30,000).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@click.pass_context
def harvest(ctx: click.Context, from_date: datetime | None, until_date: datetime | None, sets: tuple[str, ...],
            categories: tuple[str, ...], endpoint: str | None, prefix: str, delay: float | None, window_days: int,
            retry_budget: float, query: str | None, max_results: int, as_json: bool) -> None:
    """Fetch new arXiv papers into the warehouse (OAI-PMH, resumable), or run an API query with --query."""
    from warehouse.api import Warehouse
    from warehouse.harvest.api_query import QueryOptions, harvest_query
    from warehouse.harvest.checkpoints import Stream
    from warehouse.harvest.http import RetryPolicy
    from warehouse.harvest.oai_harvest import HarvestOptions, harvest_oai

    wh = Warehouse(settings_from(ctx))
    start = from_date.date() if from_date else None
    end = until_date.date() if until_date else None
    retry = RetryPolicy(budget_s=retry_budget)
    if query is not None:
        if categories:
            raise InputError("--category is for OAI harvests; with --query put cat:... in the query")
        summary = harvest_query(wh, query, max_results, QueryOptions(
            endpoint=endpoint or DEFAULT_API_ENDPOINT, from_date=start, until_date=end, delay=delay,
            retry=retry, progress=_progress))
    else:
        configured = config_from(ctx).harvest_options()  # flags win over the config file and the environment
        chosen = (() if "all" in sets else tuple(sets)) if sets else tuple(configured["sets"])
        opts = HarvestOptions(endpoint=endpoint or configured["endpoint"], prefix=prefix, sets=chosen,
                              categories=tuple(categories or configured["categories"]), from_date=start,
                              until_date=end, delay=delay, window_days=window_days, retry=retry, progress=_progress)
        try:
            summary = harvest_oai(wh, opts)
        except (KeyboardInterrupt, StopRequested):
            stream = Stream(opts.endpoint, opts.prefix, opts.sets, tuple(sorted(opts.categories)))
            _progress(f"harvest interrupted; its checkpoint is in {stream.folder(wh.settings)}: "
                      "run the same command again to resume from the last page")
            raise
    click.echo(json.dumps(summary.as_dict(), indent=2) if as_json else _human(summary))
