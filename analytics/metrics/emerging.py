"""Emerging subtopics: the subtopics whose share of the corpus grew most recently, with enough volume.

Rule. Take the ``2 * WINDOW_MONTHS`` most recent *usable* months (not low_coverage, not partial unless partial
months are included); the latest ``WINDOW_MONTHS`` are the recent window, the ones before the previous window.
A flagged month is skipped, never counted (the windows and how many months they skip are stored).
For each subtopic (outliers excluded): ``growth = rate_recent / rate_previous - 1`` where
``rate = (papers + 1) / total_papers`` over the window (the +1 keeps a subtopic new in the recent window finite
and ranked high). Eligible: at least ``MIN_RECENT_PAPERS`` papers in the recent window and growth > 0.
Rank 1 = highest growth (ties: more recent papers).
"""

from __future__ import annotations

import polars as pl

from analytics.metrics.series import usable

WINDOW_MONTHS = 6
MIN_RECENT_PAPERS = 20

SCHEMA = {
    "rank": pl.Int32, "subtopic": pl.Int64, "label": pl.String, "parent_topic": pl.String,
    "recent_papers": pl.Int64, "previous_papers": pl.Int64, "growth": pl.Float64, "keywords": pl.List(pl.String),
    "recent_from": pl.Date, "recent_to": pl.Date, "previous_from": pl.Date, "previous_to": pl.Date,
    "skipped_months": pl.Int32,
}


def _window_sums(window: pl.Series, name: str) -> list[pl.Expr]:
    inside = pl.col("month").is_in(window.implode())
    return [pl.col("papers").filter(inside).sum().alias(f"{name}_papers"),
            pl.col("total_papers").filter(inside).sum().alias(f"{name}_total")]


def _rate(name: str) -> pl.Expr:
    return (pl.col(f"{name}_papers") + 1) / pl.col(f"{name}_total")


def emerging_subtopics(subtopic_monthly: pl.DataFrame, info: pl.DataFrame, months: pl.DataFrame,
                       include_partial: bool) -> pl.DataFrame:
    """The ranking described in the module docstring (empty when fewer than 2 x WINDOW_MONTHS months are usable)."""
    chosen = months.filter(usable(include_partial))["month"].tail(2 * WINDOW_MONTHS)
    if chosen.len() < 2 * WINDOW_MONTHS:
        return pl.DataFrame(schema=SCHEMA)
    previous, recent = chosen.head(WINDOW_MONTHS), chosen.tail(WINDOW_MONTHS)
    skipped = months.filter(pl.col("month").is_between(chosen.min(), chosen.max())).height - chosen.len()
    ranked = (
        subtopic_monthly.group_by("subtopic").agg(*_window_sums(recent, "recent"), *_window_sums(previous, "previous"))
        .with_columns((_rate("recent") / _rate("previous") - 1.0).alias("growth"))
        .filter((pl.col("recent_papers") >= MIN_RECENT_PAPERS) & (pl.col("growth") > 0))
        .sort(["growth", "recent_papers"], descending=True)
        .with_row_index("rank", offset=1)
        .join(info.select("subtopic", "label", "parent_topic", "keywords"), on="subtopic", how="left")
        .with_columns(recent_from=recent.min(), recent_to=recent.max(), previous_from=previous.min(),
                      previous_to=previous.max(), skipped_months=pl.lit(skipped))
    )
    return ranked.select([pl.col(name).cast(dtype) for name, dtype in SCHEMA.items()])
