"""Small synthetic warehouses with known answers: papers per month, and which of them carry each topic."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import polars as pl

from tests.analytics.metrics.realcorpus import write_tables
from warehouse.api import Warehouse, open_warehouse

NOW = datetime(2031, 6, 10, tzinfo=timezone.utc)   # so that 2031-06 is the partial month


def months(first: date, n: int) -> list[date]:
    """``n`` consecutive month starts from ``first``."""
    return [date(first.year + (first.month - 1 + i) // 12, (first.month - 1 + i) % 12 + 1, 1) for i in range(n)]


def build(home: Path, month_list: list[date], totals: list[int], topics: dict[str, list[int]],
          *, model_version: str = "m1", source: str = "snapshot", category: str = "cs.LG") -> Warehouse:
    """In month i there are ``totals[i]`` papers; the first ``topics[t][i]`` of them carry topic ``t``."""
    grid = pl.DataFrame({"month": month_list, "total": totals, **{f"n_{t}": c for t, c in topics.items()}})
    rows = grid.with_columns(pl.int_ranges(0, "total").alias("n")).explode("n").with_columns(
        (pl.col("month").dt.strftime("%y%m.") + pl.col("n").cast(pl.String).str.zfill(5)).alias("id"))
    papers = rows.select(
        "id", (pl.col("month").cast(pl.Datetime("us", "UTC")) + pl.duration(days=14, hours=12)).alias("submitted"),
        pl.lit(source).alias("source"), pl.lit(category).alias("primary_category"))
    labels = pl.concat([rows.filter(pl.col("n") < pl.col(f"n_{t}")).select("id", pl.lit(t).alias("topic"))
                        for t in topics] or [pl.DataFrame(schema={"id": pl.String, "topic": pl.String})])
    return write(home, papers, labels, model_version=model_version)


def write(home: Path, papers: pl.DataFrame, labels: pl.DataFrame | None, *, model_version: str = "m1",
          classified_at: datetime = datetime(2031, 6, 1, tzinfo=timezone.utc)) -> Warehouse:
    """Write ``papers`` (id, submitted, source, primary_category) and ``labels`` (id, topic) as warehouse tables."""
    wh = open_warehouse(home)
    papers = papers.with_columns(pl.lit("v1").alias("date_source"),
                                 pl.concat_list("primary_category").alias("categories"))
    classifications = None if labels is None else labels.with_columns(
        pl.lit(0.9).alias("score"), pl.lit("rule").alias("method"),
        pl.lit(model_version).alias("model_version"), pl.lit(classified_at).alias("classified_at"))
    write_tables(wh, papers, classifications)
    return wh
