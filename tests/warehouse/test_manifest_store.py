"""Tables behind an fsspec URL (object storage): manifest commits, references, pruning, the lease lock.

``memory://`` is truly non-local (no os paths at all); ``file://`` URLs exercise the local-filesystem variant
(write-then-rename manifests) and a real SIGKILL.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import fsspec
import pandas as pd
import polars as pl
import pytest

from tests.warehouse.snapshot_fixtures import record, write_jsonl
from warehouse import Settings, Warehouse, open_warehouse
from warehouse import manifest_store
from warehouse.backfill import backfill_paths
from warehouse.errors import WarehouseLocked
from warehouse.status import status
from warehouse.tables import Abandon, TableStore


@pytest.fixture
def url(memory_url: str) -> str:
    return memory_url


def objects(location: str, under: str = "") -> list[str]:
    """Every object below ``location`` (relative paths), sorted."""
    fs, root = fsspec.core.url_to_fs(location)
    root = root.rstrip("/")
    fs.invalidate_cache()
    base = f"{root}/{under}".rstrip("/")
    if not fs.exists(base):
        return []
    return sorted(p[len(root) + 1:] for p in fs.find(base))


def manifest(location: str, name: str) -> dict:
    fs, root = fsspec.core.url_to_fs(location)
    return json.loads(fs.cat_file(f"{root.rstrip('/')}/warehouse/_manifests/{name}.json"))


def frame() -> pl.DataFrame:
    return pl.DataFrame({
        "id": ["a", "b", "c", "d"],
        "year": [2020, 2021, 2021, 2023],
        "authors": [["x", "y"], [], ["z"], None],
        "submitted": [datetime(2020, 5, 1, tzinfo=timezone.utc), datetime(2021, 1, 2, tzinfo=timezone.utc),
                      datetime(2021, 7, 3, tzinfo=timezone.utc), datetime(2023, 2, 4, tzinfo=timezone.utc)],
        "score": [0.5, 0.25, 1.0, None],
    }).with_columns(pl.col("submitted").dt.cast_time_unit("us"))


def years_records(per_year: int = 12) -> list[dict]:
    """Records whose trend date comes from the id (no versions): years 2020-2024, many buckets."""
    return [record(f"{yy:02d}01.{i:05d}", versions=0) for yy in range(20, 25) for i in range(per_year)]


# -- settings --------------------------------------------------------------------------------------
def test_settings_of_a_url_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARXIV_TRENDS_LOCAL_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    s = Settings.from_home("s3://bucket/prefix/")
    assert s.is_remote and s.url == "s3://bucket/prefix" and s.location == "s3://bucket/prefix"
    assert s.warehouse_url == "s3://bucket/prefix/warehouse"
    assert s.home.parent == tmp_path / "cache" / "arxiv-trends" and s.home.name.startswith("s3-bucket-prefix-")
    assert s.state_dir == s.home / "state" and s.models_dir == s.home / "models" and s.raw_dir == s.home / "raw"
    assert Settings.from_home("s3://bucket/other").home != s.home
    with pytest.raises(ValueError, match="no local folder"):
        s.table_dir("papers")
    monkeypatch.setenv("ARXIV_TRENDS_LOCAL_HOME", str(tmp_path / "work"))
    assert Settings.from_home("gs://b/p").home == tmp_path / "work"
    monkeypatch.chdir(tmp_path)
    assert Settings.from_home("file://rel/dir").url == f"file://{tmp_path / 'rel' / 'dir'}"
    local = Settings.from_home(tmp_path / "h")
    assert not local.is_remote and local.url is None and local.warehouse_url is None
    assert local.location == str(tmp_path / "h") and local.table_dir("papers") == tmp_path / "h" / "warehouse" / "papers"
    monkeypatch.setenv("ARXIV_TRENDS_HOME", "memory://from-env")
    assert Settings.from_home().url == "memory://from-env"
    assert isinstance(open_warehouse(tmp_path / "h").tables, TableStore)


# -- reading and writing ---------------------------------------------------------------------------
def test_round_trip_with_hive_partitions_matches_a_local_table(url: str, tmp_path: Path) -> None:
    remote, local = open_warehouse(url), open_warehouse(tmp_path / "plain")
    for wh in (remote, local):
        with wh.lock():
            wh.write_table("t", frame(), partition_by="year")
            wh.write_table("metrics/flat", frame())
    for name in ("t", "metrics/flat"):
        got, want = remote.scan(name).collect(), local.scan(name).collect()
        assert got.schema == want.schema
        assert got.sort("id").equals(want.sort("id"))
    assert remote.scan("t").collect_schema()["year"] == pl.Int64
    assert remote.scan("t").filter(pl.col("year") == 2021).select("id").collect()["id"].sort().to_list() == ["b", "c"]
    df = remote.read("t", columns=["id", "year", "submitted"])
    assert isinstance(df, pd.DataFrame) and str(df["submitted"].dtype) == "datetime64[us, UTC]"
    assert sorted(df["year"].tolist()) == [2020, 2021, 2021, 2023]
    files = remote.files("t")
    assert len(files) == 3 and all(f.startswith("memory://") and "/.versions/t/000001/year=" in f for f in files)
    assert pd.read_parquet(files[0])["id"].tolist() == ["a"]  # pandas reads a listed file through fsspec
    assert remote.tables.names() == ["metrics/flat", "t"] == local.tables.names()
    assert not remote.has_table("nope") and remote.has_table("metrics/flat")
    with pytest.raises(FileNotFoundError, match="does not exist yet under memory://"):
        remote.scan("nope")
    assert objects(url) == sorted(f"warehouse/{p}" for p in
                                  [".versions/metrics/flat/000001/part-0.parquet", "_manifests/metrics/flat.json",
                                   "_manifests/t.json"]
                                  + [f".versions/t/000001/year={y}/part-0.parquet" for y in (2020, 2021, 2023)])


def test_backfill_on_a_url_home_matches_local_and_reimport_changes_nothing(url: str, tmp_path: Path) -> None:
    src = write_jsonl(tmp_path / "snap.jsonl", years_records())
    remote, local = open_warehouse(url), open_warehouse(tmp_path / "plain")
    first = backfill_paths(remote, [src], progress=False)
    backfill_paths(local, [src], progress=False)
    assert first.inserted == 60
    got = remote.scan_papers().drop("ingested_at").collect().sort("id")
    assert got.equals(local.scan_papers().drop("ingested_at").collect().sort("id"))
    assert got.schema == local.scan_papers().drop("ingested_at").collect_schema()
    before = manifest(url, "papers")
    again = backfill_paths(remote, [src], progress=False)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 60)
    assert manifest(url, "papers") == before  # no new version was even made
    assert remote.papers(since="2024-01-01", columns=["id"])["id"].str[:2].unique().tolist() == ["24"]
    assert remote.papers(until=datetime(2021, 1, 1), categories=["cs.LG"]).shape[0] == 12
    assert (remote.settings.state_dir / "runs.json").exists()  # state stays in the local working folder
    assert not any(p.is_symlink() for p in remote.settings.home.rglob("*"))


def test_second_upsert_uploads_only_the_changed_bucket(url: str, tmp_path: Path) -> None:
    wh = open_warehouse(url)
    backfill_paths(wh, [write_jsonl(tmp_path / "a.jsonl", years_records())], progress=False)
    v1 = manifest(url, "papers")
    assert v1["version"] == 1 and len(v1["files"]) > 20
    # one newer version of one paper: only its bucket file changes
    newer = record("2201.00003", versions=0, title="Revised title", update_date="2025-01-01")
    newer["versions"] = [{"version": "v2", "created": "Sat, 1 Jan 2022 10:00:00 GMT"}]
    summary = backfill_paths(wh, [write_jsonl(tmp_path / "b.jsonl", [newer])], progress=False)
    assert summary.updated == 1
    v2 = manifest(url, "papers")
    assert v2["version"] == 2 and len(v2["files"]) == len(v1["files"])
    uploaded = objects(url, "warehouse/.versions/papers/000002")
    assert uploaded == ["warehouse/.versions/papers/000002/year=2022/bucket-03.parquet"]
    referenced = [f for f in v2["files"] if "/000001/" in f]
    assert len(referenced) == len(v1["files"]) - 1  # every other file is the version-1 object, not a copy
    assert set(v2["digests"]) == set(v2["files"])
    row = wh.scan_papers().filter(pl.col("id") == "2201.00003").collect()
    assert row["title"].to_list() == ["Revised title"] and row["version"].to_list() == [2]


def test_an_exception_inside_new_version_leaves_the_table_unchanged(url: str) -> None:
    wh = open_warehouse(url)
    wh.write_table("t", frame(), partition_by="year")
    before = objects(url)
    with pytest.raises(RuntimeError, match="boom"):
        with wh.tables.new_version("t") as build:
            pl.DataFrame({"id": ["z"]}).write_parquet(build.folder / "part-0.parquet")
            raise RuntimeError("boom")
    with wh.tables.new_version("t") as build:
        pl.DataFrame({"id": ["z"]}).write_parquet(build / "part-0.parquet")  # the builder acts as its folder
        raise Abandon
    assert objects(url) == before
    assert wh.scan("t").collect().height == 4
    assert not list((wh.settings.warehouse_dir / ".staging").glob("*"))  # local staging cleaned up
    assert not wh._lock.held and manifest_store.LEASE_NAME not in " ".join(objects(url))


def test_a_crash_before_the_manifest_keeps_the_old_version_and_orphans_are_swept(
        url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    wh = open_warehouse(url)
    wh.write_table("t", frame(), partition_by="year")
    real = manifest_store.ManifestTableStore.put_object

    def crash(self, path, data):
        raise ConnectionError("the network went away")

    monkeypatch.setattr(manifest_store.ManifestTableStore, "put_object", crash)
    with pytest.raises(ConnectionError):
        with wh.tables.new_version("t") as build:
            pl.DataFrame({"id": ["new"]}).write_parquet(build.folder / "part-0.parquet")
            (build.folder / "junk.bin").write_bytes(b"x")
    orphans = objects(url, "warehouse/.versions/t/000002")
    assert len(orphans) == 2  # uploaded, never committed
    assert sorted(wh.scan("t").collect()["id"].to_list()) == ["a", "b", "c", "d"]  # readers still see version 1
    assert manifest(url, "t")["version"] == 1
    monkeypatch.setattr(manifest_store.ManifestTableStore, "put_object", real)
    wh.write_table("t", pl.DataFrame({"id": ["e"]}))
    assert wh.scan("t").collect()["id"].to_list() == ["e"]
    m = manifest(url, "t")
    kept = set(m["files"]) | set(m["previous"]["files"])
    assert {f"warehouse/{f}" for f in kept} == set(objects(url, "warehouse/.versions"))
    assert "warehouse/.versions/t/000002/junk.bin" not in objects(url)


def test_pruning_keeps_the_current_and_the_previous_version(url: str) -> None:
    wh = open_warehouse(url)
    pinned = []
    for i in range(4):
        wh.write_table("t", pl.DataFrame({"id": [f"v{i}"]}))
        pinned.append(wh.tables.current("t"))
    assert objects(url, "warehouse/.versions") == [f"warehouse/.versions/t/00000{n}/part-0.parquet" for n in (3, 4)]
    assert pinned[2].scan().collect()["id"].to_list() == ["v2"]  # a reader still open on the previous version
    assert pinned[3].scan().collect()["id"].to_list() == ["v3"]
    assert wh.tables.version_id("t").startswith("000004@")
    same = wh.tables.content_id("t")
    wh.write_table("t", pl.DataFrame({"id": ["v3"]}))
    assert wh.tables.content_id("t") == same  # identical bytes: identical content id (from the manifest)
    assert wh.tables.version_id("t").startswith("000005@")


def test_file_url_round_trip_and_atomic_manifest(local_home: Path, tmp_path: Path) -> None:
    root = tmp_path / "bucket"
    wh = open_warehouse(f"file://{root}")
    assert wh.settings.url == f"file://{root}" and wh.settings.home == local_home
    wh.write_table("t", frame(), partition_by="year")
    wh.write_table("t", frame().filter(pl.col("year") > 2020), partition_by="year")
    assert sorted(wh.scan("t").collect()["id"].to_list()) == ["b", "c", "d"]
    assert wh.tables.names() == ["t"]
    assert not any(p.is_symlink() for p in root.rglob("*"))
    assert sorted(p.name for p in (root / "warehouse" / "_manifests").iterdir()) == ["t.json"]  # no temp left
    assert json.loads((root / "warehouse" / "_manifests" / "t.json").read_text())["version"] == 2
    assert wh.files("t")[0].startswith(f"file://{root}/warehouse/.versions/t/000002/")


def test_status_on_a_url_home(url: str, tmp_path: Path) -> None:
    wh = open_warehouse(url)
    backfill_paths(wh, [write_jsonl(tmp_path / "a.jsonl", years_records(3))], progress=False)
    wh.write_table("metrics/coverage_monthly", frame())
    info = status(wh)
    assert info["home"] == url and info["local_dir"] == str(wh.settings.home)
    assert info["papers"] == 15 and info["by_year"] == {str(y): 3 for y in range(2020, 2025)}
    assert info["tables"] == {"metrics/coverage_monthly": 4}


# -- the lease lock ----------------------------------------------------------------------------------
def _other_process_view(wh: Warehouse, tmp_path: Path) -> Warehouse:
    """The same URL seen from another working folder (its own flock): only the lease stands between them."""
    return Warehouse(replace(wh.settings, home=tmp_path / "elsewhere"))


def _write_lease(url: str, **info) -> None:
    fs, root = fsspec.core.url_to_fs(url)
    fs.pipe_file(f"{root.rstrip('/')}/warehouse/{manifest_store.LEASE_NAME}", json.dumps(info).encode())


def _read_lease(url: str) -> dict:
    fs, root = fsspec.core.url_to_fs(url)
    return json.loads(fs.cat_file(f"{root.rstrip('/')}/warehouse/{manifest_store.LEASE_NAME}"))


def test_a_second_holder_fails_clearly_until_the_lease_is_released(url: str, tmp_path: Path) -> None:
    wh = open_warehouse(url)
    other = _other_process_view(wh, tmp_path)
    with wh.lock():
        lease = _read_lease(url)
        assert lease["pid"] == os.getpid() and lease["host"] == socket.gethostname() and lease["token"]
        with pytest.raises(WarehouseLocked, match=rf"at {url} is being written by pid {os.getpid()} on "):
            other.write_table("t", frame())
        wh.write_table("t", frame())  # re-entrant for the holder
    assert manifest_store.LEASE_NAME not in " ".join(objects(url))  # deleted on release
    other.write_table("t", frame().head(1))
    assert wh.scan("t").collect().height == 1


def test_a_lease_of_another_host_is_respected_until_it_is_stale(url: str) -> None:
    now = datetime.now(timezone.utc)
    _write_lease(url, pid=4242, host="other-host", command="arxiv-trends run", since=now.isoformat(),
                 renewed_at=now.isoformat(), token="theirs")
    wh = open_warehouse(url)
    with pytest.raises(WarehouseLocked, match=r"being written by pid 4242 on other-host \(arxiv-trends run"):
        wh.write_table("t", frame())
    assert not wh._lock.held and not wh.has_table("t")
    old = (now - timedelta(hours=7)).isoformat()
    _write_lease(url, pid=4242, host="other-host", command="arxiv-trends run", since=old, renewed_at=old,
                 token="theirs")
    wh.write_table("t", frame())  # stale (older than 6 h): taken over
    assert wh.has_table("t") and manifest_store.LEASE_NAME not in " ".join(objects(url))
    short = replace(wh.settings, lock_stale_s=60.0)
    recent = (now - timedelta(minutes=5)).isoformat()
    _write_lease(url, pid=4242, host="other-host", since=recent, renewed_at=recent, token="theirs")
    Warehouse(short).write_table("t", frame())  # the stale timeout is configurable


def test_a_lease_left_by_a_dead_process_on_this_host_is_taken_over(url: str) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    now = datetime.now(timezone.utc).isoformat()
    _write_lease(url, pid=int(dead.stdout), host=socket.gethostname(), since=now, renewed_at=now, token="gone")
    open_warehouse(url).write_table("t", frame())


def test_a_lost_lease_stops_the_commit(url: str) -> None:
    wh = open_warehouse(url)
    wh.write_table("t", frame())
    with wh.lock():
        now = datetime.now(timezone.utc).isoformat()
        _write_lease(url, pid=1, host="thief", since=now, renewed_at=now, token="stolen")
        with pytest.raises(WarehouseLocked, match="lease on .* was lost to pid 1 on thief"):
            wh.write_table("t", frame().head(1))
    assert wh.scan("t").collect().height == 4 and manifest(url, "t")["version"] == 1
    assert _read_lease(url)["token"] == "stolen"  # not ours to delete


def test_a_writer_killed_before_its_manifest_leaves_the_old_table(local_home: Path, tmp_path: Path) -> None:
    """A real SIGKILL after the new files are uploaded, before the manifest: old table, lease taken over."""
    home = f"file://{tmp_path / 'bucket'}"
    wh = open_warehouse(home)
    backfill_paths(wh, [write_jsonl(tmp_path / "a.jsonl", [record("0704.0001")])], progress=False)
    script = f"""
