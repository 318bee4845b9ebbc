"""Backfill: import, idempotence, newer version wins, quarantine, atomicity, lock, pandas round trip."""

import json
import os
import subprocess
import sys

import pandas as pd
import pytest

from warehouse import open_warehouse
from warehouse.backfill import backfill_paths
from warehouse.errors import InputError, WarehouseLocked
from warehouse import tables
from tests.warehouse.snapshot_fixtures import record, write_jsonl


def _ids(wh):
    return sorted(wh.scan_papers().select("id").collect()["id"].to_list())


def test_import_and_pandas_round_trip(home, tmp_path):
    src = write_jsonl(tmp_path / "snap.jsonl.gz", [record("0704.0001", versions=2), record("hep-th/9901001", versions=0),
                                                   record("2501.00001", versions=0)], gz=True)
    wh = open_warehouse(home)
    summary = backfill_paths(wh, [src], progress=False)
    assert (summary.read, summary.inserted, summary.quarantined) == (3, 3, 0)
    df = pd.read_parquet(home / "warehouse" / "papers")
    assert sorted(df["id"]) == ["0704.0001", "2501.00001", "hep-th/9901001"]
    row = df.set_index("id").loc["0704.0001"]
    assert list(row["authors"]) == ["C. Balázs", "E. L. Berger", "P. M. Nadolsky"]
    assert list(row["categories"]) == ["cs.CL", "cs.LG"]
    assert row["submitted"] == pd.Timestamp("2007-04-02 19:18:42", tz="UTC")
    assert str(df["submitted"].dtype) == "datetime64[us, UTC]"
    assert sorted(df["year"].astype(int).unique()) == [1999, 2007, 2025]
    # the read API filters
    assert wh.papers(since="2020-01-01")["id"].tolist() == ["2501.00001"]
    assert wh.papers(categories=["cs.LG"], columns=["id"]).shape == (3, 1)


def test_reimport_changes_nothing(home, tmp_path):
    src = write_jsonl(tmp_path / "snap.jsonl", [record(f"2501.{i:05d}") for i in range(50)])
    wh = open_warehouse(home)
    backfill_paths(wh, [src], progress=False)
    version_before = (home / "warehouse" / "papers").resolve()
    before = wh.scan_papers().collect()
    again = backfill_paths(wh, [src], progress=False)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 50)
    assert (home / "warehouse" / "papers").resolve() == version_before  # no new version was even made
    assert wh.scan_papers().collect().equals(before)


def test_newer_version_wins_and_older_never_replaces(home, tmp_path):
    wh = open_warehouse(home)
    v2 = write_jsonl(tmp_path / "v2.jsonl", [record("0704.0001", title="Second version", versions=2)])
    v1 = write_jsonl(tmp_path / "v1.jsonl", [record("0704.0001", title="First version", versions=1)])
    v3 = write_jsonl(tmp_path / "v3.jsonl", [record("0704.0001", title="Third version", versions=3)])
    backfill_paths(wh, [v2], progress=False)
    older = backfill_paths(wh, [v1], progress=False)
    assert (older.updated, older.unchanged) == (0, 1)
    assert wh.papers()["title"].tolist() == ["Second version"]
    newer = backfill_paths(wh, [v3], progress=False)
    assert newer.updated == 1
    papers = wh.papers()
    assert papers["title"].tolist() == ["Third version"] and papers["version"].tolist() == [3]


def test_versioned_record_replaces_one_without_versions(home, tmp_path):
    wh = open_warehouse(home)
    bare = write_jsonl(tmp_path / "bare.jsonl", [{"id": "2503.11731", "title": "Listing copy"}])
    full = write_jsonl(tmp_path / "full.jsonl", [record("2503.11731", title="OAI copy")])
    backfill_paths(wh, [bare], progress=False)
    assert wh.papers()["date_source"].tolist() == ["id"]
    backfill_paths(wh, [full], progress=False)
    papers = wh.papers()
    assert papers["title"].tolist() == ["OAI copy"]
    assert papers["date_source"].tolist() == ["v1"]
    assert len(papers) == 1  # it moved from year 2025 (id month) to 2007 (its v1 date) without a copy left behind


def test_same_id_twice_in_one_input_keeps_the_newest(home, tmp_path):
    src = write_jsonl(tmp_path / "dup.jsonl", [record("0704.0005", title="new", versions=2),
                                               record("0704.0005", title="old", versions=1)])
    wh = open_warehouse(home)
    summary = backfill_paths(wh, [src], progress=False)
    assert summary.inserted == 1 and wh.papers()["title"].tolist() == ["new"]


def test_bad_records_are_quarantined_and_the_rest_imported(home, tmp_path):
    bad_date = record("0704.0009")
    bad_date["versions"] = [{"version": "v1", "created": "31 Foo 2007"}]
    lines = [record("0704.0001"), '{"id": "0704.0002", "title": broken json', {"title": "no id here"},
             {"id": "0704.0003"}, bad_date, "[1, 2, 3]", record("0704.0004")]
    src = write_jsonl(tmp_path / "mixed.jsonl", lines)
    wh = open_warehouse(home)
    summary = backfill_paths(wh, [src], progress=False)
    assert _ids(wh) == ["0704.0001", "0704.0004"]
    assert summary.quarantined == 5
    entries = [json.loads(line) for line in open(summary.quarantine_file, encoding="utf-8")]
    by_line = {e["where"]: e["reason"] for e in entries}
    assert by_line["2"].startswith("invalid JSON")
    assert by_line["3"] == "missing id"
    assert by_line["4"] == "missing title"
    assert by_line["5"] == "unparseable date in versions[0].created"
    assert by_line["6"] == "not a JSON object"
    assert all(e["file"] == "mixed.jsonl" for e in entries)


