"""Re-derive the stage-2 numbers of the classifier on a gold file, and cross-validate the procedure.

    HF_HUB_OFFLINE=1 python bench/stage2.py --home data [--gold ../shared/gold/dev.jsonl] [--json out.json]

Needs, under ``--home``, a warehouse with the gold papers and a saved model of each embedder (the newest
``models/<version>-fast-*`` and ``-accurate-*``: run ``classify --refit`` once with each). Prints the pooled,
bagged stage-2 fit (``analytics.classify.stage2``) as ``TopicClassifier`` parameters, its in-sample macro F1 per
embedder, and the held-out macro F1 of the whole procedure (5-fold, 5 repeats): the figure to expect on new papers.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import joblib
import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from analytics.classify import PaperBatch, read_gold  # noqa: E402
from analytics.classify.evaluation import macro_f1_matrix  # noqa: E402
from analytics.classify.stage2 import (FEATURES, cross_validate, fit_stage2, predict_stage2,  # noqa: E402
                                       stage2_features)
from analytics.embeddings import get_embedder  # noqa: E402
from analytics.embeddings.base import paper_texts  # noqa: E402
from warehouse.api import open_warehouse  # noqa: E402

WITHOUT_RAW = tuple(f for f in FEATURES if f != "rule_raw")  # the shipped choice: see model.py


def newest_model(models: Path, embedder: str) -> Path:
    found = sorted(p for p in models.glob(f"*-{embedder}-*") if (p / "classifier.joblib").exists())
    if not found:
        sys.exit(f"no saved {embedder} model under {models}; run `arxiv-trends classify --refit --embedder {embedder}`")
    return found[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--home", required=True)
    parser.add_argument("--gold", default=str(ROOT.parent / "shared" / "gold" / "dev.jsonl"))
    parser.add_argument("--bootstraps", type=int, default=50)
    parser.add_argument("--json", dest="json_out")
    args = parser.parse_args()

    wh = open_warehouse(args.home)
    gold = read_gold(args.gold)
    papers = (wh.scan_papers().filter(pl.col("id").is_in(list(gold)))
              .select("id", "title", "abstract", "categories").collect().unique("id").sort("id"))
    if papers.height < len(gold):
        print(f"{len(gold) - papers.height} gold papers are not in the warehouse and are left out", file=sys.stderr)
    features, versions = [], {}
    for embedder in ("fast", "accurate"):
        folder = newest_model(wh.settings.models_dir, embedder)
        clf = joblib.load(folder / "classifier.joblib")
        vectors = get_embedder(embedder, wh.settings).encode(paper_texts(papers))
        decision = clf.decide(PaperBatch(papers.select("title", "abstract", "categories"), vectors))
        features.append(stage2_features(clf, decision))
        versions[embedder] = folder.name
        topic_ids = clf.topic_ids_
    y = np.array([[t in gold[pid] for t in topic_ids] for pid in papers["id"]], dtype=bool)

    stage2 = fit_stage2(features, y, WITHOUT_RAW, args.bootstraps)
    in_sample = {e: round(macro_f1_matrix(y, predict_stage2(f, stage2)), 4) for e, f in zip(versions, features)}
    held_out = {e: (round(m, 4), round(s, 4)) for e, (m, s) in
                zip(versions, cross_validate(features, y, WITHOUT_RAW, bootstraps=args.bootstraps))}
    result = {"models": versions, "papers": papers.height, "params": stage2.params(),
              "in_sample_macro_f1": in_sample, "cv_macro_f1_mean_sd": held_out}
    print(json.dumps(result, indent=1))
    if args.json_out:
        Path(args.json_out).write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
