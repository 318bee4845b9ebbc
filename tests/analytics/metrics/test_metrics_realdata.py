"""Invariants of the metrics tables on the real records of ../shared/data/arxiv (with synthetic labels)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import polars as pl
import pytest

from analytics.metrics import aggregate
from tests.analytics.metrics.realcorpus import load_real_papers, synthetic_labels, write_tables
from tests.conftest import shared_path
from warehouse.api import open_warehouse

pytestmark = pytest.mark.slow
NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)          # the day the shared data was collected


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    papers = load_real_papers(shared_path("data", "arxiv"))
    classifications, paper_subtopics, subtopics = synthetic_labels(papers)
    wh = open_warehouse(tmp_path_factory.mktemp("real"))
    write_tables(wh, papers, classifications, paper_subtopics, subtopics)
    summary = aggregate(wh, now=NOW)
    month = pl.col("submitted").dt.date().dt.truncate("1mo").alias("month")
    dated = papers.select("id", month)
    return wh, summary, dated, classifications.join(dated, on="id"), paper_subtopics.join(dated, on="id")


def _table(wh, name: str) -> pl.DataFrame:
    return wh.scan(f"metrics/{name}").collect()


def test_counts_per_month_are_the_classified_papers_of_that_month(real):
    wh, _, _, labelled, assigned = real
    expected = labelled.group_by("topic", "month").agg(pl.len().cast(pl.Int64).alias("expected"))
    got = _table(wh, "topic_monthly").filter(pl.col("papers") > 0).select("topic", "month", "papers")
    joined = expected.join(got, on=["topic", "month"], how="full", coalesce=True)
    assert joined.height == expected.height and (joined["papers"] == joined["expected"]).all()
    expected = (assigned.filter(pl.col("subtopic") >= 0).group_by("subtopic", "month")
                .agg(pl.len().cast(pl.Int64).alias("expected")))
    got = _table(wh, "subtopic_monthly").filter(pl.col("papers") > 0).select("subtopic", "month", "papers")
    joined = expected.join(got, on=["subtopic", "month"], how="full", coalesce=True)
    assert joined.height == expected.height and (joined["papers"] == joined["expected"]).all()


def test_shares_and_totals(real):
    wh, _, dated, _, _ = real
    monthly = _table(wh, "topic_monthly")
    totals = dated.group_by("month").agg(pl.len().cast(pl.Int64).alias("n"))
    check = monthly.join(totals, on="month", how="left").with_columns(pl.col("n").fill_null(0))
    assert (check["total_papers"] == check["n"]).all()
    shares = monthly["share"].drop_nulls()
    assert shares.len() > 0 and shares.min() >= 0 and shares.max() <= 1
    assert monthly.filter(pl.col("share").is_null())["total_papers"].max() == 0
    coverage = _table(wh, "coverage_monthly").group_by("month").agg(pl.col("papers").sum(), pl.col("total_papers").first())
    assert (coverage["papers"] == coverage["total_papers"]).all()
    categories = _table(wh, "topic_categories").group_by("year", "topic").agg(pl.col("share").sum())
    assert categories["share"].is_between(1 - 1e-9, 1 + 1e-9).all()
    co = _table(wh, "topic_cooccurrence")
    assert co.select((pl.col("papers") <= pl.min_horizontal("papers_a", "papers_b")).all()).item()
    assert co["jaccard"].is_between(0, 1).all()


def test_uneven_coverage_is_flagged(real):
    wh, summary, _, _, _ = real
    months = _table(wh, "coverage_monthly").group_by("month").agg(pl.col("partial", "low_coverage").first())
    flag = dict(months.select("month", "low_coverage").iter_rows())
    assert summary.partial_months == ["2026-11"]
    for thin in ["2018-06", "2020-01", "2021-10", "2022-03", "2023-02", "2024-04", "2024-08", "2026-08"]:
        assert flag[date.fromisoformat(thin + "-01")], thin
    for dense in ["2019-05", "2021-06", "2025-01", "2025-07", "2026-05"]:
        assert not flag[date.fromisoformat(dense + "-01")], dense


def test_growth_is_never_computed_across_a_flagged_month(real):
    wh, _, _, _, _ = real
    for name in ("topic_monthly", "subtopic_monthly"):
        key = "topic" if name == "topic_monthly" else "subtopic"
        m = _table(wh, name).sort(key, "month").with_columns(
            (pl.col("partial") | pl.col("low_coverage")).alias("flagged"))
        back = lambda n: pl.col("flagged").shift(n).over(key).fill_null(True)  # noqa: E731
        window = lambda n: pl.any_horizontal([back(k) for k in range(n)])        # noqa: E731
        violations = m.filter(
            (pl.col("mom_growth").is_not_null() & (pl.col("flagged") | back(1)))
            | (pl.col("yoy_growth").is_not_null() & (pl.col("flagged") | back(12)))
            | (pl.col("rolling_3m").is_not_null() & window(3))
            | (pl.col("rolling_12m").is_not_null() & window(12))
            | (pl.col("burst_level").is_null() != pl.col("flagged")))
        assert violations.height == 0, violations.head()
        assert m["mom_growth"].drop_nulls().len() > 0 and m["yoy_growth"].drop_nulls().len() > 0
        assert not m["yoy_growth"].is_infinite().any()


def test_years_add_up_and_emerging_is_ranked(real):
    wh, summary, _, _, _ = real
    by_year = (_table(wh, "topic_monthly").group_by("topic", pl.col("month").dt.year().cast(pl.Int32).alias("year"))
               .agg(pl.col("papers").sum().alias("monthly")))
    yearly = _table(wh, "topic_yearly").join(by_year, on=["topic", "year"])
    assert (yearly["papers"] == yearly["monthly"]).all()
    emerging = _table(wh, "emerging_subtopics")
    assert summary.tables["metrics/emerging_subtopics"] == emerging.height
    assert emerging["rank"].to_list() == list(range(1, emerging.height + 1))
    assert emerging["growth"].is_sorted(descending=True) and (emerging["growth"] > 0).all()
