"""Error-corrected counts on simulated data with a known truth: 90% intervals cover it in 85-95% of topic-months,
the estimates are far closer than the classified counts; growth intervals, nowcast and the one-set summary."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import numpy as np
import polars as pl
import pytest

from analytics.metrics.estimates import Calibration, Estimates, fill_fractions, monthly_columns, set_estimate, \
    yearly_columns

TOPICS = ["a", "b", "c", "d"]
OVERCONFIDENCE = np.array([1.0, 1.25, 1.6, 0.9])  # the classifier's probability / the true one, per topic


def _papers(rng, n: int, topic_share: np.ndarray):
    """Probabilities the classifier reports and the true labels: a paper is topic-like with the month's share; its
    reported probability is high if so; the truth follows the calibrated probability (reported / overconfidence)."""
    like = rng.random((n, len(TOPICS))) < topic_share
    reported = np.where(like, rng.beta(6, 2, (n, len(TOPICS))), rng.beta(1, 30, (n, len(TOPICS))))
    reported = np.minimum(reported * np.where(OVERCONFIDENCE > 1, 1, OVERCONFIDENCE), 1)
    truth = rng.random((n, len(TOPICS))) < reported / OVERCONFIDENCE
    return reported, truth


def simulate(seed: int = 7):
    """(topic_monthly with the estimates and a ``true`` column, the monthly draws) of 96 simulated months."""
    rng = np.random.default_rng(seed)
    reported, truth = _papers(rng, 2500, np.full(len(TOPICS), 0.2))  # the labelled papers (an enriched set)
    era = rng.integers(0, 4, len(truth))
    outcome = SimpleNamespace(topic_ids=TOPICS, ids=np.arange(len(truth)), era=era, y=truth, scores=reported,
                              judged=np.ones_like(truth), threshold_rows=np.ones_like(truth))
    months = pl.date_range(date(2016, 1, 1), date(2023, 12, 1), interval="1mo", eager=True)
    rows, truths = [], []
    for k, month in enumerate(months):
        share = np.array([0.02, 0.05, 0.10, 0.01]) * (1 + 3 * k / len(months))  # planted growth, different levels
        reported, truth = _papers(rng, 2000, share)
        for t, topic in enumerate(TOPICS):
            rows.append({"topic": topic, "month": month, "papers": int((reported[:, t] >= 0.5).sum()),
                         "total_papers": 2000, "partial": False, "low_coverage": False,
                         "mass": float(reported[:, t].sum()),
                         "squares": float((reported[:, t] ** 2).sum()),
                         "true": int(truth[:, t].sum())})
    frame = pl.DataFrame(rows).sort("topic", "month")
    estimates = Estimates(frame.select("topic", "month", "mass", "squares"), Calibration.from_outcome(outcome),
                          None, None)
    monthly, draws = monthly_columns(frame.drop("mass", "squares", "true"), estimates, include_partial=False)
    return monthly.with_columns(frame["true"]), draws


@pytest.fixture(scope="module")
def simulated():
    return simulate()


def test_intervals_cover_the_truth_and_the_estimates_beat_raw_counts(simulated):
    monthly, _ = simulated
    covered = monthly.select(((pl.col("papers_low") <= pl.col("true")) & (pl.col("true") <= pl.col("papers_high")))
                             .mean()).item()
    assert 0.85 <= covered <= 0.95
    raw_error = (monthly["papers"] - monthly["true"]).abs().mean()
    corrected_error = (monthly["papers_est"] - monthly["true"]).abs().mean()
    assert corrected_error < 0.3 * raw_error


def test_growth_is_called_only_when_its_interval_excludes_zero(simulated):
    monthly, _ = simulated
    late = monthly.filter(pl.col("yoy_growth_est").is_not_null())
    assert late.height == len(TOPICS) * (96 - 12)
    assert (late["yoy_growth_low"] <= late["yoy_growth_est"]).all() and (late["yoy_growth_est"] <= late["yoy_growth_high"]).all()
    growing = late.filter(pl.col("trend") == "growing")
    assert (growing["yoy_growth_low"] > 0).all()
    big = late.filter(pl.col("topic").is_in(["b", "c"]))  # 100-600 papers a month: most of the 17-36% growth is seen
    assert (big["trend"] == "growing").mean() > 0.4
    assert (late["trend"] == "shrinking").mean() < 0.02  # nothing shrinks in truth
    steady = late.filter(pl.col("trend") == "steady")
    assert ((steady["yoy_growth_low"] <= 0) & (steady["yoy_growth_high"] >= 0)).all()
    assert monthly.filter(pl.col("month") < date(2017, 1, 1))["trend"].is_null().all()


def test_yearly_sums_months_and_compares_like_for_like(simulated):
    monthly, draws = simulated
    yearly_frame = (monthly.group_by("topic", pl.col("month").dt.year().cast(pl.Int32).alias("year"))
                    .agg(pl.col("papers").sum(), pl.col("total_papers").sum(), pl.col("partial").any(),
                         pl.col("low_coverage").any()).sort("topic", "year"))
    yearly = yearly_columns(yearly_frame, draws)
    summed = monthly.group_by("topic", pl.col("month").dt.year().cast(pl.Int32).alias("year")).agg(
        pl.col("papers_est").sum()).sort("topic", "year")
    assert np.allclose(yearly["papers_est"].to_numpy(), summed["papers_est"].to_numpy())
    assert yearly.filter(pl.col("year") == 2016)["yoy_growth_est"].is_null().all()
    assert yearly.filter(pl.col("year") >= 2019)["cagr_3y_est"].is_not_null().all()
    # the three larger topics' 11-16% planted growth in 2023 is significant (the smallest's is within its noise)
    assert (yearly.filter((pl.col("year") == 2023) & (pl.col("topic") != "d"))["trend"] == "growing").all()


def test_nowcast_scales_the_open_month_by_how_past_months_filled_up():
    months = pl.DataFrame({"month": [date(2026, m, 1) for m in range(1, 5)], "partial": [False] * 3 + [True],
                           "low_coverage": [False] * 4})
    days = pl.DataFrame({"month": [date(2026, m, 1) for m in (1, 1, 2, 2, 3, 3)], "day": [10, 25] * 3,
                         "papers": [100, 100, 120, 80, 90, 110]})
    fill = fill_fractions(days, months, date(2026, 4, 15))
    assert sorted(fill.round(2).tolist()) == [0.45, 0.5, 0.6]
    assert fill_fractions(days, months.with_columns(pl.lit(True).alias("low_coverage")), date(2026, 4, 15)) is None


def test_set_estimate_corrects_one_group():
    rng = np.random.default_rng(3)
    reported, truth = _papers(rng, 3000, np.full(len(TOPICS), 0.2))
    outcome = SimpleNamespace(topic_ids=TOPICS, ids=np.arange(3000), era=np.full(3000, 2), y=truth,
                              scores=reported, judged=np.ones_like(truth), threshold_rows=np.ones_like(truth))
    group, group_truth = _papers(rng, 500, np.full(len(TOPICS), 0.1))
    summary = set_estimate(group, np.full(500, 2), Calibration.from_outcome(outcome))
    for t, topic in enumerate(TOPICS):
        s = summary[topic]
        assert s["low"] <= s["estimate"] <= s["high"]
        assert abs(s["estimate"] - group_truth[:, t].sum()) < abs((group[:, t] >= 0.5).sum() - group_truth[:, t].sum()) + 8
