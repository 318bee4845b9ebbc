"""Known answers for the growth columns, the honest-period flags and the yearly roll-up."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pandas as pd
import polars as pl
import pytest

from analytics.metrics import aggregate
from analytics.metrics.periods import month_periods
from tests.analytics.metrics.synth import NOW, build, months

START = date(2024, 1, 1)
N = 89                                    # 2024-01 .. 2031-05; the grid adds 2031-06, the partial month


def _monthly(wh, topic: str = "t") -> pl.DataFrame:
    return wh.scan("metrics/topic_monthly").filter(pl.col("topic") == topic).sort("month").collect()


@pytest.fixture(scope="module")
def doubling(tmp_path_factory):
    """A topic that doubles each calendar year (constant within a year) in a flat corpus of 2,000 a month."""
    wh = build(tmp_path_factory.mktemp("doubling"), months(START, N),
               [2000] * N, {"t": [10 * 2 ** (i // 12) for i in range(N)]})
    aggregate(wh, now=NOW)
    return wh


def test_yoy_of_a_series_that_doubles_each_year_is_exactly_one(doubling):
    m = _monthly(doubling)
    complete = m.filter(~pl.col("partial"))
    assert complete["yoy_growth"].head(12).is_null().all()            # no history yet: null, not 0
    assert complete["yoy_growth"].slice(12).to_list() == [1.0] * (N - 12)
    assert complete["acceleration"].slice(24).to_list() == [0.0] * (N - 24)
    y = doubling.scan("metrics/topic_yearly").sort("year").collect()
    assert y.filter(~pl.col("partial"))["yoy_growth"].to_list() == [None, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]


def test_mom_growth_share_and_rolling_means(doubling):
    m = _monthly(doubling)
    assert m["share"][:N].to_list() == [10 * 2 ** (i // 12) / 2000 for i in range(N)]
    assert m["share"][N] is None                                      # the partial month has no papers yet
    jan_2025, feb_2025 = m.row(12, named=True), m.row(13, named=True)
    assert (jan_2025["mom_growth"], feb_2025["mom_growth"]) == (1.0, 0.0)
    assert jan_2025["rolling_3m"] == pytest.approx((10 + 10 + 20) / 3)
    assert m["rolling_12m"][11] == 10.0 and m["rolling_12m"][:11].is_null().all()


def test_cagr_only_where_the_history_allows(doubling):
    m = _monthly(doubling)
    # cagr_3y needs rolling_12m now and 36 months before: defined from month index 47 on
    assert m["cagr_3y"][:47].is_null().all()
    assert m["cagr_3y"][47] == pytest.approx(1.0)
    assert m["cagr_5y"][:71].is_null().all() and m["cagr_5y"][71] == pytest.approx(1.0)
    y = doubling.scan("metrics/topic_yearly").sort("year").collect()
    assert y["cagr_3y"].to_list()[:4] == [None, None, None, pytest.approx(1.0)]


def test_partial_month_is_flagged_and_excluded_unless_asked(doubling):
    m = _monthly(doubling)
    last = m.row(-1, named=True)
    assert last["month"] == date(2031, 6, 1) and last["partial"] and not last["low_coverage"]
    assert last["papers"] == 0 and last["mom_growth"] is None and last["yoy_growth"] is None
    assert m.filter(pl.col("partial")).height == 1
    aggregate(doubling, now=NOW, include_partial=True)
    last = _monthly(doubling).row(-1, named=True)
    assert last["partial"] and last["mom_growth"] == -1.0           # computed because asked (and still flagged)
    aggregate(doubling, now=NOW)


def test_a_gap_month_is_flagged_and_not_bridged(tmp_path):
    totals, counts = [1000] * 40, [50] * 40
    gap = 20
    totals[gap], counts[gap] = 100, 5
    wh = build(tmp_path, months(START, 40), totals, {"t": counts})
    aggregate(wh, now=NOW)
    m = _monthly(wh)
    flagged = m.filter(pl.col("low_coverage"))["month"].to_list()
    assert flagged == [months(START, 40)[gap]] + months(date(2027, 5, 1), 49)   # the gap, and the empty tail
    assert m["share"][gap] == 0.05                                   # the share is still within-month honest
    for column, index in [("mom_growth", gap), ("mom_growth", gap + 1), ("yoy_growth", gap), ("yoy_growth", gap + 12)]:
        assert m[column][index] is None, (column, index)
    assert m["mom_growth"][gap - 1] == 0.0 and m["mom_growth"][gap + 2] == 0.0
    assert m["yoy_growth"][gap + 11] == 0.0 and m["yoy_growth"][gap + 13] == 0.0
    assert m["rolling_3m"][gap: gap + 3].is_null().all() and m["rolling_3m"][gap + 3] == 50.0
    assert m["burst_level"][gap] is None
    y = wh.scan("metrics/topic_yearly").sort("year").collect()
    assert y.filter(pl.col("year") == 2025)["low_coverage"].item()
    assert y.filter(pl.col("year") == 2025)["yoy_growth"].item() is None
    assert y.filter(pl.col("year") == 2026)["yoy_growth"].item() is None      # its base year is flagged


def test_growth_from_zero_is_null_not_infinite(tmp_path):
    counts = [0] * 12 + [30] * 12
    wh = build(tmp_path, months(START, 24), [500] * 24, {"t": counts, "u": [1] * 24})
    aggregate(wh, now=datetime(2026, 1, 5, tzinfo=timezone.utc))
    m = _monthly(wh)
    assert m["yoy_growth"][12:24].is_null().all() and m["mom_growth"][12] is None
    assert m["mom_growth"][13] == 0.0


def test_tables_are_pandas_readable_with_the_documented_columns(doubling):
    folder = doubling.settings.warehouse_dir / "metrics"
    monthly = pd.read_parquet(folder / "topic_monthly")
    assert list(monthly.columns) == [
        "topic", "month", "papers", "total_papers", "share", "mom_growth", "yoy_growth", "rolling_3m",
        "rolling_12m", "cagr_3y", "cagr_5y", "acceleration", "burst_level", "partial", "low_coverage"]
    assert monthly["yoy_growth"].isna().sum() > 0                     # nulls arrive in pandas as NaN / NA
    yearly = doubling.topic_yearly()
    assert {"year", "rolling_3y", "rolling_5y", "low_coverage_months"} <= set(yearly.columns)
    assert "mom_growth" not in yearly.columns
    y = yearly                                                         # the README's three-line snippet:
    fastest = y[y.year == y.loc[~y.partial, "year"].max()].nlargest(5, "yoy_growth")[["topic", "papers", "yoy_growth"]]
    assert fastest.values.tolist() == [["t", 7680, 1.0]]


def _flags(totals: list[int]) -> list[bool]:
    by_source = pl.DataFrame({"month": months(START, len(totals)), "source": "s", "papers": totals})
    return month_periods(by_source, NOW).filter(pl.col("month") < months(START, len(totals) + 1)[-1])[
        "low_coverage"].to_list()


def test_a_thin_stretch_is_flagged_and_steady_growth_is_not():
    assert _flags([1000] * 24 + [100] * 12 + [1000] * 24) == [False] * 24 + [True] * 12 + [False] * 24
    assert _flags([0] * 3 + [1000] * 9) == [True] * 3 + [False] * 9          # no papers at all: always flagged
    assert not any(_flags([round(1000 * 1.4 ** (i / 12)) for i in range(72)]))   # +40 % a year is no gap
    assert not any(_flags([1000, 1000, 5000, 1000, 1000, 1000]))              # one spike does not set the level
