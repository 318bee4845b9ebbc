"""Rebuild the shipped label files from the gold sets and the records they were drawn from.

``python -m analytics.labels.build --gold ../shared/gold --records ../shared/gold/train_records.jsonl.gz
../shared/data/arxiv`` writes ``analytics/labels/data/{train,dev}.jsonl.gz``: per paper its id, topics, and the
arXiv metadata the classifier reads (title, abstract, categories, v1 submission time; arXiv metadata is CC0), so
a clone without ``../shared`` fits the same model. Records are normalised exactly as ``backfill`` does.
"""

from __future__ import annotations

import argparse
import gzip
from pathlib import Path

import orjson
import polars as pl

from analytics.classify.evaluation import read_gold
from analytics.labels.labelled import DATA_DIR
from warehouse.backfill import detect_format, expand_paths, file_batches
from warehouse.records import normalize_batch


def read_records(paths: list[str], wanted: set[str]) -> pl.DataFrame:
    """Normalised papers rows of ``wanted`` ids from files ``backfill`` reads (the last copy of an id wins)."""
    frames = []
    for file in expand_paths(paths):
        _fmt, module_name, source = detect_format(file)
        for batch in file_batches(file, module_name):
            rows, _rejected = normalize_batch(batch.frame, default_source=source)
            rows = rows.filter(pl.col("id").is_in(list(wanted)))
            if rows.height:
                frames.append(rows.select("id", "title", "abstract", "categories", "submitted"))
    return pl.concat(frames).unique("id", keep="last") if frames else pl.DataFrame()


def build(gold_dir: Path, record_paths: list[str], out_dir: Path = DATA_DIR) -> dict[str, int]:
    sets = {name: read_gold(gold_dir / f"{name}.jsonl") for name in ("train", "dev")}
    wanted = {pid for labels in sets.values() for pid in labels}
    papers = {r["id"]: r for r in read_records(record_paths, wanted).iter_rows(named=True)}
    missing = sorted(wanted - set(papers))
    if missing:
        raise SystemExit(f"{len(missing)} labelled papers not found in the records (first: {missing[0]})")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = {}
    for name, labels in sets.items():
        lines = []
        for pid in sorted(labels):
            p = papers[pid]
            lines.append(orjson.dumps({"id": pid, "topics": labels[pid], "title": p["title"], "abstract": p["abstract"],
                                       "categories": p["categories"], "submitted": p["submitted"].isoformat()}))
        # mtime=0: the same labels give byte-identical files
        (out_dir / f"{name}.jsonl.gz").write_bytes(gzip.compress(b"\n".join(lines) + b"\n", mtime=0))
        written[name] = len(lines)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=Path("../shared/gold"))
    parser.add_argument("--records", nargs="+", default=["../shared/gold/train_records.jsonl.gz", "../shared/data/arxiv"])
    args = parser.parse_args()
    print(build(args.gold, args.records))


if __name__ == "__main__":
    main()
