"""aggregate() end to end on small warehouses: inputs missing, model versions, co-occurrence, categories,
coverage, emerging subtopics, run bookkeeping, the lock and the CLI."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import polars as pl
import pytest
from click.testing import CliRunner

import flows.cli.cmd_aggregate  # noqa: F401  (registers the command)
from analytics.metrics import aggregate
from analytics.metrics.emerging import MIN_RECENT_PAPERS
from flows.cli.app import cli
from tests.analytics.metrics.realcorpus import write_tables
from tests.analytics.metrics.synth import NOW, build, months, write
from warehouse.api import open_warehouse
from warehouse.errors import ArxivTrendsError, WarehouseLocked
from warehouse.state import last_runs

MONTHS = months(date(2029, 1, 1), 29)      # 2029-01 .. 2031-05 (2031-06 is NOW's partial month)


@pytest.fixture
def small(tmp_path):
    """10 papers a month; the first 6 are about ``a``, the first 3 also about ``b``."""
    return build(tmp_path / "home", MONTHS, [10] * 29, {"a": [6] * 29, "b": [3] * 29})


def test_counts_cooccurrence_and_categories(small):
    summary = aggregate(small, now=NOW)
    assert summary.model_version == "m1" and summary.partial_months == ["2031-06"]
    m = small.scan("metrics/topic_monthly").filter(~pl.col("partial")).collect()
    assert m.group_by("topic").agg(pl.col("papers").sum()).sort("topic").rows() == [("a", 174), ("b", 87)]
    co = small.scan("metrics/topic_cooccurrence").collect()
    assert co.filter(pl.col("year") == 2030).select("topic_a", "topic_b", "papers", "papers_a", "papers_b",
                                                    "jaccard").row(0) == ("a", "b", 36, 72, 36, 0.5)
    cats = small.scan("metrics/topic_categories").collect()
    assert cats.select("category").unique().item() == "cs.LG" and (cats["share"] == 1.0).all()
    cov = small.scan("metrics/coverage_monthly").collect()
    assert (cov["papers"] == cov["total_papers"]).all() and cov.select("source").unique().item() == "snapshot"


def test_papers_only_writes_coverage_and_explains(tmp_path):
    papers = pl.DataFrame({"id": ["2901.00001"], "submitted": [datetime(2029, 1, 3, tzinfo=timezone.utc)],
                           "source": ["atom"], "primary_category": [None]}, schema_overrides={"primary_category": pl.String})
    wh = write(tmp_path, papers, None)
    summary = aggregate(wh, now=NOW)
    assert list(summary.tables) == ["metrics/coverage_monthly"]
    assert summary.model_version is None and "classify" in summary.notes[0]
    assert not wh.has_table("metrics/topic_monthly")


def test_no_papers_is_a_user_error(tmp_path):
    with pytest.raises(ArxivTrendsError, match="backfill"):
        aggregate(open_warehouse(tmp_path / "absent"), now=NOW)
    empty = pl.DataFrame(schema={"id": pl.String, "submitted": pl.Datetime("us", "UTC"), "source": pl.String,
                                 "primary_category": pl.String})
    with pytest.raises(ArxivTrendsError, match="empty"):
        aggregate(write(tmp_path / "empty", empty, None), now=NOW)


def test_only_the_current_model_version_and_known_papers_count(small):
    current = small.scan("classifications").collect()
    orphan = current.head(1).with_columns(pl.lit("9999.99999").alias("id"), pl.lit("z").alias("topic"))
    old = current.with_columns(
        pl.lit("m0").alias("model_version"), pl.lit(datetime(2030, 1, 1, tzinfo=timezone.utc)).alias("classified_at"),
        pl.lit("c").alias("topic"))
    with small.lock():
        small.write_table("classifications", pl.concat([current, orphan, old]))
    summary = aggregate(small, now=NOW)
    assert summary.model_version == "m1" and summary.ignored_version_rows == old.height
    assert "m0" in summary.notes[0]
    topics = small.scan("metrics/topic_monthly").select("topic").unique().collect()["topic"].sort().to_list()
    assert topics == ["a", "b"]                                  # not m0's "c", nor the paperless "z"


def test_emerging_subtopics_rule(small):
    ids = small.scan("papers").select("id", pl.col("submitted").dt.date().alias("day")).collect()
    recent = pl.col("day") >= date(2030, 12, 1)                 # the last 6 complete months: 2030-12 .. 2031-05
    n = pl.col("id").str.slice(5).cast(pl.Int32)
    assignments = ids.select("id", pl.when(recent & (n < 8)).then(1)              # 1: grows from 0 to 8 a month
                             .when(n < 1).then(2)                                  # 2: flat, 1 a month
                             .when(recent & (n == 9)).then(3)                      # 3: grows, but too small
                             .otherwise(-1).alias("subtopic"))
    assert assignments.filter(pl.col("subtopic") == 3).height < MIN_RECENT_PAPERS
    paper_subtopics = assignments.with_columns(pl.lit("m1").alias("model_version"))
    subtopics = pl.DataFrame({"subtopic": [1, 2, 3], "label": ["rising", "flat", "tiny"],
                              "keywords": [["x"], ["y"], ["z"]], "parent_topic": ["a", "a", "b"],
                              "size": [0, 0, 0], "model_version": ["m1"] * 3})
    write_tables(small, small.scan("papers").collect(), None, paper_subtopics, subtopics)
    aggregate(small, now=NOW)
    sub = small.subtopic_monthly()
    assert set(sub.subtopic) == {1, 2, 3} and sub.loc[sub.subtopic == 1, "label"].iloc[0] == "rising"
    emerging = small.emerging_subtopics()
    assert emerging.subtopic.tolist() == [1] and emerging["rank"].tolist() == [1]
    row = emerging.iloc[0]
    assert (row.recent_papers, row.previous_papers, row.skipped_months) == (48, 0, 0)
    assert row.growth == pytest.approx((49 / 60) / (1 / 60) - 1)
    assert (emerging.recent_from[0].date(), emerging.previous_to[0].date()) == (date(2030, 12, 1), date(2030, 11, 1))


def test_run_is_recorded_and_the_lock_is_taken(small):
    aggregate(small, now=NOW)
    run = last_runs(small.settings)["aggregate"]
    assert run["tables"]["metrics/topic_monthly"] == 2 * 30 and run["model_version"] == "m1"
    other = open_warehouse(small.settings.home)
    with other.lock():
        with pytest.raises(WarehouseLocked):
            aggregate(small, now=NOW)


def test_cli_human_and_json(tmp_path):
    home = str(tmp_path / "home")
    build(tmp_path / "home", months(date(2023, 1, 1), 24), [10] * 24, {"a": [6] * 24})   # the CLI's now is real
    human = CliRunner().invoke(cli, ["--home", home, "aggregate"])
    assert human.exit_code == 0, human.output
    assert "metrics/topic_monthly" in human.output and "partial months: 1" in human.output
    as_json = CliRunner().invoke(cli, ["--home", home, "aggregate", "--json", "--include-partial"])
    payload = json.loads(as_json.output)
    assert payload["include_partial"] is True and payload["tables"]["metrics/coverage_monthly"] > 0
    missing = CliRunner().invoke(cli, ["--home", home + "-absent", "aggregate"])
    assert missing.exit_code == 1 and "backfill" in missing.output
