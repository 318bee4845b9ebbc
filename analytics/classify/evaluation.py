"""Precision / recall / F1 against a gold file (``{"id", "topics": [...]}`` per line), per topic, micro and macro."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

import orjson

from warehouse.errors import InputError


@dataclass
class Evaluation:
    per_topic: dict[str, dict[str, float]]
    macro_f1: float
    micro_f1: float
    papers: int
    missing: list[str] = field(default_factory=list)  # gold ids without a prediction (counted as no topic)

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


def evaluate(predictions: Mapping[str, Iterable[str]], gold_path: str | Path | Mapping[str, list[str]],
             topics: Iterable[str] | None = None) -> Evaluation:
    """Score ``{id: predicted topics}`` on the gold papers; per-topic rows for ``topics`` (default: gold ∪ predicted),
    macro F1 over those of them that occur in the gold labels or the predictions."""
    gold = dict(gold_path) if isinstance(gold_path, Mapping) else read_gold(gold_path)
    predicted = {pid: set(predictions.get(pid, ())) for pid in gold}
    topic_list = list(topics) if topics is not None else sorted(
        {t for ts in gold.values() for t in ts} | {t for ts in predicted.values() for t in ts})
    per_topic: dict[str, dict[str, float]] = {}
    totals = [0, 0, 0]
    active = {t for ts in gold.values() for t in ts} | {t for ts in predicted.values() for t in ts}
    for topic in topic_list:
        tp = sum(1 for pid, ts in gold.items() if topic in ts and topic in predicted[pid])
        fp = sum(1 for pid, ts in gold.items() if topic not in ts and topic in predicted[pid])
        fn = sum(1 for pid, ts in gold.items() if topic in ts and topic not in predicted[pid])
        p, r, f = _f1(tp, fp, fn)
        per_topic[topic] = {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4),
                            "support": tp + fn}
        totals = [totals[0] + tp, totals[1] + fp, totals[2] + fn]
    # a topic absent from both gold and predictions says nothing about the model: leave it out of the mean
    counted = [v["f1"] for t, v in per_topic.items() if t in active]
    macro = sum(counted) / len(counted) if counted else 0.0
    return Evaluation(per_topic=per_topic, macro_f1=round(macro, 4), micro_f1=round(_f1(*totals)[2], 4),
                      papers=len(gold), missing=sorted(pid for pid in gold if pid not in predictions))
