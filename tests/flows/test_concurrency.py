"""Two runs at once: the second fails with a clear message, or waits when asked; nothing is lost."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest

from flows.pipeline import backfill_flow, daily_pipeline
from tests.flows.helpers import papers_frame, run_flow
from warehouse.errors import WarehouseLocked

pytestmark = pytest.mark.usefixtures("prefect_harness")

HOLDER = """
import sys, time
from warehouse import open_warehouse
with open_warehouse(sys.argv[1]).lock():
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def _hold_lock(home: Path, seconds: float) -> subprocess.Popen:
    """Another process writing the warehouse: holds the writer lock for ``seconds``."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(home), str(seconds)], stdout=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_run_fails_clearly_while_another_process_writes(home_copy):
    before = papers_frame(home_copy)
    holder = _hold_lock(home_copy, 120)
    try:
        with pytest.raises(WarehouseLocked, match=r"being written by pid \d+"):
            daily_pipeline(home=str(home_copy), harvest=False, wait_lock=0)
    finally:
        holder.kill()
        holder.wait()
    assert papers_frame(home_copy).equals(before)


def test_a_run_told_to_wait_goes_on_once_the_other_finishes(classified_copy):
    holder = _hold_lock(classified_copy, 2)
    result, _ = run_flow(daily_pipeline, home=str(classified_copy), harvest=False, report=False, wait_lock=120)
    assert holder.poll() == 0  # it had finished (and released the lock) before this run could start
    assert result["steps"]["aggregate"]["status"] in ("done", "cached")


def test_two_backfill_runs_at_once_both_land_whole(corpus, tmp_path):
    home = tmp_path / "home"
    results, errors = {}, []

    def backfill(name: str, paths: list[Path]) -> None:
        try:
            results[name] = backfill_flow(paths=[str(p) for p in paths], home=str(home), wait_lock=300)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=backfill, args=("a", corpus[:2])),
               threading.Thread(target=backfill, args=("b", corpus[2:]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    inserted = sum(r["steps"]["backfill"]["summary"]["inserted"] for r in results.values())
    assert papers_frame(home).height == inserted == 2000
