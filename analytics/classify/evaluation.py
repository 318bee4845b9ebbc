"""Precision / recall / F1 against a gold file (``{"id", "topics": [...]}`` per line), per topic, micro and macro.

Macro and micro F1 come with a 95% bootstrap interval over the gold papers: on a few hundred papers, with topics
that have a handful of positives, one paper moves macro F1 by a point, and a reader comparing two models should see
how wide "the same" is.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

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
                        seed: int = BOOTSTRAP_SEED) -> tuple[tuple[float, float], tuple[float, float]]:
    """95% percentile intervals of (macro F1, micro F1) over papers drawn with replacement.

    ``gold`` and ``predicted`` are boolean (papers, topics) matrices. Each resample averages F1 over the topics
    that occur in its own gold or predictions, as ``evaluate`` does over the whole set.
    """
    n = gold.shape[0]
    counts = np.random.default_rng(seed).multinomial(n, np.full(n, 1.0 / n), size=resamples).astype(np.float64)
    g, p = gold.astype(np.float64), predicted.astype(np.float64)
    tp, fp, fn = counts @ (g * p), counts @ ((1 - g) * p), counts @ (g * (1 - p))
    macro = _macro_from_counts(tp, fp, fn)
    micro = _f1_arrays(tp.sum(axis=1), fp.sum(axis=1), fn.sum(axis=1))

    def interval(values: np.ndarray) -> tuple[float, float]:
        low, high = np.percentile(values, [2.5, 97.5])
        return round(float(low), 4), round(float(high), 4)

    return interval(macro), interval(micro)


def evaluate(predictions: Mapping[str, Iterable[str]], gold_path: str | Path | Mapping[str, list[str]],
             topics: Iterable[str] | None = None) -> Evaluation:
    """Score ``{id: predicted topics}`` on the gold papers; per-topic rows for ``topics`` (default: gold ∪ predicted),
    macro F1 over those of them that occur in the gold labels or the predictions."""
    gold = dict(gold_path) if isinstance(gold_path, Mapping) else read_gold(gold_path)
    predicted = {pid: set(predictions.get(pid, ())) for pid in gold}
    topic_list = list(topics) if topics is not None else sorted(
        {t for ts in gold.values() for t in ts} | {t for ts in predicted.values() for t in ts})
    ids = list(gold)
    matrix_gold = np.array([[t in gold[pid] for t in topic_list] for pid in ids], dtype=bool).reshape(len(ids), -1)
    matrix_pred = np.array([[t in predicted[pid] for t in topic_list] for pid in ids], dtype=bool).reshape(len(ids), -1)
    tps = (matrix_gold & matrix_pred).sum(axis=0)
    fps = (~matrix_gold & matrix_pred).sum(axis=0)
    fns = (matrix_gold & ~matrix_pred).sum(axis=0)
    per_topic: dict[str, dict[str, float]] = {}
    for topic, tp, fp, fn in zip(topic_list, tps.tolist(), fps.tolist(), fns.tolist()):
        p, r, f = _f1(tp, fp, fn)
        per_topic[topic] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
                            "support": tp + fn}
    totals = (int(tps.sum()), int(fps.sum()), int(fns.sum()))
    # a topic absent from both gold and predictions says nothing about the model: leave it out of the mean
    active = {t for ts in gold.values() for t in ts} | {t for ts in predicted.values() for t in ts}
    counted = [v["f1"] for t, v in per_topic.items() if t in active]
    macro = sum(counted) / len(counted) if counted else 0.0
    macro_ci, micro_ci = bootstrap_intervals(matrix_gold, matrix_pred)
    return Evaluation(per_topic=per_topic, macro_f1=round(macro, 4), micro_f1=round(_f1(*totals)[2], 4),
                      papers=len(gold), missing=sorted(pid for pid in gold if pid not in predictions),
                      macro_f1_ci=macro_ci, micro_f1_ci=micro_ci)
