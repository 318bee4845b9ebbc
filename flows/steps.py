"""The library entry points the flows wrap, looked up by name.

Layers are built in parallel: a step whose entry point is not there yet is reported as skipped (with
the missing module or function named) instead of crashing the whole pipeline. A module that exists but
fails to import is a bug and is raised as is.
"""

from __future__ import annotations

import importlib
from typing import Callable

ENTRY_POINTS: dict[str, tuple[str, str]] = {
    "backfill": ("warehouse.backfill", "backfill_paths"),
    "harvest": ("warehouse.harvest", "harvest_oai"),
    "harvest_query": ("warehouse.harvest", "harvest_query"),
    "classify": ("analytics.classify.pipeline", "classify_warehouse"),
    "load_model": ("analytics.classify.pipeline", "load_model"),
    "predict_frame": ("analytics.classify.pipeline", "predict_frame"),
    "aggregate": ("analytics.metrics", "aggregate"),
    "report": ("reports", "build_site"),
}


class StepUnavailable(Exception):
    """The library function behind a step is not built (yet)."""


def entry_point(key: str) -> Callable:
    """The function behind step ``key``; ``StepUnavailable`` (saying what is missing) if it is absent."""
    module_name, attr = ENTRY_POINTS[key]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and module_name.startswith(exc.name):
            raise StepUnavailable(f"{module_name} is not built yet") from None
        raise
    func = getattr(module, attr, None)
    if func is None:
        raise StepUnavailable(f"{module_name}.{attr} is not built yet")
    return func


def missing(*keys: str) -> str | None:
    """Why the first unavailable step of ``keys`` cannot run, or None when all are there."""
    for key in keys:
        try:
            entry_point(key)
        except StepUnavailable as exc:
            return str(exc)
    return None
