"""Kleinberg two-state burst detection: an injected burst is found exactly where it was injected."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from analytics.metrics import aggregate
from analytics.metrics.burst import burst_level
from tests.analytics.metrics.synth import NOW, build, months


def test_flat_series_has_no_burst():
    assert burst_level(np.full((2, 48), 50), np.full(48, 1000)).sum() == 0


def test_injected_burst_is_found_where_injected():
    counts = np.full((3, 60), 50)
    counts[0, 30:36] = 150                 # tripled rate for six months
    counts[1, 5:7] = 120                   # a short one, early
    levels = burst_level(counts, np.full(60, 1000))
    assert np.flatnonzero(levels[0]).tolist() == list(range(30, 36))
    assert np.flatnonzero(levels[1]).tolist() == [5, 6]
    assert levels[2].sum() == 0


def test_burst_is_relative_to_the_monthly_totals():
    totals = np.full(60, 1000)
    totals[30:36] = 3000                   # the whole corpus triples: the topic keeps its 5 % share
    counts = (totals * 0.05).astype(int)[None, :]
    assert burst_level(counts, totals).sum() == 0


def test_empty_and_never_seen_labels():
    assert burst_level(np.zeros((1, 0)), np.zeros(0)).shape == (1, 0)
    assert burst_level(np.zeros((1, 12)), np.full(12, 100)).sum() == 0


def test_topic_monthly_burst_level_marks_the_injected_months(tmp_path):
    counts = [40] * 48
    counts[24:28] = [160] * 4
    wh = build(tmp_path, months(date(2027, 1, 1), 48), [1000] * 48, {"bursty": counts, "flat": [40] * 48})
    aggregate(wh, now=NOW)
    m = wh.scan("metrics/topic_monthly").filter(~pl.col("partial")).sort("topic", "month").collect()
    bursting = m.filter(pl.col("burst_level") == 1)
    assert bursting["topic"].unique().to_list() == ["bursty"]
    assert bursting["month"].to_list() == months(date(2029, 1, 1), 4)
