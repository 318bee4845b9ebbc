"""The object-storage data root against a real S3 API: s3fs talking to moto's S3 server on 127.0.0.1.

Optional (``pip install -e .[s3] moto[server]``): CI does not install s3fs or moto, so these tests skip there with
the reason; the ``memory://`` and ``file://`` tests of ``test_manifest_store.py`` cover the same logic everywhere.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("s3fs", reason="s3fs is not installed (pip install -e .[s3]); the S3 tests need it")
moto_server = pytest.importorskip("moto.server", reason="moto is not installed (pip install 'moto[server]')")

import fsspec  # noqa: E402

from tests.warehouse.snapshot_fixtures import record, write_jsonl  # noqa: E402
from warehouse import open_warehouse  # noqa: E402
from warehouse.backfill import backfill_paths  # noqa: E402
from warehouse.errors import WarehouseLocked  # noqa: E402


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def s3_endpoint():
    """A moto S3 server for this module, with s3fs pointed at it through fsspec's configuration."""
    port = _free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")}
    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    before = fsspec.config.conf.get("s3")
    fsspec.config.conf["s3"] = {"endpoint_url": f"http://127.0.0.1:{port}"}
    fsspec.filesystem("s3", skip_instance_cache=True).mkdir("arxiv-trends-test")
    yield f"http://127.0.0.1:{port}"
    if before is None:
        fsspec.config.conf.pop("s3", None)
    else:
        fsspec.config.conf["s3"] = before
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    server.stop()


@pytest.fixture
def url(s3_endpoint: str, local_home: Path) -> str:
    return f"s3://arxiv-trends-test/{uuid.uuid4().hex[:12]}"


def _objects(url: str, under: str) -> list[str]:
    fs, root = fsspec.core.url_to_fs(url)
    fs.invalidate_cache()
    base = f"{root}/{under}"
    return sorted(p[len(root) + 1:] for p in fs.find(base)) if fs.exists(base) else []


def _manifest(url: str, name: str) -> dict:
    fs, root = fsspec.core.url_to_fs(url)
    fs.invalidate_cache()
    return json.loads(fs.cat_file(f"{root}/warehouse/_manifests/{name}.json"))


def _records() -> list[dict]:
    return [record(f"{yy:02d}01.{i:05d}", versions=0) for yy in range(20, 24) for i in range(10)]


def test_backfill_to_s3_reads_back_like_a_local_warehouse_and_reimport_changes_nothing(url: str, tmp_path: Path):
    src = write_jsonl(tmp_path / "snap.jsonl", _records())
    remote, local = open_warehouse(url), open_warehouse(tmp_path / "plain")
    assert backfill_paths(remote, [src], progress=False).inserted == 40
    backfill_paths(local, [src], progress=False)
    got = remote.scan_papers().drop("ingested_at").collect().sort("id")
    assert got.equals(local.scan_papers().drop("ingested_at").collect().sort("id"))
    assert remote.papers(since="2023-01-01", columns=["id"]).shape == (10, 1)  # pandas read with a filter
    before = _manifest(url, "papers")
    again = backfill_paths(remote, [src], progress=False)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 40)
    assert _manifest(url, "papers") == before


def test_a_change_to_one_paper_uploads_one_object(url: str, tmp_path: Path):
    wh = open_warehouse(url)
    backfill_paths(wh, [write_jsonl(tmp_path / "a.jsonl", _records())], progress=False)
    newer = record("2101.00004", versions=0, title="Revised title", update_date="2025-01-01")
    newer["versions"] = [{"version": "v2", "created": "Fri, 1 Jan 2021 10:00:00 GMT"}]
    assert backfill_paths(wh, [write_jsonl(tmp_path / "b.jsonl", [newer])], progress=False).updated == 1
    assert len(_objects(url, "warehouse/.versions/papers/000002")) == 1
    assert wh.scan_papers().filter(pl.col("id") == "2101.00004").collect()["title"].to_list() == ["Revised title"]


def test_the_lease_on_s3_keeps_a_second_writer_out(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    wh = open_warehouse(url)
    monkeypatch.setenv("ARXIV_TRENDS_LOCAL_HOME", str(tmp_path / "other-host"))  # another local working folder
    other = open_warehouse(url)
    table = pl.DataFrame({"x": [1, 2, 3]})
    with wh.lock():
        with pytest.raises(WarehouseLocked, match="is being written by pid"):
            other.write_table("t", table)
        wh.write_table("t", table)
    assert "warehouse/_lock.json" not in _objects(url, "warehouse")
    other.write_table("t", table.head(1))
    assert wh.scan("t").collect()["x"].to_list() == [1]
