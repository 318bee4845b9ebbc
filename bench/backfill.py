"""Backfill throughput and peak memory on a snapshot-format file built from the real records.

    python bench/backfill.py [--n 3000000] [--workdir bench/out]

Builds ``snapshot-N.jsonl`` (uncompressed, like the Kaggle file) by cycling through the real records of
../shared/data/arxiv with ids renumbered so they are unique (YYMM.NNNNN over 2007-04..2026-06, v1 dates
inside the id's month), then imports it twice in fresh processes: the first import and a re-import
(which must change nothing). Prints records/s, CPU time and the peak RSS of each import, and how many times
longer it took than polars alone parsing the same file (the bare parse, also in a fresh process).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ARXIV_TRENDS_SHARED", ROOT.parent / "shared")) / "data" / "arxiv"
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _weekday(year: int, month: int, day: int) -> int:
    import datetime
    return datetime.date(year, month, day).weekday()


def load_real() -> list[dict]:
    records = []
    for path in sorted(SHARED.glob("*.jsonl.gz")):
        with gzip.open(path) as fh:
            records.extend(orjson.loads(line) for line in fh)
    if not records:
        sys.exit(f"no real records under {SHARED}")
    return records


def build(path: Path, n: int) -> None:
    real = load_real()
    months = [(y, m) for y in range(2007, 2027) for m in range(1, 13) if (2007, 4) <= (y, m) <= (2026, 6)]
    started = time.perf_counter()
    with open(path, "wb") as out:
        for k in range(n):
            src = real[k % len(real)]
            year, month = months[k % len(months)]
            number = k // len(months)
            day = 1 + number % 28
            rec = {key: value for key, value in src.items() if not key.startswith("x_")}
            rec["id"] = f"{year % 100:02d}{month:02d}.{number:05d}"
            weekday = DAYS[_weekday(year, month, day)]
            rec["versions"] = [{"version": "v1",
                                "created": f"{weekday}, {day} {MONTHS[month - 1]} {year} 12:00:00 GMT"}]
            rec.setdefault("categories", "cs.LG")
            out.write(orjson.dumps(rec) + b"\n")
    print(f"built {n:,} records ({path.stat().st_size / 1e9:.2f} GB) in {time.perf_counter() - started:.0f} s")


def bare_parse(path: Path) -> dict:
    """polars alone parsing the file into the raw schema, in a fresh process: the floor a backfill is compared with."""
    code = (
        "import json, time, resource\n"
        "import polars as pl\n"
        "from warehouse.records import RAW_SCHEMA\n"
        f"t = time.perf_counter(); n = pl.read_ndjson({str(path)!r}, schema=RAW_SCHEMA).height\n"
        "u = resource.getrusage(resource.RUSAGE_SELF)\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'rows': n, 'cpu_s': u.ru_utime + u.ru_stime}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_import(home: Path, path: Path) -> dict:
    code = (
        "import json, time\n"
        "from warehouse import open_warehouse\n"
        "from warehouse.backfill import backfill_paths\n"
        f"t = time.perf_counter(); s = backfill_paths(open_warehouse({str(home)!r}), [{str(path)!r}], progress=False)\n"
        "import resource; u = resource.getrusage(resource.RUSAGE_SELF)\n"
        "print(json.dumps({'seconds': time.perf_counter() - t, 'read': s.read, 'inserted': s.inserted,"
        " 'unchanged': s.unchanged, 'cpu_s': u.ru_utime + u.ru_stime}))\n"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["peak_rss_mb"] = max(peak_kb, before) / 1024
    result["records_per_s"] = result["read"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3_000_000)
    parser.add_argument("--workdir", type=Path, default=ROOT / "bench" / "out")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    snap = args.workdir / f"snapshot-{args.n}.jsonl"
    if not snap.exists():
        build(snap, args.n)
    home = args.workdir / f"home-{args.n}"
    subprocess.run(["rm", "-rf", str(home)], check=True)
    runs = [(label, run_import(home, snap)) for label in ("first import", "re-import")]
    floor = bare_parse(snap)  # last: the peak RSS of children so far is the imports' own
    print(f"  bare parse: polars reads the {floor['rows']:,} records in {floor['seconds']:.1f} s "
          f"({floor['cpu_s']:.1f} s CPU)")
    for label, r in runs:
        print(f"{label:>12}: {r['read']:,} records in {r['seconds']:.1f} s = {r['records_per_s']:,.0f} records/s, "
              f"{r['seconds'] / floor['seconds']:.1f}x the bare parse, {r['cpu_s']:.1f} s CPU, "
              f"peak RSS {r['peak_rss_mb']:,.0f} MB (inserted {r['inserted']:,}, unchanged {r['unchanged']:,}); "
              f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
