"""The top-movers artifact: only significant movements, with their intervals, where the metrics have them."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from flows.artifacts import top_movers
from tests.reports.synthetic import write_synthetic_warehouse


def test_top_movers_are_the_significant_movements_with_intervals(tmp_path: Path) -> None:
    wh = write_synthetic_warehouse(tmp_path / "home", optional=False, model=False)
    movers = top_movers(wh, n=3)
    yearly = wh.scan("metrics/topic_yearly").filter(pl.col("year") == 2025).collect()
    trend = dict(yearly.select("topic", "trend").rows())
    assert len(movers) == 3 and {m["year"] for m in movers} == {2025}
    assert all(trend[m["topic"]] in ("growing", "shrinking") for m in movers)
    first = movers[0]
    assert first["yoy_growth_low"] < first["yoy_growth"] < first["yoy_growth_high"]
    assert first["change"].startswith(f"{first['topic']} +") and " to +" in first["change"]


def test_top_movers_on_metrics_without_intervals_keep_the_monthly_ranking(tmp_path: Path) -> None:
    wh = write_synthetic_warehouse(tmp_path / "home", optional=False, model=False, estimates=False)
    movers = top_movers(wh, n=4)
    assert [m["month"] for m in movers] == ["2026-10"] * 4
    growth = [m["yoy_growth"] for m in movers]
    assert growth == sorted(growth, reverse=True)


def test_top_movers_without_a_significant_movement_still_show_the_largest_changes(tmp_path: Path) -> None:
    wh = write_synthetic_warehouse(tmp_path / "home", optional=False, model=False)
    yearly = wh.scan("metrics/topic_yearly").collect().with_columns(pl.lit("steady").alias("trend"))
    wh.write_table("metrics/topic_yearly", yearly)
    movers = top_movers(wh, n=3)
    assert len(movers) == 3 and {m["trend"] for m in movers} == {"steady"}
    change = [abs(m["papers_est"] - m["papers_est"] / (1 + m["yoy_growth"])) for m in movers]
    assert change == sorted(change, reverse=True)


def test_top_movers_without_any_growth_figure_fall_back_to_the_monthly_ranking(tmp_path: Path) -> None:
    wh = write_synthetic_warehouse(tmp_path / "home", optional=False, model=False)
    yearly = wh.scan("metrics/topic_yearly").collect().with_columns(
        *(pl.lit(None, dtype=pl.Float64).alias(c) for c in ("yoy_growth_est", "yoy_growth_low", "yoy_growth_high")),
        pl.lit(None, dtype=pl.String).alias("trend"))
    wh.write_table("metrics/topic_yearly", yearly)
    movers = top_movers(wh, n=4)
    assert [m["month"] for m in movers] == ["2026-10"] * 4
