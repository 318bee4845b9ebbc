"""The whole pipeline at arXiv scale: backfill -> classify --all -> aggregate -> report, through the CLI.

    python bench/scale.py [--n 3000000] [--workdir /tmp/arxiv-trends-scale] [--keep]

Builds a snapshot of N records from the real ones of ../shared/data/arxiv (ids renumbered, as
``bench/backfill.py`` does; about 1.6 kB a record uncompressed), then runs each step as its own
``arxiv-trends`` process over a fresh data root, as a user would (``classify --all`` on a fresh root fits
first, on the usual fixed-seed samples, then classifies every paper), and prints each step's wall time,
CPU time and peak RSS. Before building it checks that the disk has room for the snapshot, the warehouse
and the backfill's staging (about 3x the snapshot), and it deletes the workdir at the end unless ``--keep``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from backfill import build  # noqa: E402

BYTES_PER_RECORD = 1_600  # measured: 3M records make a 4.73 GB snapshot
DISK_FACTOR = 3.2  # snapshot + staging of the backfill (about the same) + Parquet tables and models
CLI = [sys.executable, "-c", "from flows.cli import main; main()"]


def run_step(name: str, args: list[str], home: Path) -> dict:
    """One CLI command in a fresh process: wall and CPU seconds and peak RSS of that process alone."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen([*CLI, "--home", str(home), *args, "--json"], cwd=ROOT, env=env, stdout=out,
                                stderr=err, text=True)
        _pid, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage (peak RSS, CPU)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit(f"{name} failed ({proc.returncode}):\n{err.read()[-3000:]}")
        summary = _last_json(out.read())
    return {"step": name, "seconds": round(seconds, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "summary": summary}


def _last_json(out: str) -> dict:
    """The command's ``--json`` summary: the whole output, else the last line that parses (progress comes first)."""
    for text in (out, *reversed(out.strip().splitlines())):
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return {}


def check_disk(workdir: Path, n: int) -> None:
    need = n * BYTES_PER_RECORD * DISK_FACTOR
    free = shutil.disk_usage(workdir).free
    if free < need:
        sys.exit(f"{workdir}: {free / 1e9:.1f} GB free, {need / 1e9:.1f} GB needed for {n:,} records; "
                 "use a smaller --n or another --workdir")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3_000_000)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/arxiv-trends-scale"))
    parser.add_argument("--keep", action="store_true", help="keep the snapshot and the data root")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    try:
        snapshot, home = args.workdir / f"snapshot-{args.n}.jsonl", args.workdir / f"home-{args.n}"
        if not snapshot.exists():
            check_disk(args.workdir, args.n)
            build(snapshot, args.n)
        shutil.rmtree(home, ignore_errors=True)
        rows = [run_step("backfill", ["backfill", str(snapshot), "--quiet"], home),
                run_step("classify --all", ["classify", "--all"], home),
                run_step("aggregate", ["aggregate"], home),
                run_step("report", ["report"], home)]
    finally:
        if not args.keep:
            shutil.rmtree(args.workdir, ignore_errors=True)
    print(f"\n{args.n:,} papers, {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'step':<16}{'wall s':>9}{'CPU s':>9}{'peak RSS MB':>13}")
    for row in rows:
        print(f"{row['step']:<16}{row['seconds']:>9}{row['cpu_s']:>9}{row['peak_rss_mb']:>13}")
    print(json.dumps(rows, default=str))


if __name__ == "__main__":
    main()
