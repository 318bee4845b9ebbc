"""One engine for every label table: counts on a dense period grid, the flags, then the growth columns."""

from __future__ import annotations

import numpy as np
import polars as pl

from analytics.metrics import growth
from analytics.metrics.burst import burst_level

MONTHLY = ("share", "mom_growth", "yoy_growth", "rolling_3m", "rolling_12m",
           "cagr_3y", "cagr_5y", "acceleration", "burst_level")
YEARLY = ("share", "yoy_growth", "rolling_3y", "rolling_5y", "cagr_3y", "cagr_5y", "acceleration", "burst_level")


def usable(include_partial: bool) -> pl.Expr:
    """A period growth may use: not low_coverage, and not partial unless partial periods are included."""
    return ~pl.col("low_coverage") & (pl.lit(include_partial) | ~pl.col("partial"))


def _with_bursts(frame: pl.DataFrame, by: str) -> pl.DataFrame:
    """burst_level over the usable periods of each label (null on flagged periods)."""
    if frame.height == 0:
        return frame.with_columns(pl.lit(None, dtype=pl.Int8).alias("burst_level"))
    shape = (frame[by].n_unique(), -1)
    keep = frame[growth.USABLE].to_numpy().reshape(shape)[0]
    counts = frame["papers"].to_numpy().reshape(shape)
    totals = frame["total_papers"].to_numpy().reshape(shape)[0]
    levels = np.zeros(counts.shape, dtype=np.int8)
    levels[:, keep] = burst_level(counts[:, keep], totals[keep])
    bursts = pl.Series("burst_level", levels.ravel())
    return frame.with_columns(pl.when(pl.col(growth.USABLE)).then(bursts).alias("burst_level"))


def label_series(counts: pl.DataFrame, periods: pl.DataFrame, *, by: str, period: str,
                 include_partial: bool) -> pl.DataFrame:
    """``counts`` (by, period, papers) on the full grid of ``periods`` (period, total_papers, partial,
    low_coverage), with every growth column; ``period`` is ``month`` or ``year``."""
    monthly = period == "month"
    per_year = 12 if monthly else 1
    labels = counts.select(by).unique().sort(by)
    frame = (
        labels.join(periods, how="cross")
        .join(counts, on=[by, period], how="left")
        .with_columns(pl.col("papers").fill_null(0).cast(pl.Int64), usable(include_partial).alias(growth.USABLE))
        .sort(by, period)
    )
    level = "rolling_12m" if monthly else "_level"
    first = [growth.share().alias("share"), growth.yoy_growth(by, per_year).alias("yoy_growth")]
    if monthly:
        first += [growth.mom_growth(by).alias("mom_growth"),
                  growth.rolling_3m(by).alias("rolling_3m"), growth.rolling_12m(by).alias("rolling_12m")]
    else:
        first += [growth.rolling_3y(by).alias("rolling_3y"), growth.rolling_5y(by).alias("rolling_5y"),
                  pl.when(pl.col(growth.USABLE)).then(pl.col("papers").cast(pl.Float64)).alias("_level")]
    frame = frame.with_columns(first).with_columns(
        growth.cagr_3y(by, per_year, level).alias("cagr_3y"),
        growth.cagr_5y(by, per_year, level).alias("cagr_5y"),
        growth.acceleration(by, per_year).alias("acceleration"),
    )
    frame = _with_bursts(frame, by)
    return frame.select(by, period, "papers", "total_papers", *(MONTHLY if monthly else YEARLY),
                        "partial", "low_coverage")
