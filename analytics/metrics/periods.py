"""Honest periods: the calendar-month grid, its corpus totals and the flags that keep growth figures honest.

A month is ``partial`` when it is the month of ``now`` or later (still being harvested).
A month is ``low_coverage`` (a harvesting gap or a thin stretch) when it has no papers at all, or fewer than
``COVERAGE_RATIO`` of its reference level. The *level* of a month is the median of its total and its two
neighbours' (so a one-month spike or dip never sets the level); the *reference* is the highest level in the
``COVERAGE_WINDOW`` months before it, or the highest level in the ``COVERAGE_WINDOW`` months after it divided by
``GROWTH_ALLOWANCE`` (past its first years arXiv's monthly volume never doubled within two years, so a month
that far below what follows is missing papers). Partial months neither get flagged nor count as anyone's neighbour.
"""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

COVERAGE_RATIO = 0.5
COVERAGE_WINDOW = 24
GROWTH_ALLOWANCE = 2.0


def month_of(column: str = "submitted") -> pl.Expr:
    """The calendar month (UTC) of a timestamp, as the date of its first day."""
    return pl.col(column).dt.date().dt.truncate("1mo")


def month_grid(first: date, last: date) -> pl.Series:
    """Every month from January of ``first``'s year through ``last``."""
    return pl.date_range(date(first.year, 1, 1), last, interval="1mo", eager=True).alias("month")


def level(totals: pl.Expr) -> pl.Expr:
    """Median of a month's total and its two neighbours' (nulls ignored)."""
    return totals.rolling_median(3, center=True, min_samples=1)


def reference_papers(levels: pl.Expr) -> pl.Expr:
    """max(highest level in the window before, highest level in the window after / GROWTH_ALLOWANCE)."""
    before = levels.shift(1).rolling_max(COVERAGE_WINDOW, min_samples=1)
    after = levels.reverse().shift(1).rolling_max(COVERAGE_WINDOW, min_samples=1).reverse() / GROWTH_ALLOWANCE
    return pl.max_horizontal(before, after)


def low_coverage() -> pl.Expr:
    """A complete month with no papers, or fewer than COVERAGE_RATIO x reference_papers."""
    return ~pl.col("partial") & (
        (pl.col("total_papers") == 0)
        | (pl.col("total_papers") < COVERAGE_RATIO * pl.col("reference_papers")).fill_null(False)
    )


def month_periods(by_source: pl.DataFrame, now: datetime) -> pl.DataFrame:
    """One row per month of the grid: ``month, total_papers, reference_papers, partial, low_coverage``.

    ``by_source`` holds ``month, source, papers``. The grid runs from January of the first paper's year to the
    later of the last paper's month and ``now``'s.
    """
    current = now.date().replace(day=1)
    totals = by_source.group_by("month").agg(pl.col("papers").sum().alias("total_papers"))
    first, last = totals["month"].min(), max(totals["month"].max(), current)
    complete_total = pl.when(~pl.col("partial")).then(pl.col("total_papers").cast(pl.Float64))
    return (
        month_grid(first, last).to_frame()
        .join(totals, on="month", how="left")
        .with_columns(pl.col("total_papers").fill_null(0), (pl.col("month") >= current).alias("partial"))
        .with_columns(reference_papers(level(complete_total)).alias("reference_papers"))
        .with_columns(low_coverage().alias("low_coverage"))
        .select("month", "total_papers", "reference_papers", "partial", "low_coverage")
    )


def year_periods(months: pl.DataFrame) -> pl.DataFrame:
    """Months rolled up to years: a year is partial / low_coverage when any of its months is."""
    return (
        months.group_by(pl.col("month").dt.year().cast(pl.Int32).alias("year"))
        .agg(
            pl.col("total_papers").sum(),
            pl.col("partial").any(),
            pl.col("low_coverage").any(),
            pl.col("low_coverage").sum().cast(pl.Int32).alias("low_coverage_months"),
        )
        .sort("year")
    )


def coverage_monthly(by_source: pl.DataFrame, months: pl.DataFrame) -> pl.DataFrame:
    """Papers per month and source on the full grid (0 where a source has none), with the month's flags."""
    sources = by_source.select("source").unique().sort("source")
    return (
        months.join(sources, how="cross")
        .join(by_source, on=["month", "source"], how="left")
        .with_columns(pl.col("papers").fill_null(0))
        .select("month", "source", "papers", "total_papers", "reference_papers", "partial", "low_coverage")
        .sort("month", "source")
    )
