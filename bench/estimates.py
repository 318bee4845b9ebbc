"""How good the error-corrected counts are, measured two ways.

1. Held-out labelled papers: the current model's out-of-fold results on the labelled papers (saved by the fit) are
   split 5-fold, ``--repeats`` times; the calibration is estimated on four folds and the fifth is counted as one
   set of about 440 papers, as ``classify-file --summary`` does. Reports the mean absolute error of the 16 topic
   counts (classified, corrected, and adjusted classify-and-count for comparison) and how often the 90% interval
   holds the true count, per topic.
2. Simulated months with a known truth (``tests/analytics/metrics/test_estimates.py``'s generator, several seeds):
   coverage of the 90% intervals over topic-months and the error against the classified counts.

    .venv/bin/python bench/estimates.py --home data [--repeats 5]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.classify.quality import LabelledOutcome  # noqa: E402
from analytics.classify.store import read_current  # noqa: E402
from analytics.metrics.estimates import Calibration, set_estimate  # noqa: E402
from warehouse import open_warehouse  # noqa: E402


def _rows(outcome: LabelledOutcome, rows: np.ndarray) -> LabelledOutcome:
    return replace(outcome, ids=outcome.ids[rows], sets=outcome.sets[rows], era=outcome.era[rows], y=outcome.y[rows],
                   judged=outcome.judged[rows], threshold_rows=outcome.threshold_rows[rows],
                   scores=outcome.scores[rows], chosen=outcome.chosen[rows])


def held_out(outcome: LabelledOutcome, repeats: int) -> None:
    errors = {"classified": [], "corrected": [], "adjusted (ACC)": []}
    covered = []
    n = len(outcome.ids)
    for repeat in range(repeats):
        for train, test in KFold(5, shuffle=True, random_state=repeat).split(np.arange(n)):
            calibration = Calibration.from_outcome(_rows(outcome, train), seed=repeat)
            part = _rows(outcome, test)
            ref = part.threshold_rows  # the labels the topic's style is judged by (reference style for fuzzy ones)
            truth = (part.y & ref).sum(axis=0)
            summary = set_estimate(np.where(ref, part.scores, 0.0), part.era, calibration)
            estimate = np.array([summary[t]["estimate"] for t in outcome.topic_ids])
            low = np.array([summary[t]["low"] for t in outcome.topic_ids])
            high = np.array([summary[t]["high"] for t in outcome.topic_ids])
            tr = _rows(outcome, train)
            tpr = (tr.chosen & tr.y & tr.threshold_rows).sum(0) / np.maximum((tr.y & tr.threshold_rows).sum(0), 1)
            fpr = (tr.chosen & ~tr.y & tr.threshold_rows).sum(0) / np.maximum((~tr.y & tr.threshold_rows).sum(0), 1)
            classified = (part.chosen & ref).sum(axis=0)
            acc = np.clip((classified - ref.sum(0) * fpr) / np.maximum(tpr - fpr, 1e-6), 0, ref.sum(0))
            errors["classified"].append(np.abs(classified - truth))
            errors["corrected"].append(np.abs(estimate - truth))
            errors["adjusted (ACC)"].append(np.abs(acc - truth))
            covered.append((low <= truth) & (truth <= high))
    print(f"held-out sets of ~{n // 5} labelled papers ({repeats} x 5 folds): mean absolute error of a topic count")
    for name, values in errors.items():
        print(f"  {name:16s} {np.mean(values):5.2f} papers")
    coverage = np.mean(covered, axis=0)
    print(f"  90% interval holds the true count: {np.mean(covered):.0%} of topic-sets; topics covered in at least 80% "
          f"of sets: {(coverage >= 0.8).sum()} of {len(coverage)}")
    for topic, c, e, r in zip(outcome.topic_ids, coverage, np.mean(errors["corrected"], 0),
                              np.mean(errors["classified"], 0)):
        print(f"  {topic:26s} coverage {c:4.0%}  error corrected {e:5.2f}  classified {r:5.2f}")


def simulated(seeds: int) -> None:
    from tests.analytics.metrics.test_estimates import simulate

    coverage, ratio = [], []
    for seed in range(seeds):
        monthly, _ = simulate(seed)
        coverage.append(((monthly["papers_low"] <= monthly["true"]) & (monthly["true"] <= monthly["papers_high"])).mean())
        ratio.append((monthly["papers_est"] - monthly["true"]).abs().mean()
                     / (monthly["papers"] - monthly["true"]).abs().mean())
    print(f"simulated months ({seeds} seeds x 4 topics x 96 months): 90% intervals hold the truth in "
          f"{np.mean(coverage):.1%} of topic-months (range {min(coverage):.1%}-{max(coverage):.1%}); corrected error "
          f"{np.mean(ratio):.0%} of the classified counts' error")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", default="data")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    started = time.perf_counter()
    wh = open_warehouse(args.home)
    current = read_current(wh.settings)
    outcome = LabelledOutcome.load(wh.settings.models_dir / current["version"]) if current else None
    if outcome is None:
        sys.exit(f"no model with labelled results under {args.home}: run `arxiv-trends classify` first")
    held_out(outcome, args.repeats)
    simulated(args.seeds)
    print(f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
