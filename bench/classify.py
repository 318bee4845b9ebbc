"""Classification benchmark on the real abstracts of ../shared/data/arxiv.

Prints (and with ``--json`` writes) three things:
1. embedding throughput, docs/s, of each embedder (``fast`` after one warm-up batch);
2. the BERTopic subtopic fit at each of ``--sizes`` papers, each in its own process so that the peak
   RSS is honest: embedding time, fit time (``SubtopicModel`` on its fixed-seed sample), the time to
   assign every paper, and the process's peak RSS;
3. the incremental cost of a day of ``--day`` new papers with the saved classifier, model load
   included (needs ``analytics.classify.pipeline`` and a fitted model in ``--home``; skipped otherwise).

    HF_HUB_OFFLINE=1 python bench/classify.py --sizes 20000,80000,160000 --home data
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

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
SHARED = Path(os.environ.get("ARXIV_TRENDS_SHARED", ROOT.parent / "shared"))


def load_records(limit: int | None = None, seed: int = 0) -> list[dict]:
    """Real records (id, title, abstract, categories) from every shared file; a fixed-seed sample of ``limit``."""
    records = []
    for path in sorted((SHARED / "data" / "arxiv").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                if rec.get("abstract"):
                    cats = rec.get("categories") or " ".join(rec.get("x_source_categories") or [])
                    records.append({"id": rec["id"], "title": rec.get("title") or "", "abstract": rec["abstract"],
                                    "categories": cats.split()})
    if limit is not None and limit < len(records):
        keep = np.sort(np.random.default_rng(seed).choice(len(records), limit, replace=False))
        records = [records[i] for i in keep]
    return records


def texts_of(records: list[dict]) -> list[str]:
    from analytics.embeddings import paper_text

    return [paper_text(r["title"], r["abstract"]) for r in records]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kB


def bench_embedders(home: str, fast_docs: int, accurate_docs: int) -> dict:
    from analytics.embeddings import get_embedder
    from warehouse.settings import Settings

    out = {}
    for name, n in (("fast", fast_docs), ("accurate", accurate_docs)):
        if n <= 0:
            continue
        texts = texts_of(load_records(n, seed=1))
        t0 = time.perf_counter()
        embedder = get_embedder(name, Settings.from_home(home))
        load_s = time.perf_counter() - t0
        embedder.encode(texts[:64])  # warm-up (lazy imports, first batch)
        t0, c0 = time.perf_counter(), time.process_time()
        embedder.encode(texts)
        seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
        out[name] = {"docs": len(texts), "seconds": round(seconds, 2), "docs_per_s": round(len(texts) / seconds, 1),
                     "docs_per_cpu_s": round(len(texts) / cpu, 1), "load_s": round(load_s, 2),
                     "load_avg_1m": round(os.getloadavg()[0], 1), "version": embedder.version}
        print(f"embed {name:8s} {out[name]['docs_per_s']:>9.1f} docs/s wall, {out[name]['docs_per_cpu_s']:>9.1f} "
              f"docs per CPU-second  ({len(texts)} docs in {seconds:.1f} s; load {load_s:.1f} s; "
              f"load average {out[name]['load_avg_1m']})", flush=True)
    return out


def fit_child(size: int, home: str, max_fit_docs: int) -> dict:
    """One size, in this (fresh) process: embed ``size`` papers (fast), fit subtopics, assign all."""
    from analytics.embeddings import get_embedder
    from analytics.subtopics import SubtopicModel
    from analytics.taxonomy import load_taxonomy
    from warehouse.settings import Settings

    texts = texts_of(load_records(size, seed=2))
    embedder = get_embedder("fast", Settings.from_home(home))
    t0 = time.perf_counter()
    vectors = embedder.encode(texts)
    embed_s = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    model = SubtopicModel(embedder=embedder, seed=42, max_fit_docs=max_fit_docs).fit(
        texts, vectors, load_taxonomy().descriptions())
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0 = time.perf_counter()
    assigned = model.transform(texts, vectors)
    transform_s = time.perf_counter() - t0
    frame = model.subtopics_frame(assigned)
    zeroshot = frame.filter(frame["parent_topic"] != "other")
    return {"papers": len(texts), "fit_sample": model.n_fit_docs_, "embed_s": round(embed_s, 1),
            "fit_s": round(fit_s, 1), "fit_cpu_s": round(fit_cpu, 1), "load_avg_1m": round(os.getloadavg()[0], 1),
            "transform_s": round(transform_s, 1), "peak_rss_mb": round(peak_rss_mb()),
            "subtopics": frame.height, "outliers": int((assigned == -1).sum()),
            "papers_under_a_topic": int(zeroshot["size"].sum())}


def bench_fits(sizes: list[int], home: str, max_fit_docs: int) -> list[dict]:
    rows = []
    for size in sizes:
        cmd = [sys.executable, __file__, "--child-fit", str(size), "--home", home, "--max-fit-docs", str(max_fit_docs)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
        if done.returncode != 0 or not lines:
            print(f"fit {size}: failed\n{done.stderr[-2000:]}", flush=True)
            rows.append({"papers": size, "error": done.stderr[-500:]})
            continue
        row = json.loads(lines[-1])
        rows.append(row)
        print(f"fit {row['papers']:>7d} papers: embed {row['embed_s']:6.1f} s, BERTopic fit on {row['fit_sample']} "
              f"{row['fit_s']:6.1f} s (CPU {row.get('fit_cpu_s', 0):.0f} s), assign all {row['transform_s']:5.1f} s, "
              f"peak RSS {row['peak_rss_mb']} MB, {row['subtopics']} subtopics", flush=True)
    return rows


def bench_day(home: str, day: int) -> dict | None:
    """A day of ``day`` new papers through the saved classifier (model load included)."""
    try:
        from analytics.classify.pipeline import load_model, predict_frame
    except ImportError as exc:
        print(f"day: skipped ({exc})")
        return None
    import polars as pl

    from warehouse.errors import ArxivTrendsError
    from warehouse.settings import Settings

    papers = pl.DataFrame(load_records(day, seed=3))
    t0 = time.perf_counter()
    try:
        model = load_model(Settings.from_home(home))
    except ArxivTrendsError as exc:
        print(f"day: skipped ({exc})")
        return None
    load_s = time.perf_counter() - t0
    batch = predict_frame(model, papers)
    total_s = time.perf_counter() - t0
    out = {"papers": papers.height, "load_s": round(load_s, 1), "total_s": round(total_s, 1),
           "assignments": batch.classifications.height, "model_version": model.version}
    print(f"day     {papers.height} new papers: {total_s:.1f} s including model load ({load_s:.1f} s)", flush=True)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", default=os.environ.get("ARXIV_TRENDS_HOME", "data"),
                        help="data root: the distilled fast model is cached there; the saved classifier is read there")
    parser.add_argument("--sizes", default="20000,80000,160000", help="papers per BERTopic fit ('' to skip)")
    parser.add_argument("--max-fit-docs", type=int, default=30_000, help="SubtopicModel fitting sample")
    parser.add_argument("--fast-docs", type=int, default=20_000)
    parser.add_argument("--accurate-docs", type=int, default=600)
    parser.add_argument("--day", type=int, default=2000, help="new papers of the incremental run (0 to skip)")
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    parser.add_argument("--child-fit", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_fit:
        print(json.dumps(fit_child(args.child_fit, args.home, args.max_fit_docs)), flush=True)
        return
    print(f"cpu cores: {os.cpu_count()}, torch threads default, home {args.home}", flush=True)
    report = {"cores": os.cpu_count(),
              "embed": bench_embedders(args.home, args.fast_docs, args.accurate_docs),
              "fit": bench_fits([int(s) for s in args.sizes.split(",") if s], args.home, args.max_fit_docs),
              "day": bench_day(args.home, args.day) if args.day else None}
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
