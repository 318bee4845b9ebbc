"""Scale-out on Dask through prefect-dask: the pure, batchable parts of a step run on the cluster.

Workers only compute (parse a file, classify a batch of papers); the flow's own process keeps the
writer lock and does every warehouse write, in the same order as the single-process run, so results
are identical. The cluster is created lazily, on the first batch submitted, and closed with the step.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from datetime import datetime
from typing import Iterator
from urllib.parse import urlsplit

import polars as pl
from prefect import get_run_logger
from prefect.context import FlowRunContext
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect_dask import DaskTaskRunner

from flows.tasks import classify_batch_task, parse_file_task
from warehouse.api import Warehouse

CLASSIFY_BATCH = 2_000  # papers per Dask task: a few seconds of work, a few MB to ship back


def task_runner(workers: int = 0, address: str | None = None) -> DaskTaskRunner | None:
    """A runner for an existing cluster (``address``, e.g. ``tcp://scheduler:8786``), a local cluster of
    ``workers`` single-threaded processes, or None (run in-process)."""
    if address:
        return DaskTaskRunner(address=address)
    if workers and workers > 0:
        return DaskTaskRunner(cluster_kwargs={"n_workers": workers, "threads_per_worker": 1, "processes": True,
                                              "dashboard_address": None})
    return None


@contextmanager
def connected(runner: DaskTaskRunner) -> Iterator[DaskTaskRunner]:
    """Start ``runner`` with the flow's own Prefect API pinned in the settings the workers receive.

    Without a ``PREFECT_API_URL`` the flow talks to an ephemeral API on 127.0.0.1; prefect-dask hands the
    workers the flow's settings, which name no API, so each worker would start an ephemeral server of its
    own (20 s each, and their runs in other databases). Pinning the URL makes them report to the flow's.
    """
    url = PREFECT_API_URL.value()
    if not url:
        url = str(FlowRunContext.get().client.api_url)
        if runner.address and urlsplit(runner.address).hostname not in ("127.0.0.1", "localhost"):
            get_run_logger().warning(
                "the Dask cluster at %s cannot reach this process's temporary Prefect API at %s: run a Prefect "
                "server its workers can reach and set PREFECT_API_URL", runner.address, url)
    with temporary_settings({PREFECT_API_URL: url}), runner:
        yield runner


def backfill_on_dask(wh: Warehouse, paths: list[str], runner: DaskTaskRunner) -> dict:
    """``backfill_paths`` with the parsing of each file on a Dask worker; ingestion stays here, in file order."""
    from warehouse.backfill import backfill_paths

    def parse_on_workers(detected: list) -> Iterator[list]:
        futures = [runner.submit(parse_file_task, {"path": str(path), "module_name": module})
                   for path, _fmt, module, _source in detected]
        return (future.result() for future in futures)

    with connected(runner):
        return backfill_paths(wh, paths, progress=False, read_files=parse_on_workers).as_dict()


def classify_on_dask(wh: Warehouse, runner: DaskTaskRunner, embedder: str | None = None,
                     batch_size: int = CLASSIFY_BATCH, labels: list[str] | None = None,
                     taxonomy: str | None = None) -> dict:
    """``classify_warehouse`` with embedding and prediction of each batch of new papers on a Dask worker.

    Fitting needs every paper in one place, so without a current model for ``embedder`` (or with a changed
    taxonomy) ``classify_warehouse`` fits in-process first. Vectors made on workers are not cached.
    """
    from analytics.classify.pipeline import classify_warehouse

    with ExitStack() as cluster:  # started on the first batch (a fit alone needs no cluster), closed at the end
        started: list[bool] = []

        def predict_on_workers(model, todo: pl.DataFrame, now: datetime) -> list:
            if not started:
                cluster.enter_context(connected(runner))
                started.append(True)
            futures = [runner.submit(classify_batch_task, {"home": wh.settings.location, "version": model.version,
                                                           "papers": todo[i:i + batch_size], "classified_at": now})
                       for i in range(0, todo.height, batch_size)]
            return [future.result() for future in futures]

        return classify_warehouse(wh, embedder=embedder, labels=labels or [], taxonomy=taxonomy, progress=False,
                                  predict_batches=predict_on_workers).as_dict()
