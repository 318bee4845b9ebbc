"""Benchmark: ``aggregate`` over ~3 million classified papers (target: < 10 s wall, < 3 GB peak RSS on 2 cores).

The corpus is the real records of ../shared/data/arxiv, copied until it reaches the target size (ids renumbered,
each copy keeping the real submission dates, so the real coverage unevenness is scaled up too), with synthetic
labels: 0-3 of the 16 topics a paper, one of ``--subtopics`` BERTopic-like subtopics (or the outlier -1), every
topic's probability (``topic_scores``) and a model folder with labelled results, so the error-corrected estimates
are computed too.
The tables are written with ``Warehouse.write_table`` into a temporary home; ``aggregate`` then runs in a fresh
child process so its wall time and peak RSS (``ru_maxrss``) are its own.

    .venv/bin/python bench/aggregate.py [--papers 3000000] [--subtopics 200] [--home DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import polars as pl  # noqa: E402

from tests.analytics.metrics.realcorpus import (load_real_papers, synthetic_labels, synthetic_scores,  # noqa: E402
                                                write_outcome, write_tables)
from warehouse.api import open_warehouse  # noqa: E402

NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)
SHARED = ROOT.parent / "shared" / "data" / "arxiv"


def scaled_papers(target: int) -> pl.DataFrame:
    """Copies of the real records (copy k's ids prefixed ``k.``) until ``target`` rows."""
    real = load_real_papers(SHARED)
    copies = -(-target // real.height)
    return pl.concat(
        real.with_columns(pl.format("{}.{}", pl.lit(k), pl.col("id")).alias("id")) for k in range(copies)
    ).head(target)


def build(home: Path, target: int, subtopics: int) -> dict[str, int]:
    papers = scaled_papers(target)
    classifications, paper_subtopics, subtopic_table = synthetic_labels(papers, n_subtopics=subtopics)
    wh = open_warehouse(home)
    write_tables(wh, papers, classifications, paper_subtopics, subtopic_table,
                 synthetic_scores(classifications, papers["id"]))
    write_outcome(wh)
    return {"papers": papers.height, "classification_rows": classifications.height,
            "classified_papers": paper_subtopics.height}


def measure(home: str) -> None:
    """Child process: run aggregate once; print its wall seconds, the process CPU seconds (imports included, a
    figure that other load on the machine does not inflate) and peak RSS as JSON."""
    from analytics.metrics import aggregate

    started = time.perf_counter()
    summary = aggregate(open_warehouse(home), now=NOW)
    seconds = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"seconds": round(seconds, 2), "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
                      "peak_rss_mb": round(usage.ru_maxrss / 1024), "tables": summary.tables}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=3_000_000)
    parser.add_argument("--subtopics", type=int, default=200)
    parser.add_argument("--home", type=Path, default=None, help="keep the bench warehouse here (default: a temp dir)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(args.measure)
        return
    with tempfile.TemporaryDirectory(prefix="bench-aggregate-") as tmp:
        home = args.home or Path(tmp)
        started = time.perf_counter()
        sizes = build(home, args.papers, args.subtopics)
        print(f"built {sizes} in {time.perf_counter() - started:.1f} s under {home}")
        child = subprocess.run([sys.executable, __file__, "--measure", str(home)], capture_output=True, text=True,
                               check=True)
        result = json.loads(child.stdout.strip().splitlines()[-1])
        ok = result["seconds"] < 10 and result["peak_rss_mb"] < 3 * 1024
        print(f"aggregate: {result['seconds']} s wall ({result['cpu_seconds']} s CPU in the process), "
              f"peak RSS {result['peak_rss_mb']} MB "
              f"({'within' if ok else 'OVER'} the 10 s / 3 GB target)")
        for name, rows in result["tables"].items():
            print(f"  {name:<32} {rows:>9,} rows")


if __name__ == "__main__":
    main()
