"""Views of ``metrics/topic_monthly`` that keep the charts readable on a patchy corpus, without inventing data.

The metrics null a rolling mean or a growth figure as soon as one month in its window is flagged; on a corpus
with gaps that empties most of a chart. These views use the *usable* months only (neither low coverage nor
partial) and say how many they used: a rolling mean over the usable months of the trailing year, and growth
compared on the months usable in both years (like for like). Where every month is usable they equal the
metrics' own ``rolling_12m`` and yearly ``yoy_growth``.
"""

from __future__ import annotations

from datetime import date

import polars as pl

FOCUS_MIN_PAPERS = 100   # a month with fewer papers in the whole corpus gives shares too noisy to chart
FOCUS_RUN = 6            # charts start at the first run of this many such months in a row
ROLLING_MONTHS, ROLLING_MIN_USABLE = 12, 6
MIN_MATCHED_MONTHS = 3   # growth of a year needs at least this many months usable in it and the year before


def _usable() -> pl.Expr:
    return ~pl.col("partial").fill_null(False) & ~pl.col("low_coverage").fill_null(False)


def focus_start(monthly: pl.DataFrame) -> date | None:
    """First month of the first ``FOCUS_RUN`` consecutive months with ``FOCUS_MIN_PAPERS``+ papers in all."""
    totals = (monthly.group_by("month").agg(pl.col("total_papers").max()).sort("month")
              .with_columns((pl.col("total_papers") >= FOCUS_MIN_PAPERS).alias("ok")))
    run = 0
    for i, ok in enumerate(totals["ok"].to_list()):
        run = run + 1 if ok else 0
        if run == FOCUS_RUN:
            return totals["month"][i - FOCUS_RUN + 1]
    return totals["month"].min()


def with_usable_rolling(monthly: pl.DataFrame) -> pl.DataFrame:
    """Adds ``usable``, ``rolling_12m_usable`` (mean of the usable months among the last 12, when at least 6
    are) and ``usable_in_window``; ``monthly`` must hold every month of each topic (the metrics' dense grid)."""
    frame = monthly.sort("topic", "month").with_columns(_usable().alias("usable"))
    counted = pl.when(pl.col("usable")).then(pl.col("papers")).otherwise(0)
    n = pl.col("usable").cast(pl.Int32).rolling_sum(ROLLING_MONTHS, min_samples=1).over("topic")
    total = counted.rolling_sum(ROLLING_MONTHS, min_samples=1).over("topic")
    return frame.with_columns(n.alias("usable_in_window"), total.alias("_sum")).with_columns(
        pl.when(pl.col("usable_in_window") >= ROLLING_MIN_USABLE)
        .then(pl.col("_sum") / pl.col("usable_in_window")).alias("rolling_12m_usable")).drop("_sum")


def yearly_growth(monthly: pl.DataFrame) -> pl.DataFrame:
    """Topic × year: papers, total papers, share, flags, and ``growth`` compared like for like:
    papers in the months usable in both years over the same months a year before, minus one
    (``matched_months`` says how many; null below ``MIN_MATCHED_MONTHS`` or on a zero base)."""
    months = monthly.with_columns(pl.col("month").cast(pl.Date), _usable().alias("usable"))
    before = months.select("topic", pl.col("month").dt.offset_by("12mo"), pl.col("papers").alias("base"),
                           pl.col("usable").alias("base_usable"))
    matched = pl.col("usable") & pl.col("base_usable").fill_null(False)
    years = (months.join(before, on=["topic", "month"], how="left")
             .group_by("topic", pl.col("month").dt.year().cast(pl.Int32).alias("year"))
             .agg(pl.col("papers").sum(), pl.col("total_papers").sum(),
                  pl.col("partial").fill_null(False).any(), pl.col("low_coverage").fill_null(False).any(),
                  matched.sum().cast(pl.Int32).alias("matched_months"),
                  pl.col("papers").filter(matched).sum().alias("_now"),
                  pl.col("base").filter(matched).sum().alias("_before")))
    return (years.with_columns(
        share=pl.when(pl.col("total_papers") > 0).then(pl.col("papers") / pl.col("total_papers")),
        growth=pl.when((pl.col("matched_months") >= MIN_MATCHED_MONTHS) & (pl.col("_before") > 0))
        .then(pl.col("_now") / pl.col("_before") - 1))
        .drop("_now", "_before").sort("topic", "year"))


def latest_year_with_growth(years: pl.DataFrame) -> int | None:
    """The last year with a growth figure (a partial year counts: only its usable months are compared),
    else the last complete year, else the last year."""
    with_growth = years.filter(pl.col("growth").is_not_null())["year"]
    complete = years.filter(~pl.col("partial"))["year"]
    chosen = with_growth.max() if len(with_growth) else (complete.max() if len(complete) else years["year"].max())
    return None if chosen is None else int(chosen)
