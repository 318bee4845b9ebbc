"""The error-corrected counts of the metrics (issue 13), in one shape whether the warehouse has them or not.

``aggregate`` writes, beside each classified count, an estimate of the true count corrected for the classifier's
error rates with a 90% interval, growth of that estimate with its interval, a ``trend`` (growing / shrinking only
when the interval excludes zero) and ``nowcast`` on the open period. A warehouse aggregated before those columns
existed still gets a site: ``est`` is then the classified count, intervals and trends are null, and growth is the
like-for-like figure of ``series.yearly_growth``. Every chart and sentence reads these views (``months_view`` and
``years_from_estimates`` / ``years_like_for_like``), never the raw columns.
"""

from __future__ import annotations

import polars as pl

from reports import series

ESTIMATE_COLUMNS = ("papers_est", "papers_low", "papers_high", "share_est", "share_low", "share_high",
                    "yoy_growth_est", "yoy_growth_low", "yoy_growth_high", "trend", "nowcast")
YEARLY_EXTRA = ("cagr_3y_est", "cagr_3y_low", "cagr_3y_high", "share_change_est", "share_change_low",
                "share_change_high")
MOVING = ("growing", "shrinking")  # the only trends that may be called movements
MIN_BASE = 20   # a relative change on fewer papers than this is noise: movements and tables need this base
F = pl.Float64

YEAR_COLUMNS = {  # the yearly view: name -> dtype
    "topic": pl.String, "year": pl.Int32, "papers": pl.Int64, "total_papers": pl.Int64, "share": F,
    "partial": pl.Boolean, "low_coverage": pl.Boolean, "nowcast": pl.Boolean, "matched_months": pl.Int32,
    "est": F, "low": F, "high": F, "share_est": F, "share_low": F, "share_high": F,
    "growth": F, "growth_low": F, "growth_high": F, "trend": pl.String,
    "share_change": F, "share_change_low": F, "share_change_high": F,
    "cagr_3y": F, "cagr_3y_low": F, "cagr_3y_high": F,
}


def has_estimates(frame: pl.DataFrame | None) -> bool:
    """True when ``frame`` (topic_monthly or topic_yearly) carries every error-corrected column."""
    return frame is not None and set(ESTIMATE_COLUMNS) <= set(frame.columns)


def _null(name: str) -> pl.Expr:
    return pl.lit(None, dtype=YEAR_COLUMNS[name]).alias(name)


def years_like_for_like(monthly: pl.DataFrame) -> pl.DataFrame:
    """Topic x year in ``YEAR_COLUMNS`` from metrics without estimates: the classified counts as ``est``,
    like-for-like growth, no intervals or trends."""
    frame = series.yearly_growth(monthly).with_columns(
        pl.lit(False).alias("nowcast"), pl.col("papers").cast(F).alias("est"), pl.col("share").alias("share_est"),
        *[_null(c) for c in ("low", "high", "share_low", "share_high", "growth_low", "growth_high", "trend",
                             "share_change", "share_change_low", "share_change_high", "cagr_3y",
                             "cagr_3y_low", "cagr_3y_high")])
    return frame.select([pl.col(c).cast(t) for c, t in YEAR_COLUMNS.items()]).sort("topic", "year")


def years_from_estimates(yearly: pl.DataFrame) -> pl.DataFrame:
    """topic_yearly with the error-corrected columns, in ``YEAR_COLUMNS``."""
    present = set(yearly.columns)
    frame = yearly.select(
        "topic", pl.col("year").cast(pl.Int32), "papers", "total_papers", "share",
        pl.col("partial").fill_null(False), pl.col("low_coverage").fill_null(False),
        pl.col("nowcast").fill_null(False),
        pl.col("growth_months").alias("matched_months") if "growth_months" in present else _null("matched_months"),
        pl.col("papers_est").alias("est"), pl.col("papers_low").alias("low"), pl.col("papers_high").alias("high"),
        "share_est", "share_low", "share_high",
        pl.col("yoy_growth_est").alias("growth"), pl.col("yoy_growth_low").alias("growth_low"),
        pl.col("yoy_growth_high").alias("growth_high"), "trend",
        *[pl.col(c).alias(c.removesuffix("_est")) if c in present else _null(c.removesuffix("_est"))
          for c in YEARLY_EXTRA])
    return frame.select([pl.col(c).cast(t) for c, t in YEAR_COLUMNS.items()]).sort("topic", "year")


def months_view(monthly: pl.DataFrame, intervals: bool) -> pl.DataFrame:
    """topic_monthly with ``est``, ``low``, ``high`` (and the same for share), ``nowcast`` and ``trend`` always
    present: with ``intervals`` the metrics' estimates, else the classified count and no interval."""
    if intervals:
        return monthly.with_columns(
            pl.col("papers_est").alias("est"), pl.col("papers_low").alias("low"), pl.col("papers_high").alias("high"),
            pl.col("nowcast").fill_null(False))
    return monthly.with_columns(
        pl.col("papers").cast(F).alias("est"), pl.lit(None, dtype=F).alias("low"), pl.lit(None, dtype=F).alias("high"),
        pl.col("share").alias("share_est"), pl.lit(None, dtype=F).alias("share_low"),
        pl.lit(None, dtype=F).alias("share_high"), pl.lit(False).alias("nowcast"),
        pl.lit(None, dtype=pl.String).alias("trend"))