import os, signal
from warehouse import open_warehouse, manifest_store
from warehouse.backfill import backfill_paths
def die(self, path, data):
    os.kill(os.getpid(), signal.SIGKILL)
manifest_store.ManifestTableStore.put_object = die
backfill_paths(open_warehouse({home!r}), [{str(write_jsonl(tmp_path / 'b.jsonl', [record('0704.0002')]))!r}],
               progress=False)
"""
    proc = subprocess.run([sys.executable, "-c", script], cwd=os.getcwd(), env={**os.environ})
    assert proc.returncode == -9
    assert (tmp_path / "bucket" / "warehouse" / manifest_store.LEASE_NAME).exists()  # left by the dead writer
    assert list((tmp_path / "bucket" / "warehouse" / ".versions" / "papers" / "000002").rglob("*.parquet"))
    assert wh.scan_papers().collect()["id"].to_list() == ["0704.0001"]
    summary = backfill_paths(wh, [tmp_path / "b.jsonl"], progress=False)
    assert summary.inserted == 1
    assert sorted(wh.scan_papers().collect()["id"].to_list()) == ["0704.0001", "0704.0002"]
    m = manifest(home, "papers")
    on_disk = {p.relative_to(tmp_path / "bucket" / "warehouse").as_posix()
               for p in (tmp_path / "bucket" / "warehouse" / ".versions").rglob("*") if p.is_file()}
    assert on_disk == set(m["files"]) | set(m["previous"]["files"])
