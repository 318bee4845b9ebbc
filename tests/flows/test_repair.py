"""`arxiv-trends verify` and `repair` on a small real warehouse (2,000 real records, classified, aggregated).

The chaos test corrupts one file of every table (a seeded random choice of file and of the bytes flipped):
verify must name each, repair must bring back a warehouse whose contents equal the original. No model is
fitted here: repair reclassifies with the model the session's ``classified`` fixture already fitted
(``classify --all``), rebuilds ``papers`` files from the recorded backfill inputs and recomputes the metrics.
"""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import fsspec
import polars as pl
from click.testing import CliRunner

from flows.cli import cli
from tests.flows.conftest import copy_home
from warehouse import open_warehouse
from warehouse.backfill import backfill_paths

# Columns that say when a row was written: a rebuild writes them anew (everything else must be equal).
WRITE_TIMES = ("ingested_at", "classified_at")


def contents(home: Path) -> dict[str, pl.DataFrame]:
    """Every table's rows in a canonical order, without the write-time columns."""
    wh = open_warehouse(home)
    out = {}
    for name in wh.tables.names():
        frame = wh.scan(name).collect()
        frame = frame.drop([c for c in WRITE_TIMES if c in frame.columns])
        keys = [c for c, t in frame.schema.items() if not isinstance(t, (pl.List, pl.Array, pl.Struct))]
        out[name] = frame.sort(keys, nulls_last=True)
    return out


def corrupt(path: Path, rng: random.Random) -> None:
    """Flip up to 200 bytes at a random place, leaving the size as it was."""
    data = bytearray(path.read_bytes())
    start = rng.randrange(0, max(1, len(data) - 200))
    for i in range(start, min(len(data), start + 200)):
        data[i] ^= 0xA5
    path.write_bytes(bytes(data))


def invoke(home: Path, *args: str):
    return CliRunner().invoke(cli, ["--home", str(home), *args])


def test_chaos_a_random_file_of_every_table_is_found_and_repaired(aggregated, tmp_path):
    home = copy_home(aggregated, tmp_path / "home")
    before = contents(home)
    wh = open_warehouse(home)
    rng = random.Random(16)
    damaged = {}
    for name in wh.tables.names():
        version = wh.tables.current(name)
        rel = rng.choice(version.parquet)
        corrupt(Path(version.files[rel]), rng)
        damaged[name] = rel
    assert len(damaged) >= 13  # papers, embeddings, 5 classification tables, 7 metrics tables

    verify = invoke(home, "verify")
    assert verify.exit_code == 1 and "Traceback" not in verify.output
    found = {}
    for line in verify.stdout.splitlines():
        if line.startswith("damaged: "):
            table, rest = line[len("damaged: "):].split(": file ", 1)
            found[table] = rest.split(" ", 1)[0]
    assert found == damaged  # one line per damaged file, naming its table and file
    assert verify.stderr.strip().splitlines()[-1].startswith(f"error: {len(damaged)} damaged file(s) in ")

    repair = invoke(home, "repair")
    assert repair.exit_code == 0, repair.output
    assert "NOT RESTORED" not in repair.stdout and "verify afterwards: all intact" in repair.stdout
    after = contents(home)
    assert set(after) == set(before)
    for name in before:
        assert after[name].equals(before[name]), f"{name} differs after repair"
    kept = {p.relative_to(next((home / "damaged").iterdir())).parts[0] for p in (home / "damaged").rglob("*.parquet")}
    assert {name.split("/")[0] for name in damaged} <= kept  # every damaged file is kept aside
    assert invoke(home, "verify").exit_code == 0
    assert invoke(home, "status").stdout.count("DAMAGED") == 0


def test_without_its_inputs_papers_comes_back_as_its_newest_intact_version(corpus, tmp_path):
    inputs = [shutil.copy(p, tmp_path / p.name) for p in corpus[:2]]
    home = tmp_path / "home"
    backfill_paths(open_warehouse(home), [inputs[0]], progress=False)
    first = open_warehouse(home).scan_papers().drop("ingested_at").collect().sort("id")
    backfill_paths(open_warehouse(home), [inputs[1]], progress=False)
    wh = open_warehouse(home)
    older = {rel: s["blake2b"] for rel, s in wh.tables.versions("papers")[1].sums.items()}
    current = wh.tables.current("papers")
    rewritten = [rel for rel in current.parquet if current.sums[rel]["blake2b"] != older.get(rel)]
    Path(current.files[rewritten[0]]).write_bytes(b"")  # a file of the newest version only
    for path in inputs:
        Path(path).unlink()

    repair = invoke(home, "repair")
    assert repair.exit_code == 1  # restored, but what the second import added is not there
    assert "papers: restored version 1, the newest intact one" in repair.stdout
    assert "NOT RESTORED: papers: what was written after version 1 is not in it" in repair.stdout
    assert repair.stderr.strip().splitlines()[-1].startswith("error: 1 thing(s) could not be restored")
    assert open_warehouse(home).verify().ok
    assert open_warehouse(home).scan_papers().drop("ingested_at").collect().sort("id").equals(first)


def test_a_damaged_model_pointer_is_moved_aside(aggregated, tmp_path):
    home = copy_home(aggregated, tmp_path / "home")
    (home / "models" / "current.json").write_text("{half a file")
    assert "models/current.json is unreadable" in invoke(home, "verify").stdout
    repair = invoke(home, "repair")
    assert repair.exit_code == 0, repair.output
    assert "moved to" in repair.stdout and not (home / "models" / "current.json").exists()
    (kept,) = (home / "damaged").rglob("current.json")
    assert kept.read_text() == "{half a file"
    assert json.loads((home / "state" / "integrity.json").read_text())["damage"] == []


def test_on_object_storage_a_damaged_papers_object_is_rebuilt_from_the_inputs(corpus, memory_url):
    backfill_paths(open_warehouse(memory_url), corpus[:2], progress=False)
    before = open_warehouse(memory_url).scan_papers().drop("ingested_at").collect().sort("id")
    fs, _ = fsspec.core.url_to_fs(memory_url)
    target = open_warehouse(memory_url).files("papers")[1]
    data = bytearray(fs.cat_file(target))
    data[len(data) // 2] ^= 0xFF
    fs.pipe_file(target, bytes(data))
    assert invoke(memory_url, "verify").exit_code == 1
    repair = invoke(memory_url, "repair")
    assert repair.exit_code == 0, repair.output
    assert "papers: rebuilt 1 file(s) from 2 recorded input file(s)" in repair.stdout
    assert open_warehouse(memory_url).scan_papers().drop("ingested_at").collect().sort("id").equals(before)
    assert open_warehouse(memory_url).verify().ok