def latest_growth_year(years: pl.DataFrame, tested: bool) -> int | None:
    """The year the headlines talk about: the last year in which some topic has a growth figure (the current year's
    compares its complete months with the same months a year before). With estimates (``tested``) None when there
    is none; without, ``series.latest_year_with_growth``."""
    usable = years.filter(pl.col("growth").is_not_null())
    if usable.is_empty():
        return series.latest_year_with_growth(years) if len(years) and not tested else None
    return int(usable["year"].max())


def movements(years: pl.DataFrame, year: int | None, significant: bool = True) -> pl.DataFrame:
    """The significant movements of ``year`` (trend growing or shrinking, on a base of ``MIN_BASE``+ papers),
    the ones that matter most first: by the number of papers gained or lost, not by the percentage (a tiny
    topic doubling matters less than a large one growing a fifth). ``papers_change`` is that number.
    ``significant=False``: every change of the year with a growth figure, ranked the same way."""
    if year is None:
        return years.head(0).with_columns(pl.lit(None, dtype=F).alias("papers_change"))
    base = pl.col("est") / (1 + pl.col("growth"))
    kept = pl.col("trend").is_in(MOVING) if significant else pl.col("growth").is_not_null()
    return (years.filter((pl.col("year") == year) & kept)
            .with_columns((pl.col("est") - base).alias("papers_change"), base.alias("_base"))
            .filter(pl.col("_base") >= MIN_BASE).drop("_base")
            .sort([pl.col("papers_change").abs(), pl.col("topic")], descending=[True, False]))


def complete_years(years: pl.DataFrame) -> list[int]:
    """Years that are over and fully covered (no partial, nowcast or low-coverage month): the only ones whose
    totals compare; where the corpus has none, the years that are at least over."""
    over = years.group_by("year").agg((pl.col("partial") | pl.col("nowcast")).any().alias("open"),
                                      pl.col("low_coverage").any().alias("thin"))
    full = sorted(over.filter(~pl.col("open") & ~pl.col("thin"))["year"].to_list())
    return full or sorted(over.filter(~pl.col("open"))["year"].to_list())


def change_between(years: pl.DataFrame, first: int, last: int) -> pl.DataFrame:
    """Per topic, the estimate of ``first`` and ``last`` year, the absolute and relative change, and 90% intervals.

    The intervals combine the two years' intervals as independent (normal for the difference, log-normal for the
    ratio). The classifier's error rates move both years the same way, so the true interval is if anything
    narrower: these are conservative. Relative change is left out on a base under ``MIN_BASE`` papers."""
    a = years.filter(pl.col("year") == first).select("topic", *[pl.col(c).alias(f"{c}_first")
                                                                for c in ("est", "low", "high")])
    b = years.filter(pl.col("year") == last).select("topic", *[pl.col(c).alias(f"{c}_last")
                                                               for c in ("est", "low", "high")])
    z = 1.6448536269514722
    half = lambda w: (pl.col(f"high_{w}") - pl.col(f"low_{w}")) / (2 * z)  # noqa: E731
    log_sd = lambda w: ((pl.col(f"high_{w}") + 0.5).log() - (pl.col(f"low_{w}") + 0.5).log()) / (2 * z)  # noqa: E731
    frame = a.join(b, on="topic", how="inner").with_columns(
        (pl.col("est_last") - pl.col("est_first")).alias("change"),
        (half("first") ** 2 + half("last") ** 2).sqrt().alias("_sd"),
        ((pl.col("est_last") + 0.5) / (pl.col("est_first") + 0.5)).log().alias("_log"),
        (log_sd("first") ** 2 + log_sd("last") ** 2).sqrt().alias("_log_sd"),
        (pl.col("est_first") >= MIN_BASE).alias("_base"))
    return frame.with_columns(
        (pl.col("change") - z * pl.col("_sd")).alias("change_low"),
        (pl.col("change") + z * pl.col("_sd")).alias("change_high"),
        pl.when(pl.col("_base")).then(pl.col("est_last") / pl.col("est_first") - 1).alias("relative"),
        pl.when(pl.col("_base")).then((pl.col("_log") - z * pl.col("_log_sd")).exp() - 1).alias("relative_low"),
        pl.when(pl.col("_base")).then((pl.col("_log") + z * pl.col("_log_sd")).exp() - 1).alias("relative_high"),
    ).drop("_sd", "_log", "_log_sd", "_base").with_columns(
        pl.when(pl.col("change_low").is_null()).then(None)
        .when(pl.col("change_low") > 0).then(pl.lit("growing"))
        .when(pl.col("change_high") < 0).then(pl.lit("shrinking")).otherwise(pl.lit("steady")).alias("trend"),
        pl.lit(first).alias("first"), pl.lit(last).alias("last")).sort("topic")
