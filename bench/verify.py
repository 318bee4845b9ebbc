"""Benchmark: what the checksums cost, on the real corpus.

Backfills the records of ../shared/data/arxiv into a fresh data root (or uses ``--home``), then, each in a fresh
child process so that its time and peak RSS (``ru_maxrss``) are its own:

- ``verify``: every file of every table read against its digest, and its Parquet footer parsed;
- ``scan``: a full read of ``papers`` as every command does it (each file ``stat``ed against its recorded size);
- ``scan, files touched``: the same after every papers file got a new mtime, so each is first read against its
  digest (what a read does after a file was modified, or copied without its times).

    .venv/bin/python bench/verify.py [--home DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from warehouse.api import open_warehouse  # noqa: E402
from warehouse.backfill import backfill_paths  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "arxiv"


def measure(home: str, what: str) -> None:
    """Child process: one measurement, printed as JSON (wall and CPU seconds of the step, peak RSS)."""
    wh = open_warehouse(home)
    cpu = time.process_time()
    started = time.perf_counter()
    if what == "verify":
        report = wh.verify()
        assert report.ok, report.damage
        size = report.bytes
    else:
        rows = wh.collect(wh.scan_papers(), ["papers"]).height
        assert rows > 0
        size = sum(os.path.getsize(p) for p in wh.files("papers"))
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "cpu_s": time.process_time() - cpu, "bytes": size,
                      "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))


def child(home: Path, what: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--measure", what, "--home", str(home)], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", type=Path, default=None, help="an existing data root (default: backfill one)")
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(str(args.home), args.measure)
        return
    home = args.home
    if home is None:
        home = Path(tempfile.mkdtemp(prefix="bench-verify-")) / "home"
        started = time.perf_counter()
        summary = backfill_paths(open_warehouse(home), [SHARED], progress=False)
        print(f"backfilled {summary.inserted:,} papers in {time.perf_counter() - started:.1f} s into {home}")
    results = {"verify": child(home, "verify"), "scan": child(home, "scan")}
    for path in open_warehouse(home).files("papers"):
        os.utime(path)
    results["scan, files touched"] = child(home, "scan")
    print(f"{'measure':<22} {'MB':>8} {'seconds':>8} {'CPU s':>7} {'MB/s':>8} {'peak RSS':>9}")
    for name, r in results.items():
        mb = r["bytes"] / 1e6
        print(f"{name:<22} {mb:>8.1f} {r['seconds']:>8.2f} {r['cpu_s']:>7.2f} {mb / r['seconds']:>8.0f} "
              f"{r['peak_rss_mb']:>7.0f} MB")


if __name__ == "__main__":
    main()
