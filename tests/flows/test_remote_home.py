"""The CLI and the flows with a URL as the data root (tables behind fsspec, the rest in a local folder)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from flows import steps
from flows.caching import aggregate_key, table_version
from flows.cli import cli
from tests.flows.helpers import run_flow
from tests.reports.synthetic import write_synthetic_warehouse
from tests.warehouse.snapshot_fixtures import record, write_jsonl
from warehouse import open_warehouse


def test_cli_backfill_aggregate_status_on_a_file_url_home(local_home: Path, tmp_path: Path) -> None:
    bucket = tmp_path / "bucket"
    url = f"file://{bucket}"
    src = write_jsonl(tmp_path / "snap.jsonl", [record(f"{yy:02d}0{m}.{i:05d}", versions=0)
                                                for yy in (22, 23) for m in range(1, 7) for i in range(4)])
    runner = CliRunner()
    result = runner.invoke(cli, ["--home", url, "backfill", "--json", str(src)])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["inserted"] == 48
    env = {"ARXIV_TRENDS_HOME": url}
    result = runner.invoke(cli, ["aggregate", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert "metrics/coverage_monthly" in json.loads(result.output)["tables"]
    result = runner.invoke(cli, ["status", "--json"], env=env)
    assert result.exit_code == 0, result.output
    info = json.loads(result.output)
    assert info["home"] == url and info["local_dir"] == str(local_home)
    assert info["papers"] == 48 and info["by_year"] == {"2022": 24, "2023": 24}
    assert "metrics/coverage_monthly" in info["tables"]
    assert set(info["last_runs"]) >= {"backfill", "aggregate"}
    text = runner.invoke(cli, ["--home", url, "status"]).output
    assert f"data root: {url}" in text and f"local working folder: {local_home}" in text
    # tables on the "bucket" as manifests and immutable objects; everything else in the local folder
    warehouse = bucket / "warehouse"
    assert sorted(p.name for p in warehouse.iterdir()) == [".versions", "_manifests"]
    assert not any(p.is_symlink() for p in bucket.rglob("*"))
    assert {p.relative_to(warehouse / "_manifests").as_posix() for p in (warehouse / "_manifests").rglob("*.json")} \
        >= {"papers.json", "metrics/coverage_monthly.json"}
    assert (local_home / "state" / "runs.json").exists() and (local_home / "state" / "warehouse.lock").exists()
    assert not (bucket / "state").exists()


def test_report_cli_reads_the_tables_from_a_url_home(memory_url: str, tmp_path: Path) -> None:
    write_synthetic_warehouse(memory_url)
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["--home", memory_url, "report", "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["pages"] > 10 and (out / "index.html").exists()


def test_cache_keys_follow_the_manifests(memory_url: str) -> None:
    wh = write_synthetic_warehouse(memory_url, optional=False)
    papers, classes = table_version(wh, "papers"), table_version(wh, "classifications")
    assert papers.startswith("000001@") and len(classes) == 32
    key = aggregate_key(None, {"wh": wh})
    wh.write_table("classifications", wh.scan("classifications").collect())  # same bytes, new version
    assert table_version(wh, "classifications") == classes and aggregate_key(None, {"wh": wh}) == key
    wh.write_table("papers", wh.scan("papers").collect().head(3), partition_by="year")
    assert table_version(wh, "papers").startswith("000002@") and aggregate_key(None, {"wh": wh}) != key
    assert table_version(wh, "nope") is None


@pytest.mark.usefixtures("prefect_harness")
def test_the_pipeline_flow_runs_against_a_url_home(memory_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from flows.pipeline import daily_pipeline

    write_synthetic_warehouse(memory_url)
    monkeypatch.setitem(steps.ENTRY_POINTS, "classify", ("analytics.not_built_yet", "classify_warehouse"))
    first, _ = run_flow(daily_pipeline, home=memory_url, harvest=False)
    status = {name: s["status"] for name, s in first["steps"].items()}
    assert status == {"harvest": "skipped", "classify": "skipped", "aggregate": "done", "report": "done"}
    assert first["home"] == memory_url
    wh = open_warehouse(memory_url)
    assert first["report_url"] == (wh.settings.reports_dir / "index.html").as_uri()
    second, _ = run_flow(daily_pipeline, home=memory_url, harvest=False)
    assert second["steps"]["aggregate"]["status"] == "cached" and second["steps"]["report"]["status"] == "cached"
