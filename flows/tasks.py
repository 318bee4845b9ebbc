"""Prefect tasks: thin wrappers over the library entry points, returning their summaries as dicts.

Tasks get the flow's ``Warehouse`` object so that the writer lock the flow holds is the one the library
re-enters (a second ``Warehouse`` in the same process would be locked out). Summaries are returned as
plain dicts, so persisted results are JSON and do not depend on the library's classes.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import httpx
import polars as pl
from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from flows.caching import aggregate_key, report_key
from flows.failures import known_failure
from flows.steps import entry_point
from warehouse.api import Warehouse

HARVEST_RETRIES = 2
HARVEST_RETRY_DELAYS_S = [300, 900]  # on top of the harvester's own per-request retries
CACHE_EXPIRATION = timedelta(days=7)


def _network_failure(task, task_run, state) -> bool:
    """Retry a harvest only when the network gave out; a protocol error or a held lock will not heal."""
    from warehouse.harvest.errors import GaveUp

    exc = state.result(raise_on_failure=False)
    return isinstance(exc, (GaveUp, httpx.TransportError))


def call(key: str, wh: Warehouse, *args: Any, **kwargs: Any) -> Any:
    """The library entry point ``key``; a failure that is not a bug (damaged tables, a full disk, a read-only data
    root) is raised as its one-line ``ArxivTrendsError``, which Prefect then logs without a traceback."""
    try:
        return entry_point(key)(wh, *args, **kwargs)
    except Exception as exc:
        known = known_failure(exc, wh.settings, key)
        if known is None or known is exc:
            raise
        raise known from None


def harvest_options(options: dict[str, Any] | None):
    """``HarvestOptions`` from JSON-friendly deployment parameters (dates as ISO strings, lists, ``retry``
    as a dict of ``RetryPolicy`` fields)."""
    from warehouse.harvest import HarvestOptions, RetryPolicy

    values = dict(options or {})
    for key in ("from_date", "until_date", "today"):
        if isinstance(values.get(key), str):
            values[key] = date.fromisoformat(values[key])
    for key in ("sets", "categories"):
        if key in values:
            values[key] = tuple(values[key])
    if isinstance(values.get("retry"), dict):
        values["retry"] = RetryPolicy(**values["retry"])
    return HarvestOptions(**values)


@task(name="harvest-oai", retries=HARVEST_RETRIES, retry_delay_seconds=HARVEST_RETRY_DELAYS_S,
      retry_condition_fn=_network_failure, cache_policy=NO_CACHE)
def harvest_task(wh: Warehouse, options: dict[str, Any] | None = None) -> dict:
    """Incremental OAI-PMH harvest (resumes from its checkpoint when retried)."""
    opts = harvest_options(options)
    opts.progress = get_run_logger().info
    return call("harvest", wh, opts).as_dict()


@task(name="harvest-api-query", retries=HARVEST_RETRIES, retry_delay_seconds=HARVEST_RETRY_DELAYS_S,
      retry_condition_fn=_network_failure, cache_policy=NO_CACHE)
def harvest_query_task(wh: Warehouse, query: str, max_results: int) -> dict:
    return call("harvest_query", wh, query, max_results).as_dict()


@task(name="backfill-files", cache_policy=NO_CACHE)
def backfill_task(wh: Warehouse, paths: list[str]) -> dict:
    return call("backfill", wh, paths, progress=False).as_dict()


@task(name="classify-new-papers", cache_policy=NO_CACHE)
def classify_task(wh: Warehouse, embedder: str = "fast", all: bool = False, refit: bool = False,
                  labels: list[str] | None = None) -> dict:
    return call("classify", wh, all=all, refit=refit, embedder=embedder, labels=labels or [],
                progress=get_run_logger().info).as_dict()


@task(name="aggregate-metrics", cache_key_fn=aggregate_key, cache_expiration=CACHE_EXPIRATION,
      persist_result=True, result_serializer="json")
def aggregate_task(wh: Warehouse, include_partial: bool = False) -> dict:
    """Recompute the metrics; skipped (cached) when papers, classifications and the day are unchanged."""
    return call("aggregate", wh, include_partial=include_partial).as_dict()


@task(name="build-report", cache_key_fn=report_key, cache_expiration=CACHE_EXPIRATION,
      persist_result=True, result_serializer="json")
def report_task(wh: Warehouse, out_dir: str | None = None) -> dict:
    """Render the HTML site; skipped (cached) when the tables it renders are unchanged and it still exists."""
    return call("report", wh, out_dir).as_dict()


# -- batch tasks for a Dask cluster: pure functions of their inputs, no warehouse writes -----------------
@task(name="parse-file", cache_policy=NO_CACHE)
def parse_file_task(path: str, module_name: str) -> list:
    """Every raw batch of one input file, as ``backfill_paths`` reads it."""
    from pathlib import Path

    from warehouse.backfill import file_batches

    return list(file_batches(Path(path), module_name))


_MODELS: dict[tuple[str, str], object] = {}  # (home, model version) -> loaded model, in each worker process


@task(name="classify-batch", cache_policy=NO_CACHE)
def classify_batch_task(home: str, version: str, papers: pl.DataFrame, classified_at: datetime):
    """Embed and classify one batch of papers with the model the flow chose (loaded once per worker)."""
    from warehouse.settings import Settings

    key = (home, version)
    if key not in _MODELS:
        model = entry_point("load_model")(Settings.from_home(home))
        if model.version != version:
            raise RuntimeError(f"the current model changed from {version} to {model.version} during the run")
        _MODELS.clear()
        _MODELS[key] = model
    return entry_point("predict_frame")(_MODELS[key], papers, classified_at=classified_at)
