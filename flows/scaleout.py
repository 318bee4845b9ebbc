"""Scale-out on Dask through prefect-dask: the pure, batchable parts of a step run on the cluster.

Workers only compute (parse a file, classify a batch of papers); the flow's own process keeps the
writer lock and does every warehouse write, in the same order as the single-process run, so results
are identical. The cluster is created lazily, on the first batch submitted, and closed with the step.
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Iterator
from urllib.parse import urlsplit

import numpy as np
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
    from warehouse.backfill import BackfillSummary, detect_format, expand_paths
    from warehouse.ingest import ingest_batches
    from warehouse.state import record_run

    started = time.perf_counter()
    files = expand_paths(paths)
    detected = [(path, *detect_format(path)) for path in files]
    summary = BackfillSummary(files=[{"path": str(p), "format": fmt, "records": 0} for p, fmt, _, _ in detected])
    with wh.lock(), connected(runner):
        futures = [runner.submit(parse_file_task, {"path": str(path), "module_name": module, "source": source})
                   for path, _fmt, module, source in detected]

        def batches() -> Iterator:
            for entry, future in zip(summary.files, futures):
                for batch in future.result():
                    entry["records"] += batch.frame.height + len(batch.extras)
                    yield batch

        stats = ingest_batches(wh, batches(), default_source="snapshot", origin="backfill")
    for name in ("read", "inserted", "updated", "unchanged", "quarantined", "deleted", "quarantine_file"):
        setattr(summary, name, getattr(stats, name))
    summary.seconds = round(time.perf_counter() - started, 2)
    record_run(wh.settings, "backfill", files=len(files), read=summary.read, inserted=summary.inserted,
               updated=summary.updated, quarantined=summary.quarantined)
    return summary.as_dict()


def classify_on_dask(wh: Warehouse, runner: DaskTaskRunner, embedder: str = "fast",
                     batch_size: int = CLASSIFY_BATCH) -> dict:
    """``classify_warehouse`` with embedding and prediction of each batch of new papers on a Dask worker.

    Fitting needs every paper in one place, so without a current model for ``embedder`` (or with a
    changed taxonomy) the classifier is fitted in-process by ``classify_warehouse`` itself. Vectors made
    on workers are not added to the embeddings cache.
    """
    from analytics.classify import pipeline as classify
    from analytics.classify.store import read_current
    from analytics.taxonomy import load_taxonomy
    from warehouse.state import record_run

    current = read_current(wh.settings)
    if current is None or current["embedder"] != embedder or current.get("taxonomy") != load_taxonomy().digest():
        get_run_logger().info("no current %s model: fitting in this process (fitting does not scale out)", embedder)
        return classify.classify_warehouse(wh, embedder=embedder, progress=False).as_dict()
    started = time.perf_counter()
    with wh.lock():
        bundle = classify.load_model(wh.settings)
        papers = wh.scan_papers().select(classify.PAPER_COLUMNS).collect()
        todo = classify._todo(wh, papers, bundle.version)
        now = datetime.now(timezone.utc)
        with connected(runner):
            futures = [runner.submit(classify_batch_task, {"home": str(wh.settings.home), "version": bundle.version,
                                                           "papers": todo[i:i + batch_size], "classified_at": now})
                       for i in range(0, todo.height, batch_size)]
            parts = [future.result() for future in futures]
        parts = parts or [classify.predict_frame(bundle, todo, np.zeros((0, 1)), now)]
        new_cls = pl.concat([p.classifications for p in parts])
        new_sub = pl.concat([p.paper_subtopics for p in parts])
        wh.write_table("classifications", classify._merge(wh, "classifications", new_cls, todo["id"], bundle.version))
        paper_subtopics = classify._merge(wh, "paper_subtopics", new_sub, todo["id"], bundle.version)
        wh.write_table("paper_subtopics", paper_subtopics)
        if bundle.subtopics is not None and not wh.has_table("subtopics"):
            wh.write_table("subtopics", bundle.subtopics.subtopics_frame(
                assignments=paper_subtopics["subtopic"].to_numpy(), model_version=bundle.version))
    summary = classify.ClassifySummary(
        model_version=bundle.version, embedder=bundle.embedder_name, fitted=False, classified=todo.height,
        assignments=new_cls.height, papers_without_topic=todo.height - new_cls["id"].n_unique(),
        subtopics=len(bundle.subtopics.subtopics_) if bundle.subtopics is not None else 0,
        evaluation=current.get("evaluation"), seconds=round(time.perf_counter() - started, 2))
    record_run(wh.settings, "classify", model_version=summary.model_version, classified=summary.classified,
               assignments=summary.assignments, fitted=False, seconds=summary.seconds, workers="dask")
    return summary.as_dict()
