"""Harvest benchmark on real records: OAI page parse throughput, and the harvest's own work per page.

1. Parse: real records from ../shared/data rendered as arXivRaw ListRecords pages of ``--page-size``
   records (arXiv's page size is 1,000), parsed with ``warehouse.sources.oai.parse_page`` on one core.
   Target: >= 20,000 records/s.
2. Work per page: a full ``harvest_oai`` of the same pages from an in-memory transport (no network, no
   server, delay 0), so all the time measured is the harvester's own work: keeping each page gzip'ed in
   raw/, parsing, the per-page checkpoint, ingesting into ``papers``. Reported per page and as a share of
   arXiv's 3 s politeness delay.
3. Overhead beyond the delay: ``--paced-pages`` pages harvested with the real 3 s delay (really slept):
   wall time minus 3 s per gap, per page, as a share of the delay. Target: < 5 %. The delay runs from the
   end of one response to the next request, so the work on a page overlaps the wait for the next.

    python bench/harvest.py [--records 20000] [--page-size 1000] [--paced-pages 20] [--prefill]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.warehouse.harvest.fake_arxiv import FakeArxiv, list_records_page, records_from_jsonl  # noqa: E402
from warehouse import open_warehouse  # noqa: E402
from warehouse.backfill import backfill_paths  # noqa: E402
from warehouse.harvest import HarvestOptions, harvest_oai  # noqa: E402
from warehouse.harvest.http import ARXIV_MIN_DELAY_S  # noqa: E402
from warehouse.sources.oai import parse_page  # noqa: E402

SHARED = ROOT.parent / "shared" / "data" / "arxiv"
SOURCES = ["daily_arxiv_cs_2025_2026-part00.jsonl.gz", "daily_arxiv_cs_2025_2026-part01.jsonl.gz"]


def load_records(n: int):
    out = []
    for name in SOURCES:
        out += records_from_jsonl(SHARED / name, n - len(out))
        if len(out) >= n:
            break
    return out


def bench_parse(records, page_size: int, repeat: int = 3) -> dict:
    pages = [list_records_page(records[i:i + page_size], "token|1", i, len(records))
             for i in range(0, len(records), page_size)]
    size = sum(len(p) for p in pages)
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        n = sum(len(parse_page(p, "bench").records) for p in pages)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    assert n == len(records)
    return {"records": n, "pages": len(pages), "mb": round(size / 1e6, 1),
            "records_per_s_wall": round(n / best_wall), "records_per_s_cpu": round(n / best_cpu),
            "mb_per_s_cpu": round(size / 1e6 / best_cpu, 1)}


def bench_harvest(records, page_size: int, prefill: bool, delay: float = 0.0) -> dict:
    fake = FakeArxiv(records, page_size=page_size)

    def answer(request: httpx.Request) -> httpx.Response:
        params = {k: v[-1] for k, v in parse_qs(urlsplit(str(request.url)).query).items()}
        return httpx.Response(200, content=fake.oai_response(params))

    with tempfile.TemporaryDirectory() as tmp:
        wh = open_warehouse(Path(tmp) / "home")
        prefilled = 0
        if prefill:
            prefilled = backfill_paths(wh, sorted(SHARED.glob("*.jsonl.gz")), progress=False).inserted
        days = sorted(r.datestamp for r in records)
        opts = HarvestOptions(endpoint="http://mirror.invalid/oai", sets=("cs",), delay=delay,
                              from_date=date.fromisoformat(days[0]), until_date=date.fromisoformat(days[-1]),
                              transport=httpx.MockTransport(answer))
        wall, cpu = time.perf_counter(), time.process_time()
        summary = harvest_oai(wh, opts)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    out = {"warehouse_rows_before": prefilled, "delay_s": delay, "requests": summary.requests,
           "pages": summary.pages, "records": summary.read, "seconds": round(wall, 2), "cpu_seconds": round(cpu, 2)}
    if delay:
        beyond = (wall - delay * (summary.requests - 1)) / summary.requests
        out.update(overhead_beyond_delay_ms_per_page=round(beyond * 1000, 1),
                   overhead_beyond_delay_pct=round(100 * beyond / delay, 2))
    else:
        per_page = wall / summary.pages
        out.update(ms_per_page=round(per_page * 1000, 1), cpu_ms_per_page=round(cpu / summary.pages * 1000, 1),
                   share_of_3s_delay_pct=round(100 * per_page / ARXIV_MIN_DELAY_S, 2))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=20_000)
    ap.add_argument("--page-size", type=int, default=1000)
    ap.add_argument("--paced-pages", type=int, default=20, help="pages harvested with the real 3 s delay")
    ap.add_argument("--prefill", action="store_true", help="backfill all of ../shared/data/arxiv first")
    args = ap.parse_args()
    records = load_records(args.records)
    paced = records[: args.paced_pages * args.page_size]
    result = {"parse": bench_parse(records, args.page_size),
              "work_per_page": bench_harvest(records, args.page_size, args.prefill),
              "paced": bench_harvest(paced, args.page_size, args.prefill, delay=ARXIV_MIN_DELAY_S)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
