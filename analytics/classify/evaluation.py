"""Precision / recall / F1 against a gold file (``{"id", "topics": [...]}`` per line), per topic, micro and macro.

Macro and micro F1 come with a 95% bootstrap interval over the gold papers: on a few hundred papers, with topics
that have a handful of positives, one paper moves macro F1 by a point, and a reader comparing two models should see
how wide "the same" is.

A trend is a count, so counts are judged too: a topic's count bias is predicted / true positives - 1 (+0.20: the
classifier finds 20% more papers of the topic than there are), and the mean absolute count bias averages it over
the topics with positives. ``by_era`` repeats everything within each era of ``analytics.eras``: vocabulary moves, so
a classifier can be right on today's papers and wrong on 2016's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import orjson

from warehouse.errors import InputError


@dataclass
class Evaluation:
    per_topic: dict[str, dict[str, float]]
    macro_f1: float
    micro_f1: float
    papers: int
    missing: list[str] = field(default_factory=list)  # gold ids without a prediction (counted as no topic)
    macro_f1_ci: tuple[float, float] | None = None  # 95% bootstrap interval over the gold papers
    micro_f1_ci: tuple[float, float] | None = None
    count_bias: dict[str, float | None] = field(default_factory=dict)  # predicted / true - 1 (None: no positives)
    count_bias_ci: dict[str, tuple[float, float] | None] = field(default_factory=dict)
    mean_abs_count_bias: float | None = None  # over topics with positives; sampling noise alone keeps it above 0
    by_era: dict[str, dict] = field(default_factory=dict)  # era name -> this dict, for the era's papers

    def as_dict(self) -> dict:
        return asdict(self)


def read_gold(path: str | Path) -> dict[str, list[str]]:
    """``{id: [topics]}`` from a gold JSON-lines file; clear errors for a bad file."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"gold file not found: {path}")
    gold: dict[str, list[str]] = {}
    for number, line in enumerate(path.read_bytes().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = orjson.loads(line)
            gold[str(row["id"])] = [str(t) for t in row["topics"]]
        except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
            raise InputError(f"{path}:{number}: expected {{\"id\": ..., \"topics\": [...]}} ({exc})") from None
    if not gold:
        raise InputError(f"{path}: no labelled papers")
    return gold


def _f1(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


def _f1_arrays(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    denominator = 2 * tp + fp + fn
    return np.divide(2 * tp, denominator, out=np.zeros(np.broadcast(tp, denominator).shape), where=denominator > 0)


def _macro_from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """Mean F1 over the last axis (topics), counting only topics that occur in the gold labels or the predictions."""
    active = (tp + fp + fn) > 0
    return (_f1_arrays(tp, fp, fn) * active).sum(axis=-1) / np.maximum(active.sum(axis=-1), 1)


def macro_f1_matrix(gold: np.ndarray, predicted: np.ndarray) -> float:
    """Macro F1 of boolean (papers, topics) matrices, as ``evaluate`` computes it."""
    g, p = np.asarray(gold, dtype=bool), np.asarray(predicted, dtype=bool)
    return float(_macro_from_counts((g & p).sum(axis=0), (~g & p).sum(axis=0), (g & ~p).sum(axis=0)))


def bootstrap_intervals(gold: np.ndarray, predicted: np.ndarray, resamples: int = BOOTSTRAP_RESAMPLES,
                        seed: int = BOOTSTRAP_SEED) -> dict[str, Any]:
    """95% percentile intervals over papers drawn with replacement: ``macro`` and ``micro`` F1, and ``count_bias``
    (one interval per topic, None for a topic without positives in some resample).

    ``gold`` and ``predicted`` are boolean (papers, topics) matrices. Each resample averages over the topics
    that occur in its own gold or predictions, as ``evaluate`` does over the whole set.
    """
    n = gold.shape[0]
    counts = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(np.float64)
    g, p = gold.astype(np.float64), predicted.astype(np.float64)
    tp, fp, fn = counts @ (g * p), counts @ ((1 - g) * p), counts @ (g * (1 - p))

    def interval(values: np.ndarray) -> tuple[float, float]:
        low, high = np.percentile(values, [2.5, 97.5])
        return round(float(low), 4), round(float(high), 4)

    true = tp + fn
    bias = [interval((tp[:, t] + fp[:, t]) / true[:, t] - 1) if (true[:, t] > 0).all() else None
            for t in range(gold.shape[1])]
    return {"macro": interval(_macro_from_counts(tp, fp, fn)),
            "micro": interval(_f1_arrays(tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1))), "count_bias": bias}


def evaluate_matrices(gold: np.ndarray, predicted: np.ndarray, topics: list[str], eras: np.ndarray | None = None,
                      era_names: tuple[str, ...] = ()) -> Evaluation:
    """Score boolean (papers, topics) matrices; with ``eras`` (an era index per paper) also each era alone."""
    gold, predicted = np.asarray(gold, dtype=bool), np.asarray(predicted, dtype=bool)
    tps = (gold & predicted).sum(axis=0)
    fps = (~gold & predicted).sum(axis=0)
    fns = (gold & ~predicted).sum(axis=0)
    per_topic: dict[str, dict[str, float]] = {}
    count_bias: dict[str, float | None] = {}
    for topic, tp, fp, fn in zip(topics, tps.tolist(), fps.tolist(), fns.tolist()):
        p, r, f = _f1(tp, fp, fn)
        per_topic[topic] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4), "support": tp + fn}
        count_bias[topic] = round((tp + fp) / (tp + fn) - 1, 4) if tp + fn else None
    # a topic absent from both gold and predictions says nothing about the model: leave it out of the mean
    active = (tps + fps + fns) > 0
    macro = float(np.mean([per_topic[t]["f1"] for t, a in zip(topics, active) if a])) if active.any() else 0.0
    biases = [abs(b) for b in count_bias.values() if b is not None]
    ci = bootstrap_intervals(gold, predicted) if len(gold) else {"macro": None, "micro": None,
                                                                 "count_bias": [None] * len(topics)}
    by_era = {}
    if eras is not None:
        for k, name in enumerate(era_names):
            rows = np.asarray(eras) == k
            if rows.any():
                by_era[name] = evaluate_matrices(gold[rows], predicted[rows], topics).as_dict()
                by_era[name].pop("by_era")
                by_era[name].pop("missing")
    return Evaluation(per_topic=per_topic, macro_f1=round(macro, 4),
                      micro_f1=round(_f1(int(tps.sum()), int(fps.sum()), int(fns.sum()))[2], 4), papers=len(gold),
                      macro_f1_ci=ci["macro"], micro_f1_ci=ci["micro"], count_bias=count_bias,
                      count_bias_ci=dict(zip(topics, ci["count_bias"])),
                      mean_abs_count_bias=round(float(np.mean(biases)), 4) if biases else None, by_era=by_era)


