"""Bench: the daily pipeline on a day of new real papers over a warehouse of all the others.

    python bench/pipeline.py --home /tmp/bench-home [--new 2000] [--json out.json]

Setup (paid once, kept in --home): every record of ../shared/data/arxiv except the ``--new`` latest
cs papers of the daily_arxiv files is backfilled (about 158k papers) and the classifier is fitted.
Measured: ``daily_pipeline`` harvesting the new papers from a fake OAI-PMH server on 127.0.0.1 (no
politeness delay), classifying them, recomputing the metrics and rendering the report. The numbers:
the whole flow call, each step as the flow timed it, Prefect's own overhead (flow time minus the
steps), and separately the start-up of Prefect's temporary API (paid once per process).
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # run as a script: the fake OAI server lives in tests/
SHARED = ROOT.parent / "shared" / "data" / "arxiv"
NEW_FROM = "daily_arxiv_cs_2025_2026-part02.jsonl.gz"  # the newest listings: the "day" comes from its end


def split_corpus(work: Path, new: int) -> tuple[list[Path], list[dict]]:
    """(files for the backfill, the ``new`` records held back for the harvest)."""
    with gzip.open(SHARED / NEW_FROM, "rt", encoding="utf-8") as fh:
        lines = fh.readlines()
    held = [json.loads(line) for line in lines[-new:]]
    work.mkdir(parents=True, exist_ok=True)
    rest = work / ("old-" + NEW_FROM)
    if not rest.exists():
        with gzip.open(rest, "wt", encoding="utf-8") as out:
            out.writelines(lines[:-new])
    files = [p for p in sorted(SHARED.glob("*.jsonl.gz")) if p.name != NEW_FROM] + [rest]
    return files, held


def setup(home: Path, new: int) -> list[dict]:
    from warehouse import open_warehouse
    from warehouse.backfill import backfill_paths

    files, held = split_corpus(home.parent / "bench-input", new)
    wh = open_warehouse(home)
    if not wh.has_table("papers"):
        started = time.perf_counter()
        summary = backfill_paths(wh, files, progress=False)
        print(f"setup: backfilled {summary.inserted:,} papers in {time.perf_counter() - started:.0f} s", flush=True)
    if not (wh.settings.models_dir / "current.json").exists():
        from analytics.classify.pipeline import classify_warehouse

        started = time.perf_counter()
        summary = classify_warehouse(wh, progress=True)
        print(f"setup: fitted and classified {summary.classified:,} papers in "
              f"{time.perf_counter() - started:.0f} s", flush=True)
        from analytics.metrics import aggregate
        from reports import build_site

        aggregate(wh)
        build_site(wh)
    return held


def measure(home: Path, held: list[dict], workers: int) -> dict:
    from flows import prefect_env
    from warehouse.settings import Settings

    prefect_env.configure(Settings.from_home(home))
    from datetime import datetime, timedelta, timezone

    from tests.warehouse.harvest.fake_arxiv import FakeArxiv, render_arxiv_raw

    day = datetime(2026, 7, 1, tzinfo=timezone.utc)
    records = [render_arxiv_raw(r, day.date().isoformat(), day - timedelta(hours=6)) for r in held]

    started = time.perf_counter()
    from prefect import flow

    @flow(name="bench-warm-up")
    def warm_up() -> None:
        return None

    warm_up()  # starts the temporary API, so the measured run pays only its own overhead
    startup = time.perf_counter() - started
    from flows.pipeline import daily_pipeline

    with FakeArxiv(records, page_size=1000) as fake:
        options = {"endpoint": fake.oai_url, "delay": 0, "from_date": "2026-07-01", "until_date": "2026-07-01",
                   "sets": ["cs"]}
        started = time.perf_counter()
        result = daily_pipeline(home=str(home), harvest_options=options, workers=workers)
        total = time.perf_counter() - started
    steps = {name: step["seconds"] for name, step in result["steps"].items()}
    return {"new_papers": len(held), "inserted": result["steps"]["harvest"]["summary"]["inserted"],
            "classified": (result["steps"]["classify"]["summary"] or {}).get("classified"),
            "status": {name: step["status"] for name, step in result["steps"].items()},
            "prefect_api_startup_s": round(startup, 1), "flow_s": round(total, 1), "steps_s": steps,
            "prefect_overhead_s": round(total - sum(steps.values()), 1),
            "polite_waits_s": result["steps"]["harvest"]["summary"].get("waited_polite_s")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", type=Path, required=True, help="bench data root (setup is kept there)")
    parser.add_argument("--new", type=int, default=2000, help="new papers in the harvested day")
    parser.add_argument("--workers", type=int, default=0, help="classify on a local Dask cluster of N workers")
    parser.add_argument("--setup-only", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    home = args.home.resolve()
    held = setup(home, args.new)
    if args.setup_only:
        return
    run_home = home.parent / (home.name + "-run")  # each measurement starts from the same warehouse
    shutil.rmtree(run_home, ignore_errors=True)
    shutil.copytree(home, run_home, symlinks=True, ignore=shutil.ignore_patterns("prefect"))
    out = measure(run_home, held, args.workers)
    print(json.dumps(out, indent=2))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
