"""Re-derive the classifier's quality figures: repeated cross-validation of the supervised stage on the shipped labels.

Needs a home whose current model was fitted (``arxiv-trends classify``): its stage 1 (rules, weak-label models,
zero-shot) supplies the weak signals, as in a real fit. Each repeat redoes the whole supervised fit (level-1 models,
meta models, thresholds) on 4/5 of the labelled papers and scores the other fifth; the tables are the mean over
repeats, with the 95% bootstrap interval of the first repeat. Prints per topic (F1, count bias), per era, the dev
set alone, and the time and peak memory.

    .venv/bin/python bench/supervised.py --home data [--repeats 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.classify.evaluation import evaluate_matrices  # noqa: E402
from analytics.classify.pipeline import load_model  # noqa: E402
from analytics.classify.training import embed_labels, labelled_batch, load_labels  # noqa: E402
from analytics.embeddings import EmbeddingCache  # noqa: E402
from analytics.eras import ERA_NAMES  # noqa: E402
from warehouse import open_warehouse  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", default="data")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", dest="json_path", default=None)
    args = parser.parse_args()
    wh = open_warehouse(args.home)
    bundle = load_model(wh.settings)
    clf = bundle.classifier
    labels, _ = load_labels(wh, clf.taxonomy_)
    batch = labelled_batch(labels, clf.topic_ids_, embed_labels(labels, bundle.embedder(), EmbeddingCache(wh)))
    era = clf.signals(batch.papers).era
    started = time.perf_counter()
    runs = []
    for seed in range(args.repeats):
        _, chosen = clf.cross_validate(batch, seed=seed)
        runs.append(evaluate_matrices(batch.y & batch.judged, chosen & batch.judged, clf.topic_ids_, era, ERA_NAMES))
    seconds = (time.perf_counter() - started) / args.repeats
    first = runs[0]
    mean = lambda get: float(np.mean([get(r) for r in runs]))  # noqa: E731
    print(f"{bundle.embedder_name} embedder, {len(labels)} labelled papers, {args.repeats} x 5-fold cv "
          f"({seconds:.0f} s per repeat)")
    print(f"macro F1 {mean(lambda r: r.macro_f1):.3f} (sd {np.std([r.macro_f1 for r in runs]):.3f}; 95% CI of "
          f"repeat 1 {first.macro_f1_ci[0]:.3f}-{first.macro_f1_ci[1]:.3f}), micro F1 {mean(lambda r: r.micro_f1):.3f}, "
          f"mean |count bias| {mean(lambda r: r.mean_abs_count_bias):.3f}")
    print(f"{'topic':26s} {'F1':>6s} {'prec':>6s} {'recall':>6s} {'bias':>7s}  95% CI of the bias")
    for topic in clf.topic_ids_:
        f1 = mean(lambda r: r.per_topic[topic]["f1"])
        prec, rec = mean(lambda r: r.per_topic[topic]["precision"]), mean(lambda r: r.per_topic[topic]["recall"])
        bias, ci = mean(lambda r: r.count_bias[topic]), first.count_bias_ci[topic]
        print(f"{topic:26s} {f1:6.3f} {prec:6.3f} {rec:6.3f} {bias:+7.1%}  {ci[0]:+.1%} to {ci[1]:+.1%}")
    for name in ERA_NAMES:
        part = lambda r: r.by_era[name]  # noqa: E731
        ci = first.by_era[name]["macro_f1_ci"]
        print(f"era {name:8s} papers {first.by_era[name]['papers']:5d}  macro F1 {mean(lambda r: part(r)['macro_f1']):.3f} "
              f"(95% CI {ci[0]:.3f}-{ci[1]:.3f})  mean |count bias| "
              f"{mean(lambda r: part(r)['mean_abs_count_bias']):.3f}")
    dev = labels.frame["set"].to_numpy() == "dev"
    _, chosen = clf.cross_validate(batch, seed=0)
    on_dev = evaluate_matrices(batch.y[dev], chosen[dev], clf.topic_ids_)
    print(f"dev set alone (238 papers, out-of-fold): macro F1 {on_dev.macro_f1:.3f} (95% CI {on_dev.macro_f1_ci[0]:.3f}-"
          f"{on_dev.macro_f1_ci[1]:.3f}), mean |count bias| {on_dev.mean_abs_count_bias:.3f}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GB")
    if args.json_path:
        Path(args.json_path).write_text(json.dumps([r.as_dict() for r in runs], default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