def test_unknown_and_missing_files_are_clear_errors(home, tmp_path):
    wh = open_warehouse(home)
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    with pytest.raises(InputError, match="notes.txt: unrecognised format"):
        backfill_paths(wh, [junk], progress=False)
    with pytest.raises(InputError, match="no such file"):
        backfill_paths(wh, [tmp_path / "missing.jsonl"], progress=False)
    assert not wh.has_table("papers")


def test_crash_between_write_and_swap_leaves_old_state(home, tmp_path, monkeypatch):
    wh = open_warehouse(home)
    backfill_paths(wh, [write_jsonl(tmp_path / "a.jsonl", [record("0704.0001")])], progress=False)
    before = wh.scan_papers().collect()

    def crash(*args, **kwargs):
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr(tables.os, "rename", crash)
    with pytest.raises(OSError, match="simulated crash"):
        backfill_paths(wh, [write_jsonl(tmp_path / "b.jsonl", [record("0704.0002")])], progress=False)
    monkeypatch.undo()
    assert wh.scan_papers().collect().equals(before)
    assert pd.read_parquet(home / "warehouse" / "papers")["id"].tolist() == ["0704.0001"]
    backfill_paths(wh, [write_jsonl(tmp_path / "b.jsonl", [record("0704.0002")])], progress=False)
    assert _ids(wh) == ["0704.0001", "0704.0002"]


def test_killed_process_leaves_old_state(home, tmp_path):
    """A real SIGKILL in the middle of the commit (after the new files are written, before the swap)."""
    wh = open_warehouse(home)
    backfill_paths(wh, [write_jsonl(tmp_path / "a.jsonl", [record("0704.0001")])], progress=False)
    script = f"""
import os, signal
from warehouse import open_warehouse, tables
from warehouse.backfill import backfill_paths
real = os.rename
def die(src, dst):
    os.kill(os.getpid(), signal.SIGKILL)
tables.os.rename = die
backfill_paths(open_warehouse({str(home)!r}), [{str(write_jsonl(tmp_path / 'b.jsonl', [record('0704.0002')]))!r}],
               progress=False)
"""
    proc = subprocess.run([sys.executable, "-c", script], cwd=os.getcwd())
    assert proc.returncode == -9
    assert pd.read_parquet(home / "warehouse" / "papers")["id"].tolist() == ["0704.0001"]
    summary = backfill_paths(wh, [tmp_path / "b.jsonl"], progress=False)  # the lock died with the process
    assert summary.inserted == 1 and _ids(wh) == ["0704.0001", "0704.0002"]
    leftovers = list((home / "warehouse" / ".versions" / "papers").glob(".*inprogress"))
    assert leftovers == []


def test_second_writer_gets_a_clear_error(home, tmp_path):
    wh = open_warehouse(home)
    other = open_warehouse(home)
    with wh.lock():
        with pytest.raises(WarehouseLocked, match=r"is being written by pid \d+"):
            backfill_paths(other, [write_jsonl(tmp_path / "a.jsonl", [record("0704.0001")])], progress=False)
    backfill_paths(other, [tmp_path / "a.jsonl"], progress=False)
    assert _ids(wh) == ["0704.0001"]


def test_folder_of_files_is_read_recursively(home, tmp_path):
    write_jsonl(tmp_path / "in" / "a.jsonl", [record("0704.0001")])
    write_jsonl(tmp_path / "in" / "sub" / "b.jsonl.gz", [record("0704.0002")], gz=True)
    summary = backfill_paths(open_warehouse(home), [tmp_path / "in"], progress=False)
    assert summary.inserted == 2 and len(summary.files) == 2


def test_lines_are_numbered_across_blocks(home, tmp_path, monkeypatch):
    from warehouse.sources import snapshot
    lines = [record(f"0704.{i:04d}") for i in range(1, 40)]
    lines[30] = "{not json"
    src = write_jsonl(tmp_path / "many.jsonl", lines)
    batches = list(snapshot.iter_file_batches(src, block_bytes=2000))
    assert len(batches) > 3
    errors = [e for b in batches for e in b.extras]
    assert [e["_where"] for e in errors] == ["many.jsonl:31"]
    wheres = [w for b in batches for w in b.frame["_where"].to_list()]
    assert wheres == [f"many.jsonl:{i}" for i in range(1, 40) if i != 31]


def test_blank_lines_do_not_shift_line_numbers(tmp_path):
    from warehouse.sources import snapshot
    src = tmp_path / "blank.jsonl"
    src.write_text("\n".join([json.dumps(record("0704.0001")), "", "  ", "{broken", json.dumps(record("0704.0002"))]))
    batches = list(snapshot.iter_file_batches(src))
    assert [e["_where"] for b in batches for e in b.extras] == ["blank.jsonl:4"]
    assert [w for b in batches for w in b.frame["_where"].to_list()] == ["blank.jsonl:1", "blank.jsonl:5"]


def test_clean_blocks_take_the_fast_path(tmp_path, monkeypatch):
    from warehouse.sources import snapshot
    src = write_jsonl(tmp_path / "clean.jsonl", [record(f"0704.{i:04d}") for i in range(1, 20)])
    monkeypatch.setattr(snapshot, "_parse_lines", lambda *a: pytest.fail("fell back to line-by-line parsing"))
    (batch,) = list(snapshot.iter_file_batches(src))
    assert batch.frame.height == 19 and batch.frame["_where"][-1] == "clean.jsonl:19"
