"""Embed and classify batches of papers in worker processes, one per core: the per-paper work of a whole-corpus
``classify`` is pure Python and numpy under the GIL, so threads would not help and processes do.

The parent reads the papers and the cached vectors and writes every table; a worker gets the model once (pickled,
about 60 MB) and then batches of papers with the vectors the cache had, embeds the missing ones and returns the
batch's rows with those new vectors (which the parent caches). Each batch is classified by the same
``predict_frame`` as in one process, so the rows are the same. Workers are spawned, not forked: polars' thread pool
does not survive a fork.
"""

from __future__ import annotations

import os
import pickle
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime
from multiprocessing import get_context

import numpy as np
import polars as pl

from warehouse.errors import ArxivTrendsError

WORKERS_ENV = "ARXIV_TRENDS_CLASSIFY_WORKERS"
MIN_PAPERS = 400_000  # below this, in-process is as fast: starting workers costs seconds, and reading overlaps
# their work only from the second batch of papers on (measured: 160k cached papers took 23 s in-process, 26 s on 2)

_model = None  # the model of this worker process


def worker_count(papers: int) -> int:
    """How many worker processes to classify ``papers`` with: 0 (in-process) for a small job or one core, else one
    per core (at most 8), or ``ARXIV_TRENDS_CLASSIFY_WORKERS`` (0 or 1: in-process)."""
    given = os.environ.get(WORKERS_ENV, "").strip()
    if given:
        if not given.isdigit():
            raise ArxivTrendsError(f"{WORKERS_ENV}={given!r} is not a whole number of worker processes")
        wanted = int(given)
    else:
        wanted = 0 if papers < MIN_PAPERS else min(len(os.sched_getaffinity(0)), 8)
    return wanted if wanted >= 2 else 0


def _start(blob: bytes) -> None:
    global _model
    _model = pickle.loads(blob)


def _classify(papers: pl.DataFrame, texts: list[str], vectors: np.ndarray, missing: np.ndarray, now: datetime):
    """In a worker: embed the ``missing`` rows, classify the batch; the rows and the new vectors."""
    from analytics.classify.pipeline import predict_frame

    if missing.any():
        vectors[missing] = _model.embedder().encode([texts[i] for i in np.flatnonzero(missing)])
    return predict_frame(_model, papers, vectors, now, texts), vectors[missing]


class WorkerPool:
    """``submit(papers, texts, vectors, found, now)`` -> a future of ``(ClassifiedBatch, new vectors)``; a context
    manager."""

    def __init__(self, model, workers: int) -> None:
        self._pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"), initializer=_start,
                                         initargs=(pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL),))

    def submit(self, papers: pl.DataFrame, texts: list[str], vectors: np.ndarray, found: np.ndarray,
               now: datetime) -> Future:
        return self._pool.submit(_classify, papers, texts, vectors, ~found, now)

    @staticmethod
    def result(future: Future):
        try:
            return future.result()
        except BrokenProcessPool as exc:
            raise ArxivTrendsError(f"a classify worker process died ({exc}); out of memory? Set {WORKERS_ENV}=1 "
                                   "to classify in one process") from None

    def __enter__(self) -> "WorkerPool":
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=exc[0] is None, cancel_futures=True)
