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
