"""Checksums recorded with every table file; verify; damage as a one-line error on read, never a decoder's.

Both stores: the local one (symlinked versions, ``.checksums.json`` in each version folder) and the manifest
one (``memory://``: digests, sizes and rows in the manifest).
"""

from __future__ import annotations

import hashlib
import re
import json
import os
from pathlib import Path

import fsspec
import polars as pl
import pytest

from tests.warehouse.snapshot_fixtures import record, write_jsonl
from warehouse import open_warehouse
from warehouse.backfill import backfill_paths
from warehouse.errors import InputError, TableDamaged
from warehouse.integrity import known_damage, record_verification
from warehouse.repair import find_sources, newest_intact, rebuild_from_sources, replace_files, restore_version
from warehouse.state import recorded_inputs
from warehouse.status import status
from warehouse.tables import sums_path

REPAIR_HINT = "run `arxiv-trends verify` to list all damage and `arxiv-trends repair` to restore it"


def frame(n: int = 200, offset: int = 0) -> pl.DataFrame:
    return pl.DataFrame({"id": [f"p{i:04d}" for i in range(offset, offset + n)],
                         "topic": ["language_model", "dialogue"] * (n // 2),
                         "score": [i / n for i in range(n)]})


def blake(path: Path) -> str:
    return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()


def only_file(wh, name: str) -> Path:
    (path,) = wh.files(name)
    return Path(path)


# -- ways to damage a file ------------------------------------------------------------------------------
def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def empty(path: Path) -> None:
    path.write_bytes(b"")


def wrong_schema(path: Path) -> None:
    pl.DataFrame({"something": ["else"] * 3}).write_parquet(path)


def delete(path: Path) -> None:
    path.unlink()


def flip(path: Path) -> None:
    """200 bytes flipped in the middle, the size unchanged (a disk, a copy or a sync gone wrong)."""
    data = bytearray(path.read_bytes())
    start = len(data) // 3
    for i in range(start, start + 200):
        data[i] ^= 0xA5
    with path.open("r+b") as fh:
        fh.write(data)


DAMAGE = {"truncated": (truncate, "bytes, .* when written"), "emptied": (empty, "is 0 bytes"),
          "wrong schema": (wrong_schema, "when written"), "deleted": (delete, "is missing"),
          "flipped bytes": (flip, "does not match its checksum")}


# -- checksums ------------------------------------------------------------------------------------------
def test_every_file_gets_size_digest_rows_and_mtime_when_written(home):
    wh = open_warehouse(home)
    wh.write_table("t", frame())
    path = only_file(wh, "t")
    record_ = json.loads(sums_path(path.parent).read_text())
    assert record_["table"] == "t" and record_["version"] == 1
    assert record_["files"] == {"part-0.parquet": {"bytes": path.stat().st_size, "blake2b": blake(path),
                                                   "rows": 200, "mtime_ns": path.stat().st_mtime_ns}}
    assert pl.read_parquet(home / "warehouse" / "t").height == 200  # the table folder holds Parquet files only
    report = wh.verify()
    assert report.ok and report.tables == ["t"] and report.files == 1 and report.bytes == path.stat().st_size


def test_a_file_kept_by_reference_keeps_the_checksum_it_was_written_with(home, tmp_path):
    first = write_jsonl(tmp_path / "a.jsonl", [record(f"2001.{i:05d}") for i in range(40)])
    second = write_jsonl(tmp_path / "b.jsonl", [record("2001.00007", title="Changed", versions=2)])
    wh = open_warehouse(home)
    backfill_paths(wh, [first], progress=False)
    before = wh.tables.current("papers")
    backfill_paths(wh, [second], progress=False)
    after = wh.tables.current("papers")
    changed = [rel for rel in after.files if after.sums[rel] != before.sums.get(rel)]
    assert changed == ["year=2007/bucket-07.parquet"]  # one bucket rewritten, the others hard-linked
    assert all(after.sums[rel] == before.sums[rel] for rel in after.files if rel not in changed)
    assert wh.verify().ok
    assert [Path(e["path"]) for e in recorded_inputs(wh.settings)] == [first.resolve(), second.resolve()]


# -- damage, found by verify and by every read ------------------------------------------------------------
@pytest.mark.parametrize("how", DAMAGE)
def test_damage_is_found_by_verify_and_by_reads_naming_the_file(how, home):
    wh = open_warehouse(home)
    wh.write_table("t", frame())
    path = only_file(wh, "t")
    damage, problem = DAMAGE[how]
    damage(path)
    report = open_warehouse(home).verify()
    (found,) = report.damage
    assert (found.table, found.file, found.version) == ("t", "part-0.parquet", 1)
    assert re.search(problem, found.problem), found.problem
    with pytest.raises(TableDamaged) as raised:
        open_warehouse(home).read("t")
    message = str(raised.value)
    assert "\n" not in message and message.endswith(REPAIR_HINT)
    assert "table 't' is damaged: file part-0.parquet" in message and str(path) in message
    info = status(open_warehouse(home))  # status reads what it can and lists the damage; it does not fail
    assert info["tables"]["t"] is None
    assert [(d["table"], d["file"]) for d in info["integrity"]["damage"]] == [("t", "part-0.parquet")]


def test_flipped_bytes_in_papers_are_found_before_any_result_is_computed(home, tmp_path):
    wh = open_warehouse(home)
    backfill_paths(wh, [write_jsonl(tmp_path / "a.jsonl", [record(f"2001.{i:05d}") for i in range(40)])],
                   progress=False)
    flip(Path(wh.files("papers")[0]))
    with pytest.raises(TableDamaged, match="table 'papers' is damaged: file year=2007/bucket-00.parquet"):
        open_warehouse(home).papers(categories=["cs.CL"])


def test_a_vanished_version_an_unreadable_record_and_a_stray_file_are_damage(home):
    wh = open_warehouse(home)
    for name in ("gone", "record", "stray"):
        wh.write_table(name, frame())
    os.rename(only_file(wh, "gone").parent, home / "elsewhere")  # the link now points nowhere
    sums_path(only_file(wh, "record").parent).write_text("{not json")
    frame(4).write_parquet(only_file(wh, "stray").parent / "extra.parquet")
    found = {d.table: d for d in open_warehouse(home).verify().damage}
    assert found["gone"].kind == "version" and "is gone" in found["gone"].problem
    assert found["record"].kind == "version" and found["record"].problem == "has an unreadable checksum record"
    assert found["stray"].kind == "stray" and found["stray"].file == "extra.parquet"
    assert open_warehouse(home).has_table("gone")  # damaged, not absent: readers fail instead of skipping it
    with pytest.raises(TableDamaged, match="table 'gone' is damaged: its current version"):
        open_warehouse(home).scan("gone")
    assert len(open_warehouse(home).read("stray")) == 200  # the extra file is not part of the table


def test_writing_a_damaged_table_anew_heals_it_and_clears_what_status_knew(home):
    wh = open_warehouse(home)
    wh.write_table("t", frame())
    flip(only_file(wh, "t"))
    report = wh.verify()
    record_verification(wh.settings, report, complete=True)
    assert len(known_damage(wh.settings, wh.tables)) == 1
    wh.write_table("t", frame(100))  # a full rewrite does not need to read the damaged version
    assert wh.verify().ok and known_damage(wh.settings, wh.tables) == []


def test_a_version_written_before_checksums_is_read_and_footer_checked(home):
    wh = open_warehouse(home)
    wh.write_table("t", frame())
    path = only_file(wh, "t")
    sums_path(path.parent).unlink()
    report = wh.verify()
    assert report.ok and report.unrecorded == ["t"]
    assert wh.read("t").shape == (200, 3)
    truncate(path)
    assert "too short" in wh.verify().damage[0].problem or "PAR1" in wh.verify().damage[0].problem
    wh.write_table("t", frame())
    assert wh.verify().unrecorded == []


def test_verify_of_an_unknown_table_is_a_clear_error(home):
    wh = open_warehouse(home)
    wh.write_table("t", frame())
    with pytest.raises(InputError, match="no table named 'nope'.*tables: t"):
        wh.verify(["nope"])


# -- object storage --------------------------------------------------------------------------------------
def test_manifests_record_sizes_rows_and_digests_and_verify_reads_the_objects(memory_url):
    wh = open_warehouse(memory_url)
    wh.write_table("t", frame())
    wh.write_table("t", frame(100))
    fs, root = fsspec.core.url_to_fs(memory_url)
    manifest = json.loads(fs.cat_file(f"{root}/warehouse/_manifests/t.json"))
    (entry,) = manifest["files"]
    assert manifest["sizes"][entry] == len(fs.cat_file(f"{root}/warehouse/{entry}")) and manifest["rows"][entry] == 100
    assert manifest["previous"]["rows"] and manifest["previous"]["digests"]  # the version before, checkable
    assert wh.verify().ok
    data = bytearray(fs.cat_file(f"{root}/warehouse/{entry}"))
    data[len(data) // 2] ^= 0xFF
    fs.pipe_file(f"{root}/warehouse/{entry}", bytes(data))
    (found,) = open_warehouse(memory_url).verify().damage
    assert found.problem.startswith("does not match its checksum") and found.location.startswith("memory://")
    older = newest_intact(open_warehouse(memory_url), "t")
    assert older is not None and older.number == 1
    restore_version(open_warehouse(memory_url), "t", older)
    assert open_warehouse(memory_url).verify().ok and open_warehouse(memory_url).read("t").shape == (200, 3)
    fs.pipe_file(f"{root}/warehouse/_manifests/t.json", b"{broken")
    with pytest.raises(TableDamaged, match="table 't' is damaged: its current version .* unreadable manifest"):
        open_warehouse(memory_url).read("t")


# -- the warehouse side of repair --------------------------------------------------------------------------
def test_the_newest_intact_version_is_restored_by_reference(home):
    wh = open_warehouse(home)
    wh.write_table("t", frame())
    wh.write_table("t", frame(50))
    truncate(only_file(wh, "t"))
    older = newest_intact(wh, "t")
    assert older.number == 1
    restore_version(wh, "t", older)
    assert wh.verify().ok and wh.read("t").shape == (200, 3) and wh.tables.current("t").number == 3


def test_damaged_papers_files_are_rebuilt_from_the_recorded_inputs(home, tmp_path):
    inputs = [write_jsonl(tmp_path / "a.jsonl", [record(f"2001.{i:05d}") for i in range(40)]),
              write_jsonl(tmp_path / "b.jsonl", [record(f"2002.{i:05d}", versions=2) for i in range(30)])]
    wh = open_warehouse(home)
    backfill_paths(wh, inputs, progress=False)
    before = wh.scan_papers().drop("ingested_at").collect().sort("id")
    paths = wh.files("papers")
    flip(Path(paths[0]))
    delete(Path(paths[3]))
    damaged = {d.file for d in wh.verify().damage}
    assert len(damaged) == 2
    sources = find_sources(wh.settings)
    assert sources.inputs == [p.resolve() for p in inputs] and not sources.missing
    rebuilt = rebuild_from_sources(sources, tmp_path / "scratch")
    result = replace_files(wh, "papers", damaged, rebuilt.tables.current("papers"))
    assert sorted(result["replaced"]) == sorted(damaged) and not result["dropped"]
    assert all(now == before_ for now, before_ in result["rows"].values())  # as many rows as when written
    assert wh.verify().ok
    assert wh.scan_papers().drop("ingested_at").collect().sort("id").equals(before)
