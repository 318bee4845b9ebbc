"""What the metrics read, reduced to small count frames in one pass over the big tables.

Trend integrity: only the labels of ONE classifier version count (the version classified most recently).
A paper's topics are folded into a bit mask (one group-by over ``classifications``, duplicates harmless), so
each paper is joined to its month once and every topic table is built from the small ``topic_sets`` frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np
import polars as pl

from analytics.metrics.estimates import Calibration, Estimates, fill_fractions
from analytics.metrics.periods import month_of, month_periods
from warehouse.api import Warehouse
from warehouse.errors import ArxivTrendsError

UNKNOWN_CATEGORY = "unknown"
MAX_TOPICS = 64


@dataclass(frozen=True)
class ModelChoice:
    """The classifier version the metrics use, and how many classification rows of other versions were ignored."""

    model_version: str
    other_versions: dict[str, int]


@dataclass(frozen=True)
class Inputs:
    by_source: pl.DataFrame                 # month, source, papers: every paper
    months: pl.DataFrame                    # the month grid with its flags (``periods.month_periods``)
    model: ModelChoice | None
    topic_sets: pl.DataFrame | None         # month, category, topics (sorted list), papers: per distinct topic set
    subtopic_counts: pl.DataFrame | None    # subtopic, month, papers (outliers excluded)
    subtopic_info: pl.DataFrame | None      # subtopic, label, keywords, parent_topic
    notes: tuple[str, ...]
    estimates: Estimates | None = None      # what the error-corrected counts need (None: raw counts only)


def paper_months(wh: Warehouse) -> pl.DataFrame:
    """``id, month, day, source, category`` of every paper (category: the primary one, else ``unknown``)."""
    try:
        papers = wh.scan_papers().select(
            "id", month_of("submitted").alias("month"), pl.col("submitted").dt.day().cast(pl.Int8).alias("day"),
            pl.col("source").cast(pl.Categorical),
            pl.col("primary_category").fill_null(UNKNOWN_CATEGORY).cast(pl.Categorical).alias("category"),
        ).collect()
    except FileNotFoundError:                    # a papers table written empty has no files
        papers = pl.DataFrame()
    if papers.height == 0:
        raise ArxivTrendsError("the papers table is empty; run `arxiv-trends backfill` first")
    return papers


def current_model(classifications: pl.LazyFrame) -> ModelChoice | None:
    """The model version classified most recently (ties: the one with most rows); None for an empty table."""
    versions = (classifications.group_by("model_version")
                .agg(pl.len().alias("rows"), pl.col("classified_at").max().alias("latest"))
                .sort(["latest", "rows"], descending=True, nulls_last=True).collect())
    if versions.height == 0:
        return None
    chosen = versions["model_version"][0]
    others = {v: n for v, n in versions.select("model_version", "rows").iter_rows() if v != chosen}
    return ModelChoice(chosen, others)


def topic_sets(classifications: pl.LazyFrame, papers: pl.DataFrame, model_version: str) -> pl.DataFrame:
    """Papers per (month, primary category, set of topics) for the labels of ``model_version``."""
    rows = classifications.filter(pl.col("model_version") == model_version).select("id", "topic").collect()
    topics = sorted(rows["topic"].unique().to_list())
    if len(topics) > MAX_TOPICS:
        raise ArxivTrendsError(f"{len(topics)} topics in classifications; the metrics support at most {MAX_TOPICS}")
    bits = {topic: 1 << i for i, topic in enumerate(topics)}
    masks = rows.group_by("id").agg(
        pl.col("topic").replace_strict(bits, return_dtype=pl.UInt64).bitwise_or().alias("mask"))
    sets = (masks.join(papers.select("id", "month", "category"), on="id", how="inner")
            .group_by("month", "category", "mask").agg(pl.len().cast(pl.Int64).alias("papers")))
    decode = {m: [t for i, t in enumerate(topics) if m >> i & 1] for m in sets["mask"].unique().to_list()}
    return sets.select(
        "month", pl.col("category").cast(pl.String),
        pl.col("mask").replace_strict(decode, return_dtype=pl.List(pl.String)).alias("topics"), "papers")


def subtopic_counts(wh: Warehouse, papers: pl.DataFrame, model_version: str) -> pl.DataFrame:
    """Papers per (subtopic, month) of ``model_version`` (the outlier subtopic -1 excluded)."""
    return (wh.scan("paper_subtopics")
            .filter((pl.col("model_version") == model_version) & (pl.col("subtopic") >= 0))
            .select("id", "subtopic").unique("id").collect()
            .join(papers.select("id", "month"), on="id", how="inner")
            .group_by("subtopic", "month").agg(pl.len().cast(pl.Int64).alias("papers")))


def subtopic_info(wh: Warehouse, model_version: str) -> pl.DataFrame:
    return (wh.scan("subtopics").filter(pl.col("model_version") == model_version)
            .select("subtopic", "label", "keywords", "parent_topic").unique("subtopic").collect())


def topic_mass(wh: Warehouse, papers: pl.DataFrame, model_version: str) -> pl.DataFrame | None:
    """Per (topic, month): the summed probabilities (``mass``) and squared probabilities (``squares``) of
    ``topic_scores``."""
    if not wh.has_table("topic_scores"):
        return None
    scores = wh.scan("topic_scores").filter(pl.col("model_version") == model_version).drop("model_version")
    topics = [c for c in scores.collect_schema().names() if c != "id"]
    # summed in numpy in a fixed order: polars' parallel float sums may differ in the last bits from run to run,
    # and the intervals (percentiles of draws) must be the same every time the same tables are aggregated
    joined = (scores.join(papers.lazy().select("id", "month"), on="id", how="inner").sort("month", "id")
              .collect())
    if joined.height == 0:
        return None
    values = joined.select(topics).to_numpy().astype(np.float64)
    months = joined["month"]
    starts = np.flatnonzero(np.r_[True, months.to_numpy()[1:] != months.to_numpy()[:-1]])
    mass, squares = np.add.reduceat(values, starts, axis=0), np.add.reduceat(values ** 2, starts, axis=0)
    keys = months.gather(starts)
    return pl.DataFrame({"topic": np.repeat(np.array(topics, dtype=object), len(starts)).tolist(),
                         "month": pl.concat([keys] * len(topics)),
                         "mass": mass.T.ravel(), "squares": squares.T.ravel()})


def load_estimates(wh: Warehouse, papers: pl.DataFrame, model_version: str, months: pl.DataFrame,
                   notes: list[str]) -> Estimates | None:
    """The inputs of the error-corrected counts, or None (with a note saying why)."""
    from analytics.classify.quality import LabelledOutcome

    outcome = LabelledOutcome.load(wh.settings.models_dir / model_version)
    if outcome is None:
        notes.append(f"model {model_version} has no cross-validated results on labelled papers: "
                     "no error-corrected estimates (refit with `arxiv-trends classify --refit`)")
        return None
    mass = topic_mass(wh, papers, model_version)
    if mass is None:
        notes.append(f"no topic_scores of model {model_version}: no error-corrected estimates (run `arxiv-trends "
                     "classify --all`)")
        return None
    open_month = months.filter(pl.col("partial"))["month"].min()
    through = papers.filter(pl.col("month") == open_month).select(pl.col("day").max()).item() if open_month else None
    fill = None
    if through is not None:
        days = papers.group_by("month", "day").agg(pl.len().alias("papers"))
        fill = fill_fractions(days, months, open_month.replace(day=int(through)))
    return Estimates(mass, Calibration.from_outcome(outcome), fill, open_month)


def load_inputs(wh: Warehouse, now: datetime) -> Inputs:
    """Read papers and, where they exist, the classification tables of the current model version; ``now`` decides
    which month is partial."""
    papers = paper_months(wh)
    by_source = (papers.group_by("month", "source").agg(pl.len().cast(pl.Int64).alias("papers"))
                 .with_columns(pl.col("source").cast(pl.String)))
    months = month_periods(by_source, now)
    if not wh.has_table("classifications"):
        return Inputs(by_source, months, None, None, None, None,
                      ("no classifications table: topic tables skipped (run `arxiv-trends classify`)",))
    model = current_model(wh.scan("classifications"))
    if model is None:
        return Inputs(by_source, months, None, None, None, None, ("classifications is empty: topic tables skipped",))
    version = model.model_version
    notes = []
    if model.other_versions:
        ignored = ", ".join(f"{v} ({n} rows)" for v, n in model.other_versions.items())
        notes.append(f"using model {version}; ignored rows of other versions: {ignored}")
    sets = topic_sets(wh.scan("classifications"), papers, version)
    counts = info = None
    if wh.has_table("paper_subtopics") and wh.has_table("subtopics"):
        counts, info = subtopic_counts(wh, papers, version), subtopic_info(wh, version)
        if counts.height == 0:
            notes.append(f"no subtopic assignments of model {version}: subtopic tables skipped")
            counts = info = None
    else:
        notes.append("no paper_subtopics/subtopics tables: subtopic tables skipped")
    estimates = load_estimates(wh, papers, version, months, notes)
    return Inputs(by_source, months, model, sets, counts, info, tuple(notes), estimates)
