"""``arxiv-trends harvest`` end to end: options, messages, and the done-when check on real records with a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from flows.cli import cli
from tests.conftest import shared_path
from tests.warehouse.harvest.fake_arxiv import FakeArxiv, records_from_jsonl, synthetic_records
from warehouse import open_warehouse

CLI = [sys.executable, "-c", "from flows.cli import main; main()"]
COLUMNS = ["id", "version", "title", "abstract", "authors", "categories", "primary_category", "submitted",
           "date_source", "updated", "doi", "journal_ref", "comments", "license", "source"]


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_harvest_json_summary_and_progress_on_stderr(tmp_path):
    with FakeArxiv(synthetic_records(30), page_size=10) as srv:
        result = invoke("--home", str(tmp_path / "h"), "harvest", "--endpoint", srv.oai_url, "--from", "2025-01-01",
                        "--until", "2025-01-05", "--delay", "0", "--set", "cs", "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["inserted"], summary["pages"], summary["watermark"]) == (30, 3, "2025-01-05")
    assert "page 3, 10 records of 30" in result.stderr


def test_human_summary_and_query_mode(tmp_path):
    entries = [{"id": f"2502.{i:05d}", "title": f"T{i}", "abstract": "a", "categories": "cs.CL",
                "x_published": "2025-02-03T00:00:00Z"} for i in range(1, 6)]
    with FakeArxiv(api_entries=entries) as srv:
        result = invoke("--home", str(tmp_path / "h"), "harvest", "--query", "cat:cs.CL", "--max", "3",
                        "--endpoint", srv.api_url, "--delay", "0")
    assert result.exit_code == 0, result.output
    assert "3 records: 3 new" in result.stdout and "the query matches 5" in result.stdout


def test_failures_are_one_line_errors_that_say_how_to_resume(tmp_path):
    result = invoke("--home", str(tmp_path / "h"), "harvest", "--delay", "1")
    assert result.exit_code == 1 and result.stderr.count("\n") == 1 and "politeness floor of 3 s" in result.stderr
    result = invoke("--home", str(tmp_path / "h"), "harvest", "--query", "ti:x", "--category", "cs.CL")
    assert result.exit_code == 1 and "put cat:... in the query" in result.stderr
    with FakeArxiv(synthetic_records(30), page_size=10) as srv:
        srv.faults = {n: "503" for n in range(2, 20)}
        result = invoke("--home", str(tmp_path / "h"), "harvest", "--endpoint", srv.oai_url, "--from", "2025-01-01",
                        "--until", "2025-01-05", "--delay", "0", "--set", "cs", "--retry-budget", "0")
    assert result.exit_code == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "HTTP 503" in last and "page 2" in last and "run the same command" in last


def _run(home: Path, url: str) -> subprocess.CompletedProcess:
    """The done-when command (a loopback endpoint needs no --delay: its default there is 0)."""
    return subprocess.run(CLI + ["--home", str(home), "harvest", "--endpoint", url, "--from", "2025-01-01",
                                 "--json"], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})


def _table(home: Path) -> pl.DataFrame:
    return open_warehouse(home).scan_papers().select(COLUMNS).collect().sort("id")


@pytest.mark.slow
def test_done_when_real_records_killed_midway_give_the_same_table(tmp_path):
    served = records_from_jsonl(shared_path("data", "arxiv", "daily_arxiv_cs_2025_2026-part00.jsonl.gz"), 3000)
    with FakeArxiv(served, page_size=250) as srv:
        clean = _run(tmp_path / "clean", srv.oai_url)
        assert clean.returncode == 0, clean.stderr[-2000:]
        reference = _table(tmp_path / "clean")
        assert sorted(reference["id"]) == sorted(r.id for r in served)
        by_id = {r.id: r.source for r in served}
        assert all(row["title"] == " ".join(by_id[row["id"]]["title"].split()) for row in
                   reference.select("id", "title").iter_rows(named=True))

        srv.latency = 0.05
        start = srv.requests
        proc = subprocess.Popen(CLI + ["--home", str(tmp_path / "killed"), "harvest", "--endpoint", srv.oai_url,
                                       "--from", "2025-01-01"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 240
        while not any("resumptionToken" in e["params"] for e in srv.log[start:]) and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # a few more pages, then kill in the middle of whatever it is doing
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        checkpoint = list((tmp_path / "killed" / "state" / "harvest").glob("*/checkpoint.json"))
        assert checkpoint, "the killed harvest left no checkpoint"
        srv.latency = 0.0
        resumed = _run(tmp_path / "killed", srv.oai_url)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads(resumed.stdout)["resumed"] is True
    assert _table(tmp_path / "killed").drop("source").equals(reference.drop("source"))


def test_sigterm_stops_a_harvest_at_a_safe_point_and_the_next_run_resumes(tmp_path):
    home = tmp_path / "h"
    with FakeArxiv(synthetic_records(200), page_size=10, latency=0.1) as srv:
        args = ["--home", str(home), "harvest", "--endpoint", srv.oai_url, "--from", "2025-01-01", "--until",
                "2025-01-20", "--set", "cs", "--delay", "0"]
        proc = subprocess.Popen(CLI + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "HF_HUB_OFFLINE": "1"})
        deadline = time.monotonic() + 120
        while srv.requests < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 143 and "Traceback" not in stderr, stderr[-2000:]
        assert stderr.strip().splitlines()[-1].startswith("stopped (SIGTERM) at a safe point")
        assert list((home / "state" / "harvest").glob("*/checkpoint.json"))
        wh = open_warehouse(home)
        with wh.lock(wait=0):  # released
            pass
        assert not wh.has_table("papers") or wh.verify().ok
        srv.latency = 0.0
        resumed = invoke(*args, "--json")
    assert resumed.exit_code == 0 and json.loads(resumed.stdout)["resumed"] is True
    assert _table(home)["id"].to_list() == sorted(r.id for r in synthetic_records(200))
