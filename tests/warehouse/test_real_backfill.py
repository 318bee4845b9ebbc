"""The whole real corpus of ../shared/data/arxiv: every record imported once, re-import changes nothing."""

import pandas as pd
import pytest

from tests.conftest import shared_path
from warehouse import open_warehouse
from warehouse.backfill import backfill_paths

EXPECTED_RECORDS = 160_380  # ../shared/data/README.md: "160,380 records in total", each id once


@pytest.mark.slow
def test_real_snapshot_files_import_completely_and_idempotently(tmp_path):
    files = sorted(shared_path("data", "arxiv").glob("*.jsonl.gz"))
    assert len(files) == 15
    wh = open_warehouse(tmp_path / "home")
    first = backfill_paths(wh, files, progress=False)
    assert (first.read, first.inserted, first.quarantined) == (EXPECTED_RECORDS, EXPECTED_RECORDS, 0)
    df = pd.read_parquet(tmp_path / "home" / "warehouse" / "papers", columns=["id", "submitted", "date_source"])
    assert len(df) == EXPECTED_RECORDS and df["id"].is_unique
    assert df["submitted"].notna().all()
    # the Kaggle head and .abs files carry versions (v1 dates); the Atom-derived files carry published
    counts = df["date_source"].value_counts()
    assert counts["v1"] >= 2_000 and counts["published"] >= 30_000 and counts["id"] > 100_000
    second = backfill_paths(wh, files, progress=False)
    assert (second.inserted, second.updated, second.unchanged) == (0, 0, EXPECTED_RECORDS)


@pytest.mark.slow
def test_fast_block_path_stores_what_the_line_by_line_path_gives(tmp_path):
    """Parsing in 32 MB blocks, staging by bucket and merging buckets in threads store exactly the rows that
    the plain path gives: each line parsed alone (orjson), normalised, one row per id."""
    import gzip
    from datetime import datetime, timezone

    import orjson
    import polars as pl

    from warehouse.records import normalize_batch, raw_frame

    files = sorted(shared_path("data", "arxiv").glob("*.jsonl.gz"))[:4]
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    expected = []
    for path in files:
        with gzip.open(path) as fh:
            raw = raw_frame([orjson.loads(line) for line in fh])
        source = "snapshot"
        rows, rejected = normalize_batch(raw.with_columns(pl.col("x_source").fill_null(source)), default_source=source,
                                         ingested_at=now)
        assert rejected.height == 0
        expected.append(rows)
    expected = pl.concat(expected).sort("id").drop("year", "ingested_at")
    wh = open_warehouse(tmp_path / "home")
    backfill_paths(wh, files, progress=False)
    stored = wh.scan_papers().collect().sort("id").select(expected.columns)
    assert stored.equals(expected)
