"""Benchmark: render the whole report site from the metrics of the real corpus (targets: <= 15 s, <= 10 MB).

With ``--home DIR`` the site is rendered from that warehouse as the pipeline left it (backfill -> classify ->
aggregate over ../shared/data/arxiv). Without it, a temporary warehouse is made from the real records of
../shared/data/arxiv with reproducible synthetic labels (the metrics helper's ``realcorpus``), then aggregated;
the corpus, its dates and its coverage gaps are real, the topic labels are not. Each run renders the full site
into a fresh folder; the summary goes to ``bench/out/report.json`` (with the CPU time and peak memory of the
process). The README's screenshots come from the browser tests run on a kept site (see README, "Reports").

    .venv/bin/python bench/report.py [--home DIR] [--runs 3] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reports import build_site  # noqa: E402
from warehouse.api import Warehouse, open_warehouse  # noqa: E402

NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)
SHARED = ROOT.parent / "shared" / "data" / "arxiv"
TARGET_SECONDS, TARGET_BYTES = 15.0, 10_000_000
GENERATED_AT = "2026-11-23T06:00:00Z"


def synthetic_label_home(home: Path) -> Warehouse:
    """Real records, synthetic labels, real ``aggregate``: metrics of the real corpus's shape."""
    from analytics.metrics import aggregate
    from tests.analytics.metrics.realcorpus import load_real_papers, synthetic_labels, write_tables

    papers = load_real_papers(SHARED)
    classifications, paper_subtopics, subtopics = synthetic_labels(papers)
    wh = open_warehouse(home)
    write_tables(wh, papers, classifications, paper_subtopics, subtopics)
    aggregate(wh, now=NOW)
    return wh


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a warehouse with metrics (default: real records, synthetic labels)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="leave the last site here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
        if args.home:
            wh, labels = open_warehouse(args.home), "pipeline (classify + aggregate)"
        else:
            started = time.perf_counter()
            wh, labels = synthetic_label_home(Path(tmp) / "home"), "synthetic (real records, reproducible labels)"
            print(f"prepared a warehouse from {SHARED} in {time.perf_counter() - started:.1f} s")
        times, summary = [], None
        for run in range(args.runs):
            out = Path(tmp) / f"site-{run}"
            started = time.perf_counter()
            summary = build_site(wh, out_dir=out, generated_at=GENERATED_AT)
            times.append(time.perf_counter() - started)
        site = Path(summary.out_dir)
        largest = sorted(((p.stat().st_size, p.relative_to(site).as_posix()) for p in site.rglob("*") if p.is_file()),
                         reverse=True)[:5]
        result = {
            "labels": labels, "runs": args.runs, "seconds_median": round(statistics.median(times), 2),
            "seconds_min": round(min(times), 2), "total_bytes": summary.total_bytes, "pages": summary.pages,
            "charts": summary.charts, "csv_files": summary.csv_files, "files": summary.files,
            "largest_files": [{"path": name, "bytes": size} for size, name in largest],
            "papers": int(wh.scan_papers().select("id").collect().height),
            "cpu_seconds": round(sum(resource.getrusage(resource.RUSAGE_SELF)[:2]), 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "within_targets": min(times) <= TARGET_SECONDS and summary.total_bytes <= TARGET_BYTES,
        }
        if args.keep:
            shutil.rmtree(args.keep, ignore_errors=True)
            shutil.copytree(site, args.keep)
    out = ROOT / "bench" / "out" / "report.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"report site over {result['papers']:,} papers ({labels}): {result['seconds_median']} s median of "
          f"{args.runs} (min {result['seconds_min']} s; target {TARGET_SECONDS:g} s), "
          f"{result['total_bytes'] / 1e6:.2f} MB (target {TARGET_BYTES / 1e6:g} MB), {result['pages']} pages, "
          f"{result['charts']} charts, {result['csv_files']} CSV files; process CPU {result['cpu_seconds']} s "
          f"(all runs and the setup), peak RSS {result['peak_rss_mb']} MB")
    for item in result["largest_files"]:
        print(f"  {item['path']:<48} {item['bytes']:>10,} bytes")


if __name__ == "__main__":
    main()
