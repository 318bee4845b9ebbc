"""Graceful stop: a real SIGTERM, and a real Prefect cancellation, of a running `arxiv-trends run`.

The run harvests from a slow fake arXiv (each response takes a while), so it is stopped in the middle of the
harvest. Either way it must end at the next safe point: exit 143 with one line, the flow run Cancelled, the
writer lock free, every table whole (the previous version or a complete new one), the harvest checkpoint kept
so that the next run goes on from it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.conftest import shared_path
from tests.flows.helpers import papers_frame
from tests.warehouse.harvest.fake_arxiv import FakeArxiv, records_from_jsonl
from warehouse import Settings, open_warehouse
from warehouse.errors import WarehouseLocked
from warehouse.harvest import DEFAULT_SETS
from warehouse.harvest.checkpoints import Stream, save_watermark

pytestmark = pytest.mark.usefixtures("prefect_harness")

BIN = Path(sys.executable).parent / "arxiv-trends"
SERVED = 400  # real records the fake serves, 20 to a page


@pytest.fixture(scope="module")
def served():
    return records_from_jsonl(shared_path("data", "arxiv", "daily_arxiv_cs_2025_2026-part01.jsonl.gz"), SERVED)


def _start_run(home: Path, fake: FakeArxiv, tmp_path: Path) -> tuple[subprocess.Popen, Path]:
    """`arxiv-trends run` (the real console script) against the session's Prefect API and the fake arXiv, as a
    daily run whose last harvest ended a week after the served papers (so it harvests from their first day)."""
    from prefect.settings import PREFECT_API_URL

    last = date.fromisoformat(max(r.datestamp for r in fake.records)) + timedelta(days=2)
    save_watermark(Settings.from_home(home), Stream(fake.oai_url, "arXivRaw", DEFAULT_SETS, ()), last.isoformat(),
                   "2025-09-18T02:00:00+00:00")
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_HOME": str(tmp_path / "prefect"),
           "HF_HUB_OFFLINE": "1"}
    log = tmp_path / "run.log"
    proc = subprocess.Popen([str(BIN), "--home", str(home), "run", "--endpoint", fake.oai_url, "--delay", "0"],
                            env=env, stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    return proc, log


def _wait_for_harvest(fake: FakeArxiv, proc: subprocess.Popen, log: Path, pages: int = 3) -> None:
    deadline = time.monotonic() + 240
    while fake.requests < pages:
        assert proc.poll() is None, f"the run ended early:\n{log.read_text()[-3000:]}"
        assert time.monotonic() < deadline, f"the harvest did not start:\n{log.read_text()[-3000:]}"
        time.sleep(0.2)


def _flow_run_state(name: str = "daily-pipeline"):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        (run,) = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=[name])),
                                       sort=FlowRunSort.START_TIME_DESC, limit=1)
    return run


def _ends_cleanly(proc: subprocess.Popen, log: Path, home: Path, before) -> str:
    proc.wait(timeout=120)
    output = log.read_text()
    assert proc.returncode == 143, output[-3000:]
    assert "Traceback" not in output, output[-3000:]
    last = output.strip().splitlines()[-1]
    assert last.startswith("stopped (") and "at a safe point" in last, last
    wh = open_warehouse(home)
    try:
        with wh.lock(wait=0):  # the writer lock was released
            pass
    except WarehouseLocked:
        pytest.fail("the stopped run left the writer lock held")
    assert wh.verify().ok  # every table whole
    assert not list((home / "warehouse" / ".versions").rglob(".*.inprogress"))
    assert list((home / "state" / "harvest").glob("*/checkpoint.json"))  # the harvest can be resumed
    now = papers_frame(home)
    assert now.height >= before.height  # the papers table is the old one or a whole newer one
    return last


def _resume(home: Path, fake: FakeArxiv, before_height: int) -> None:
    from click.testing import CliRunner

    from flows.cli import cli

    fake.latency = 0.0
    result = CliRunner().invoke(cli, ["--home", str(home), "harvest", "--endpoint", fake.oai_url, "--delay", "0",
                                      "--json"])
    assert result.exit_code == 0, result.output
    assert '"resumed": true' in result.stdout
    assert papers_frame(home).height == before_height + SERVED


@pytest.mark.parametrize("how", ["SIGTERM", "cancellation"])
def test_a_running_flow_stops_at_a_safe_point(how, home_copy, served, tmp_path, monkeypatch):
    before = papers_frame(home_copy)
    with FakeArxiv(served, page_size=20, latency=0.4) as fake:
        proc, log = _start_run(home_copy, fake, tmp_path)
        try:
            _wait_for_harvest(fake, proc, log)
            if how == "SIGTERM":
                proc.send_signal(signal.SIGTERM)
            else:
                from prefect.client.orchestration import get_client
                from prefect.states import Cancelling

                run = _flow_run_state()
                assert run.state.is_running()
                with get_client(sync_client=True) as client:  # what the UI and `prefect flow-run cancel` do
                    client.set_flow_run_state(run.id, Cancelling(message="cancelled by the test"), force=True)
            _ends_cleanly(proc, log, home_copy, before)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        assert _flow_run_state().state.is_cancelled()
        _resume(home_copy, fake, before.height)
