"""``aggregate(wh)``: recompute every ``metrics/<name>`` table from papers and the classification tables."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

import polars as pl

from analytics.metrics import tables
from analytics.metrics.emerging import emerging_subtopics
from analytics.metrics.estimates import monthly_columns, yearly_columns
from analytics.metrics.inputs import load_inputs
from analytics.metrics.periods import coverage_monthly
from warehouse.api import Warehouse
from warehouse.errors import ArxivTrendsError
from warehouse.state import record_run


@dataclass
class AggregateSummary:
    """What one aggregate run wrote (``as_dict()`` for ``--json`` and ``state/runs.json``)."""

    tables: dict[str, int]                      # table name -> rows written
    months: int
    first_month: str
    last_month: str
    partial_months: list[str]
    low_coverage_months: list[str]
    include_partial: bool
    model_version: str | None
    ignored_version_rows: int
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _iso(months: pl.DataFrame, flag: str) -> list[str]:
    return [m.isoformat()[:7] for m in months.filter(pl.col(flag))["month"]]


def aggregate(wh: Warehouse, *, include_partial: bool = False, now: datetime | None = None) -> AggregateSummary:
    """Recompute the metrics tables (all computed first, then each replaced atomically) under the writer lock.

    ``now`` (default: the current UTC time) decides which month is partial; partial months are excluded from
    growth figures unless ``include_partial``. Topic tables need ``classifications``, subtopic tables
    ``paper_subtopics`` and ``subtopics``; missing ones are skipped with a note, never a crash.
    """
    started = time.perf_counter()
    now = now or datetime.now(timezone.utc)
    if not wh.has_table("papers"):
        raise ArxivTrendsError(f"no papers under {wh.settings.warehouse_location}; run `arxiv-trends backfill` first")
    with wh.lock(wait=0):
        inputs = load_inputs(wh, now)
        notes = list(inputs.notes)
        months = inputs.months
        out = {"metrics/coverage_monthly": coverage_monthly(inputs.by_source, months)}
        if inputs.topic_sets is not None:
            monthly = tables.topic_monthly(inputs.topic_sets, months, include_partial)
            yearly = tables.topic_yearly(inputs.topic_sets, months, include_partial)
            if inputs.estimates is not None:
                monthly, draws = monthly_columns(monthly, inputs.estimates, include_partial)
                yearly = yearly_columns(yearly, draws)
            out["metrics/topic_monthly"], out["metrics/topic_yearly"] = monthly, yearly
            out["metrics/topic_cooccurrence"] = tables.topic_cooccurrence(inputs.topic_sets)
            out["metrics/topic_categories"] = tables.topic_categories(inputs.topic_sets)
        if inputs.subtopic_counts is not None:
            monthly = tables.subtopic_monthly(inputs.subtopic_counts, inputs.subtopic_info, months, include_partial)
            out["metrics/subtopic_monthly"] = monthly
            out["metrics/emerging_subtopics"] = emerging_subtopics(monthly, inputs.subtopic_info, months,
                                                                   include_partial)
            if out["metrics/emerging_subtopics"].height == 0:
                notes.append("no emerging subtopics: too few usable months or none growing with enough volume")
        for name, frame in out.items():
            wh.write_table(name, frame)
        summary = AggregateSummary(
            tables={name: frame.height for name, frame in out.items()},
            months=months.height,
            first_month=months["month"].min().isoformat()[:7],
            last_month=months["month"].max().isoformat()[:7],
            partial_months=_iso(months, "partial"),
            low_coverage_months=_iso(months, "low_coverage"),
            include_partial=include_partial,
            model_version=inputs.model.model_version if inputs.model else None,
            ignored_version_rows=sum(inputs.model.other_versions.values()) if inputs.model else 0,
            notes=notes,
            seconds=round(time.perf_counter() - started, 3),
        )
        record_run(wh.settings, "aggregate", **summary.as_dict())
    return summary
