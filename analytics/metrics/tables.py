"""Builders of the label tables from the small count frames of ``inputs``: topic_monthly, topic_yearly,
subtopic_monthly, topic_cooccurrence, topic_categories."""

from __future__ import annotations

import polars as pl

from analytics.metrics.periods import year_periods
from analytics.metrics.series import label_series

COUNT = pl.col("papers").sum()


def _year() -> pl.Expr:
    return pl.col("month").dt.year().cast(pl.Int32).alias("year")


def _per_topic(topic_sets: pl.DataFrame) -> pl.DataFrame:
    """One row per (month, category, topic) of the topic sets: a paper counts once for each of its topics."""
    return topic_sets.explode("topics").rename({"topics": "topic"})


def topic_monthly(topic_sets: pl.DataFrame, months: pl.DataFrame, include_partial: bool) -> pl.DataFrame:
    """Per topic and month: papers, share of all papers, growth, rolling means, CAGR, acceleration, bursts, flags."""
    counts = _per_topic(topic_sets).group_by("topic", "month").agg(COUNT)
    return label_series(counts, months, by="topic", period="month", include_partial=include_partial)


def topic_yearly(topic_sets: pl.DataFrame, months: pl.DataFrame, include_partial: bool) -> pl.DataFrame:
    """topic_monthly on calendar years (plus ``low_coverage_months``: how many of the year's months are flagged)."""
    years = year_periods(months)
    counts = _per_topic(topic_sets).group_by("topic", _year()).agg(COUNT)
    frame = label_series(counts, years.drop("low_coverage_months"), by="topic", period="year",
                         include_partial=include_partial)
    return frame.join(years.select("year", "low_coverage_months"), on="year", how="left")


def subtopic_monthly(subtopic_counts: pl.DataFrame, info: pl.DataFrame, months: pl.DataFrame,
                     include_partial: bool) -> pl.DataFrame:
    """topic_monthly for BERTopic subtopics (outliers excluded), with each subtopic's parent topic and label."""
    frame = label_series(subtopic_counts, months, by="subtopic", period="month", include_partial=include_partial)
    return info.select("subtopic", "parent_topic", "label").join(frame, on="subtopic", how="right").select(
        "subtopic", "parent_topic", "label", pl.exclude("subtopic", "parent_topic", "label"))


def topic_cooccurrence(topic_sets: pl.DataFrame) -> pl.DataFrame:
    """Per year and topic pair (topic_a < topic_b): papers carrying both, each topic's papers, and the Jaccard
    index papers / (papers_a + papers_b - papers)."""
    yearly = topic_sets.with_columns(_year())
    per_topic = _per_topic(yearly).group_by("year", "topic").agg(COUNT)
    pairs = (yearly.filter(pl.col("topics").list.len() > 1)
             .with_columns(pl.col("topics").alias("topic_a"), pl.col("topics").alias("topic_b"))
             .explode("topic_a").explode("topic_b").filter(pl.col("topic_a") < pl.col("topic_b"))
             .group_by("year", "topic_a", "topic_b").agg(COUNT))
    return (
        pairs.join(per_topic.rename({"topic": "topic_a", "papers": "papers_a"}), on=["year", "topic_a"])
        .join(per_topic.rename({"topic": "topic_b", "papers": "papers_b"}), on=["year", "topic_b"])
        .with_columns((pl.col("papers") / (pl.col("papers_a") + pl.col("papers_b") - pl.col("papers")))
                      .alias("jaccard"))
        .sort("year", "topic_a", "topic_b")
    )


def topic_categories(topic_sets: pl.DataFrame) -> pl.DataFrame:
    """Per year, topic and arXiv primary category (``unknown`` where the source does not say): papers, and their
    share of the topic's papers that year."""
    return (
        _per_topic(topic_sets).group_by(_year(), "topic", "category").agg(COUNT)
        .with_columns((pl.col("papers") / pl.col("papers").sum().over("year", "topic")).alias("share"))
        .sort(["year", "topic", "papers"], descending=[False, False, True])
    )
