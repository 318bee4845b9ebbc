"""Everything the site shows, read once from the warehouse into polars frames.

Only ``metrics/topic_monthly`` is required; every other table is optional so a site can be built while
the pipeline is still growing (a page then says what is missing instead of failing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from reports import series
from warehouse.api import Warehouse
from warehouse.errors import ArxivTrendsError
from warehouse.state import last_runs

REPRESENTATIVE_PER_TOPIC = 10
RECENT_DAYS = 365

OPTIONAL_TABLES = {
    "subtopic_monthly": "metrics/subtopic_monthly",
    "emerging": "metrics/emerging_subtopics",
    "cooccurrence": "metrics/topic_cooccurrence",
    "categories": "metrics/topic_categories",
    "coverage": "metrics/coverage_monthly",
    "subtopics": "subtopics",
    "subtopic_periods": "subtopic_periods",
}


class ReportError(ArxivTrendsError):
    """The site cannot be built from what the warehouse holds (or the output folder is unusable)."""


@dataclass
class ReportInputs:
    """The tables and facts one site is rendered from (frames sorted, so output is reproducible)."""

    topic_monthly: pl.DataFrame
    topics: list[str]
    topic_names: dict[str, str]
    tables: dict[str, pl.DataFrame]
    representative: pl.DataFrame | None
    papers_tracked: int | None
    classified_papers: int | None
    runs: dict[str, dict[str, Any]]
    model: dict[str, Any] | None
    missing: list[str] = field(default_factory=list)

    def table(self, key: str) -> pl.DataFrame | None:
        """An optional table by its short key (see ``OPTIONAL_TABLES``), or ``None`` when it is absent."""
        return self.tables.get(key)

    def name(self, topic: str) -> str:
        return self.topic_names.get(topic, topic)

    @cached_property
    def focus(self) -> date:
        """Where the time-series charts start (see ``series.focus_start``)."""
        return series.focus_start(self.topic_monthly)

    @cached_property
    def charted(self) -> pl.DataFrame:
        """The monthly metrics from ``focus`` on, with the usable-month rolling mean."""
        full = series.with_usable_rolling(self.topic_monthly.filter(pl.col("topic").is_in(self.topics)))
        return full.filter(pl.col("month") >= self.focus)

    @cached_property
    def years(self) -> pl.DataFrame:
        """Topic × year counts with like-for-like growth, from the year of ``focus`` on."""
        years = series.yearly_growth(self.topic_monthly.filter(pl.col("topic").is_in(self.topics)))
        return years.filter(pl.col("year") >= self.focus.year)


def _taxonomy_order() -> tuple[list[str], dict[str, str]]:
    """Topic ids in taxonomy order with display names (the built-in taxonomy of ``analytics``)."""
    from analytics.taxonomy import load_taxonomy

    topics = load_taxonomy().topics
    return [t.id for t in topics], {t.id: t.name for t in topics}


def _humanize(topic: str) -> str:
    return topic.replace("_", " ").strip().capitalize() or topic


def _read_optional(wh: Warehouse, name: str) -> pl.DataFrame | None:
    if not wh.has_table(name):
        return None
    try:
        return wh.scan(name).collect()
    except FileNotFoundError:  # an empty table folder reads as absent
        return None


def _representative(wh: Warehouse) -> pl.DataFrame | None:
    """The best-scored recent papers of every topic: recent first, then by score (ties by id)."""
    if not (wh.has_table("classifications") and wh.has_table("papers")):
        return None
    present = wh.scan_papers().collect_schema().names()
    papers = wh.scan_papers().select(
        pl.col(c) if c in present else pl.lit(None, dtype=dtype).alias(c)
        for c, dtype in (("id", pl.String), ("title", pl.String), ("authors", pl.List(pl.String)),
                         ("abstract", pl.String), ("submitted", pl.Datetime("us", "UTC"))))
    latest = papers.select(pl.col("submitted").max()).collect().item()
    if latest is None:
        return None
    cutoff = latest - pl.duration(days=RECENT_DAYS)
    ranked = (wh.scan("classifications").select("id", "topic", "score")
              .join(papers, on="id", how="inner")
              .with_columns(recent=pl.col("submitted") >= cutoff)
              .sort(["topic", "recent", "score", "submitted", "id"], descending=[False, True, True, True, False])
              .group_by("topic", maintain_order=True).head(REPRESENTATIVE_PER_TOPIC))
    return ranked.collect()


def _count(wh: Warehouse, name: str, unique_ids: bool) -> int | None:
    if not wh.has_table(name):
        return None
    col = pl.col("id").n_unique() if unique_ids else pl.len()
    return int(wh.scan(name).select(col).collect().item())


def _model(settings_models: Path) -> dict[str, Any] | None:
    path = settings_models / "current.json"
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ReportError(f"{path} is not valid JSON ({exc}); re-run `arxiv-trends classify`") from None


def load_inputs(wh: Warehouse) -> ReportInputs:
    """Read the metrics, the optional tables, run bookkeeping and the current model's evaluation."""
    if not wh.has_table("metrics/topic_monthly"):
        raise ReportError(f"no metrics under {wh.settings.warehouse_location}: run `arxiv-trends aggregate` first")
    monthly = (wh.scan("metrics/topic_monthly").collect()
               .with_columns(pl.col("month").cast(pl.Date)).sort("topic", "month"))
    if monthly.is_empty():
        raise ReportError("metrics/topic_monthly is empty (no classified papers): run `arxiv-trends classify`, "
                          "then `arxiv-trends aggregate`")
    tables: dict[str, pl.DataFrame] = {}
    missing: list[str] = []
    for key, name in OPTIONAL_TABLES.items():
        frame = _read_optional(wh, name)
        if frame is None:
            missing.append(name)
        else:
            tables[key] = frame
    ordered, names = _taxonomy_order()
    present = sorted(monthly["topic"].unique().to_list())
    topics = [t for t in ordered if t in present] + [t for t in present if t not in ordered]
    return ReportInputs(
        topic_monthly=monthly,
        topics=topics,
        topic_names={t: names.get(t) or _humanize(t) for t in topics},
        tables=tables,
        representative=_representative(wh),
        papers_tracked=_count(wh, "papers", unique_ids=False),
        classified_papers=_count(wh, "classifications", unique_ids=True),
        runs=last_runs(wh.settings),
        model=_model(wh.settings.models_dir),
        missing=missing,
    )