def evaluate(predictions: Mapping[str, Iterable[str]], gold_path: str | Path | Mapping[str, list[str]],
             topics: Iterable[str] | None = None, eras: Mapping[str, int] | None = None,
             era_names: tuple[str, ...] = ()) -> Evaluation:
    """Score ``{id: predicted topics}`` on the gold papers; per-topic rows for ``topics`` (default: gold ∪ predicted),
    macro F1 over those of them that occur in the gold labels or the predictions; with ``eras`` (``{id: era
    index}``), also per era."""
    gold = dict(gold_path) if isinstance(gold_path, Mapping) else read_gold(gold_path)
    predicted = {pid: set(predictions.get(pid, ())) for pid in gold}
    topic_list = list(topics) if topics is not None else sorted(
        {t for ts in gold.values() for t in ts} | {t for ts in predicted.values() for t in ts})
    ids = list(gold)
    matrix_gold = np.array([[t in gold[pid] for t in topic_list] for pid in ids], dtype=bool).reshape(len(ids), -1)
    matrix_pred = np.array([[t in predicted[pid] for t in topic_list] for pid in ids], dtype=bool).reshape(len(ids), -1)
    era_of = None if eras is None else np.array([eras.get(pid, -1) for pid in ids])
    result = evaluate_matrices(matrix_gold, matrix_pred, topic_list, era_of, era_names)
    result.missing = sorted(pid for pid in gold if pid not in predictions)
    return result
