"""The flows: one per capability, and ``daily_pipeline`` (harvest -> classify new -> aggregate -> report).

Every flow holds the warehouse writer lock for its whole run, so two runs at once never interleave
their writes: the second one waits up to ``wait_lock`` seconds, then fails with ``WarehouseLocked``
(saying who holds the lock). A step whose library function is not built, or whose input tables do not
exist yet, is skipped with the reason, and the run goes on with the steps that can run. A step that fails
on damaged tables, a full disk or a read-only data root fails with that one line (``flows.failures``).
SIGTERM or a cancellation ends a run at the next safe point, Cancelled (``flows.graceful``).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from prefect import flow, get_run_logger

from flows import artifacts, steps
from flows.caching import metrics_missing, site_missing
from flows.failures import known_failure
from flows.graceful import stoppable
from flows.prefect_env import quiet_user_errors
from flows.scaleout import CLASSIFY_BATCH, backfill_on_dask, classify_on_dask, task_runner
from flows.tasks import aggregate_task, backfill_task, classify_task, harvest_task, report_task
from warehouse.api import Warehouse, open_warehouse

quiet_user_errors()

NEEDS = {  # step -> tables it reads, with the reason it is skipped when one is absent
    "classify": {"papers": "no papers yet: run `arxiv-trends backfill` or a harvest first"},
    "aggregate": {"papers": "no papers yet: run `arxiv-trends backfill` or a harvest first"},
    "report": {"metrics/topic_monthly": "no topic metrics yet: classification and aggregation must run first"},
}


class Steps:
    """Runs the steps of one flow run and remembers what each did, was skipped for, or reused."""

    def __init__(self, wh: Warehouse, flow_name: str):
        self.wh = wh
        self.flow_name = flow_name
        self.steps: dict[str, dict[str, Any]] = {}
        self.logger = get_run_logger()

    def skip(self, name: str, reason: str) -> None:
        self.logger.warning("%s skipped: %s", name, reason)
        self.steps[name] = {"status": "skipped", "reason": reason, "summary": None, "seconds": 0.0}

    def run(self, name: str, call: Callable[[], Any], tolerate_failure: bool = False) -> dict | None:
        """Run ``call`` (a task called with ``return_state=True``, or a function returning a summary).

        With ``tolerate_failure`` a failed task is recorded as ``failed`` with its reason and the run goes on
        (the harvest: the other steps still work on the papers already in the warehouse).
        """
        reason = steps.missing(name) or next(
            (why for table, why in NEEDS.get(name, {}).items() if not self.wh.has_table(table)), None)
        if reason:
            self.skip(name, reason)
            return None
        started = time.perf_counter()
        try:
            outcome = call()
        except Exception as exc:  # a Dask step's own failure (task failures arrive as states, explained)
            known = known_failure(exc, self.wh.settings, name)
            if known is None or known is exc:
                raise
            raise known from None
        status = "done"
        if hasattr(outcome, "result") and hasattr(outcome, "is_completed"):  # a Prefect State
            if tolerate_failure and outcome.is_failed():
                reason = str(outcome.result(raise_on_failure=False))
                self.logger.error("%s failed: %s", name, reason)
                self.steps[name] = {"status": "failed", "reason": reason, "summary": None,
                                    "seconds": round(time.perf_counter() - started, 2)}
                return None
            status = "cached" if outcome.name == "Cached" else "done"
            outcome = outcome.result()  # a failed task raises its (already explained) exception here
        self.steps[name] = {"status": status, "reason": None, "summary": outcome,
                            "seconds": round(time.perf_counter() - started, 2),
                            "note": "inputs unchanged since the last run" if status == "cached" else None}
        return outcome

    def result(self) -> dict[str, Any]:
        index = self.wh.settings.reports_dir / "index.html"
        report = (self.steps.get("report") or {}).get("summary") or {}
        if report.get("out_dir"):
            index = Path(report["out_dir"]) / "index.html"
        return {"flow": self.flow_name, "home": self.wh.settings.location, "steps": self.steps,
                "report_url": index.as_uri() if index.exists() else None}

    def publish(self) -> dict[str, Any]:
        out = self.result()
        artifacts.publish(self.wh, self.flow_name, out)
        return out


def _aggregate(wh: Warehouse) -> Callable[[], Any]:
    fresh = aggregate_task.with_options(refresh_cache=metrics_missing(wh))
    return lambda: fresh(wh, return_state=True)


def _report(wh: Warehouse, out_dir: str | None) -> Callable[[], Any]:
    fresh = report_task.with_options(refresh_cache=site_missing(wh, out_dir))
    return lambda: fresh(wh, out_dir, return_state=True)


def _classify(wh: Warehouse, embedder: str, workers: int, dask_address: str | None,
              batch_size: int, labels: list[str] | None = None) -> Callable[[], Any]:
    runner = task_runner(workers, dask_address)
    if runner is None:
        return lambda: classify_task(wh, embedder=embedder, labels=labels or [], return_state=True)
    return lambda: classify_on_dask(wh, runner, embedder=embedder, batch_size=batch_size, labels=labels or [])


@flow(name="daily-pipeline")
@stoppable
def daily_pipeline(home: str | None = None, harvest: bool = True, report: bool = True, embedder: str = "fast",
                   workers: int = 0, dask_address: str | None = None, wait_lock: float = 0.0,
                   harvest_options: dict[str, Any] | None = None, out_dir: str | None = None,
                   dask_batch_size: int = CLASSIFY_BATCH, labels: list[str] | None = None) -> dict:
    """Harvest new papers, classify the new ones, recompute the metrics, render the report (``labels``: the
    user's label files; a model fitted on other labels is refitted)."""
    wh = open_warehouse(home)
    run = Steps(wh, "daily-pipeline")
    with wh.lock(wait=wait_lock):
        if harvest:
            run.run("harvest", lambda: harvest_task(wh, harvest_options, return_state=True), tolerate_failure=True)
        else:
            run.skip("harvest", "turned off (--no-harvest): working on the papers already in the warehouse")
        run.run("classify", _classify(wh, embedder, workers, dask_address, dask_batch_size, labels))
        run.run("aggregate", _aggregate(wh))
        if report:
            run.run("report", _report(wh, out_dir))
        else:
            run.skip("report", "not part of this run (the weekly report deployment builds it)")
    return run.publish()


@flow(name="harvest")
@stoppable
def harvest_flow(home: str | None = None, harvest_options: dict[str, Any] | None = None,
                 wait_lock: float = 0.0) -> dict:
    """Incremental OAI-PMH harvest of new and changed papers."""
    wh = open_warehouse(home)
    run = Steps(wh, "harvest")
    with wh.lock(wait=wait_lock):
        run.run("harvest", lambda: harvest_task(wh, harvest_options, return_state=True))
    return run.publish()


@flow(name="backfill")
@stoppable
def backfill_flow(paths: list[str], home: str | None = None, workers: int = 0, dask_address: str | None = None,
                  wait_lock: float = 0.0) -> dict:
    """Bulk import of snapshot files, raw OAI-PMH pages and Atom feeds (parsing on Dask when asked)."""
    wh = open_warehouse(home)
    run = Steps(wh, "backfill")
    runner = task_runner(workers, dask_address)
    with wh.lock(wait=wait_lock):
        if runner is None:
            run.run("backfill", lambda: backfill_task(wh, paths, return_state=True))
        else:
            run.run("backfill", lambda: backfill_on_dask(wh, paths, runner))
    return run.publish()


@flow(name="classify")
@stoppable
def classify_flow(home: str | None = None, embedder: str = "fast", workers: int = 0,
                  dask_address: str | None = None, wait_lock: float = 0.0,
                  dask_batch_size: int = CLASSIFY_BATCH, labels: list[str] | None = None) -> dict:
    """Classify the papers not yet classified with the current model (on Dask when asked); ``labels``: the user's
    label files (a model fitted on other labels is refitted)."""
    wh = open_warehouse(home)
    run = Steps(wh, "classify")
    with wh.lock(wait=wait_lock):
        run.run("classify", _classify(wh, embedder, workers, dask_address, dask_batch_size, labels))
    return run.publish()


@flow(name="aggregate")
@stoppable
def aggregate_flow(home: str | None = None, wait_lock: float = 0.0) -> dict:
    """Recompute the monthly and yearly metrics tables."""
    wh = open_warehouse(home)
    run = Steps(wh, "aggregate")
    with wh.lock(wait=wait_lock):
        run.run("aggregate", _aggregate(wh))
    return run.publish()


@flow(name="report")
@stoppable
def report_flow(home: str | None = None, out_dir: str | None = None, wait_lock: float = 0.0) -> dict:
    """Render the full HTML report site (default ``<home>/reports``)."""
    wh = open_warehouse(home)
    run = Steps(wh, "report")
    with wh.lock(wait=wait_lock):
        run.run("report", _report(wh, out_dir))
    return run.publish()
