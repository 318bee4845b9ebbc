"""Everything the site shows, read once from the warehouse into polars frames.

Only ``metrics/topic_monthly`` is required; every other table is optional so a site can be built while
the pipeline is still growing (a page then says what is missing instead of failing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from reports import estimates, series
from reports.evidence import paper_evidence
from warehouse.api import Warehouse
from warehouse.errors import ArxivTrendsError
from warehouse.state import last_runs

REPRESENTATIVE_PER_TOPIC = 10
RECENT_DAYS = 365
DIGEST_DAYS = 7   # "What's new": the papers submitted in the last week of the data

OPTIONAL_TABLES = {
    "yearly": "metrics/topic_yearly",
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
    data_through: date | None = None           # the newest submission day in the warehouse
    latest: pl.DataFrame | None = None         # "What's new": papers of the last DIGEST_DAYS, with their topics
    evidence: dict[tuple[str, str], Any] = field(default_factory=dict)   # (id, topic) -> evidence.Evidence

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
    def intervals(self) -> bool:
        """Whether the metrics carry error-corrected estimates with intervals, monthly and yearly (else plain
        counts are shown everywhere, never half of each)."""
        return estimates.has_estimates(self.topic_monthly) and estimates.has_estimates(self.table("yearly"))

    @cached_property
    def charted(self) -> pl.DataFrame:
        """The monthly metrics from ``focus`` on, with the usable-month rolling mean and the estimate columns."""
        monthly = self.topic_monthly.filter(pl.col("topic").is_in(self.topics))
        full = series.with_usable_rolling(estimates.months_view(monthly, self.intervals))
        return full.filter(pl.col("month") >= self.focus)

    @cached_property
    def years(self) -> pl.DataFrame:
        """Topic × year estimates and growth (``estimates.YEAR_COLUMNS``), from the year of ``focus`` on."""
        yearly = self.table("yearly")
        yearly = yearly.filter(pl.col("topic").is_in(self.topics)) if yearly is not None else None
        monthly = self.topic_monthly.filter(pl.col("topic").is_in(self.topics))
        years = estimates.years_from_estimates(yearly) if self.intervals else estimates.years_like_for_like(monthly)
        return years.filter(pl.col("year") >= self.focus.year)

    @cached_property
    def growth_year(self) -> int | None:
        """The year headlines and growth charts talk about (``estimates.latest_growth_year``)."""
        return estimates.latest_growth_year(self.years, tested=self.intervals)

    @cached_property
    def growth_label(self) -> str:
        """How text names ``growth_year``: "2026 so far" while that year is still open."""
        year = self.growth_year
        if year is None:
            return ""
        open_year = self.years.filter((pl.col("year") == year) & (pl.col("partial") | pl.col("nowcast"))).height
        return f"{year} so far" if open_year else str(year)

    @property
    def evaluation(self) -> dict[str, Any]:
        value = (self.model or {}).get("evaluation")
        return value if isinstance(value, dict) else {}

    def topic_quality(self, topic: str) -> dict[str, Any]:
        """The topic's dev-gold scores (precision, recall, f1, support) and ``count_bias`` where recorded."""
        per_topic = self.evaluation.get("per_topic")
        scores = dict(per_topic.get(topic) or {}) if isinstance(per_topic, dict) else {}
        bias = self.evaluation.get("count_bias")
        if isinstance(bias, dict) and isinstance(bias.get(topic), (int, float)):
            scores["count_bias"] = float(bias[topic])
        return {k: v for k, v in scores.items() if isinstance(v, (int, float)) and not isinstance(v, bool)}


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


PAPER_COLUMNS = (("id", pl.String), ("title", pl.String), ("authors", pl.List(pl.String)), ("abstract", pl.String),
                 ("categories", pl.List(pl.String)), ("submitted", pl.Datetime("us", "UTC")))
CLASSIFICATION_COLUMNS = (("id", pl.String), ("topic", pl.String), ("score", pl.Float64), ("method", pl.String),
                          ("model_version", pl.String))


def _scan_columns(frame: pl.LazyFrame, columns: tuple[tuple[str, pl.DataType], ...]) -> pl.LazyFrame:
    present = frame.collect_schema().names()
    return frame.select(pl.col(c) if c in present else pl.lit(None, dtype=dtype).alias(c) for c, dtype in columns)


@dataclass(frozen=True)
class _Papers:
    """The papers the pages list: representative ones per topic, the last week's, and their evidence."""

    representative: pl.DataFrame | None = None
    latest: pl.DataFrame | None = None
    data_through: date | None = None
    evidence: dict = field(default_factory=dict)


def _papers(wh: Warehouse) -> _Papers:
    """Representative papers (recent first, then by score, ties by id), the papers of the last ``DIGEST_DAYS``
    with their topics, the newest submission day, and the evidence for each representative paper."""
    if not wh.has_table("papers"):
        return _Papers()
    papers = _scan_columns(wh.scan_papers(), PAPER_COLUMNS)
    newest = papers.select(pl.col("submitted").max()).collect().item()
    if newest is None:
        return _Papers()
    if not wh.has_table("classifications"):
        return _Papers(data_through=newest.date())
    classes = _scan_columns(wh.scan("classifications"), CLASSIFICATION_COLUMNS)
    cutoff = newest - pl.duration(days=RECENT_DAYS)
    chosen = (classes.select("id", "topic", "score").join(papers.select("id", "submitted"), on="id", how="inner")
              .with_columns(recent=pl.col("submitted") >= cutoff)
              .sort(["topic", "recent", "score", "submitted", "id"], descending=[False, True, True, True, False])
              .group_by("topic", maintain_order=True).head(REPRESENTATIVE_PER_TOPIC)
              .select("id", "topic", "score")).collect()   # the texts are read for these few papers only
    representative = chosen.join(papers.filter(pl.col("id").is_in(chosen["id"].unique().implode())).collect(),
                                 on="id", how="left", maintain_order="left")
    since = datetime.combine(newest.date() - timedelta(days=DIGEST_DAYS - 1), datetime.min.time(), newest.tzinfo)
    latest = (papers.filter(pl.col("submitted") >= since)
              .join(classes.select("id", "topic", "score"), on="id", how="left")
              .sort(["submitted", "id", "score"], descending=[True, False, True], nulls_last=True)).collect()
    ids = representative["id"].unique()
    rows = classes.filter(pl.col("id").is_in(ids.implode())).collect()
    return _Papers(representative, latest, newest.date(), paper_evidence(wh.settings, representative, rows))


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
    listed = _papers(wh)
    return ReportInputs(
        topic_monthly=monthly,
        topics=topics,
        topic_names={t: names.get(t) or _humanize(t) for t in topics},
        tables=tables,
        representative=listed.representative,
        papers_tracked=_count(wh, "papers", unique_ids=False),
        classified_papers=_count(wh, "classifications", unique_ids=True),
        runs=last_runs(wh.settings),
        model=_model(wh.settings.models_dir),
        missing=missing,
        data_through=listed.data_through,
        latest=listed.latest,
        evidence=listed.evidence,
    )
