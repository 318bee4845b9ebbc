"""``label-sample``: the unlabelled papers whose labels would most improve the current model.

Uncertainty sampling: a paper helps most where the model is least sure, that is where a topic's score sits near
that topic's decision threshold. Candidates are drawn evenly from the four eras (old vocabulary needs labels too);
within an era, topics take turns choosing their most uncertain paper, so one busy topic cannot fill the sample.
The output is a label file with ``"topics": null`` on every line: fill in the topics (an empty list means none)
and pass it back with ``classify --refit --labels FILE``; lines left null are skipped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import polars as pl

from analytics.classify.model import PaperBatch
from analytics.classify.store import ClassifierBundle
from analytics.embeddings.base import paper_texts
from analytics.eras import ERA_NAMES, frame_eras
from warehouse.api import Warehouse
from warehouse.errors import InputError

POOL_PER_ERA = 5_000  # candidates scored per era


def closeness(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """1 at a topic's threshold, falling to 0 at a score of 0 or 1: how unsure the model is, per paper and topic."""
    span = np.where(scores >= thresholds, 1 - thresholds, thresholds)
    return 1 - np.abs(scores - thresholds) / np.maximum(span, 1e-9)


def pick(uncertainty: np.ndarray, n: int) -> list[int]:
    """Rows chosen by topics in turn, each taking its most uncertain row not yet taken."""
    order = np.argsort(-uncertainty, axis=0, kind="stable")
    taken: list[int] = []
    seen: set[int] = set()
    depth = 0
    while len(taken) < min(n, uncertainty.shape[0]) and depth < uncertainty.shape[0]:
        for t in np.argsort(-uncertainty[order[depth], np.arange(uncertainty.shape[1])], kind="stable"):
            row = int(order[depth, t])
            if row not in seen and len(taken) < n:
                seen.add(row)
                taken.append(row)
        depth += 1
    return taken


def label_sample(wh: Warehouse, bundle: ClassifierBundle, n: int = 200, topic: str | None = None,
                 seed: int = 0) -> pl.DataFrame:
    """Up to ``n`` papers to label, spread over the eras: id, title, abstract, categories, submitted, era, and the
    model's guess (topics, scores, the topics it is unsure about)."""
    clf = bundle.classifier
    if topic is not None and topic not in clf.topic_ids_:
        raise InputError(f"unknown topic {topic!r}; the model's topics are: {', '.join(clf.topic_ids_)}")
    labelled = set(bundle.outcome.ids.tolist()) if bundle.outcome is not None else set()
    papers = (wh.scan_papers().select("id", "title", "abstract", "categories", "submitted").collect()
              .filter(~pl.col("id").is_in(list(labelled))))
    if papers.height == 0:
        raise InputError("no unlabelled papers in the warehouse; run `arxiv-trends backfill` first")
    era = frame_eras(papers)
    pools = [np.flatnonzero(era == k) for k in range(len(ERA_NAMES))]
    rng = np.random.default_rng(seed)
    pools = [np.sort(rng.choice(p, min(len(p), POOL_PER_ERA), replace=False)) for p in pools if len(p)]
    per_era = [n // len(pools) + (k < n % len(pools)) for k in range(len(pools))]
    from analytics.embeddings import EmbeddingCache

    chosen_rows = []
    for rows, quota in zip(pools, per_era):
        part = papers[rows.tolist()]
        vectors = EmbeddingCache(wh).embed(part["id"].to_list(), paper_texts(part), bundle.embedder())
        scores = clf.decide(PaperBatch(part.drop("id"), vectors)).scores
        unsure = closeness(scores, clf.thresholds_)
        if topic is not None:
            unsure = unsure[:, [clf.topic_ids_.index(topic)]]
        chosen_rows += [(rows[r], scores[r]) for r in pick(unsure, quota)]
    thresholds = clf.thresholds_
    out = []
    for row, scores in chosen_rows:
        paper = papers.row(int(row), named=True)
        guess = [clf.topic_ids_[t] for t in np.argsort(-scores)[:clf.max_topics] if scores[t] >= thresholds[t]]
        out.append({"id": paper["id"], "topics": None, "guess": guess,
                    "unsure": [t for t, c in zip(clf.topic_ids_, closeness(scores, thresholds)) if c >= 0.5],
                    "scores": {t: round(float(s), 3) for t, s in zip(clf.topic_ids_, scores) if s >= 0.05},
                    "era": ERA_NAMES[int(era[row])], "title": paper["title"], "abstract": paper["abstract"],
                    "categories": paper["categories"],
                    "submitted": paper["submitted"].isoformat() if paper["submitted"] else None})
    return pl.DataFrame(out, infer_schema_length=None) if out else pl.DataFrame()


def write_sample(rows: pl.DataFrame, path: str | Path) -> Path:
    """One JSON object per line, ready to fill in (``topics``) and pass to ``--labels``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows.iter_rows(named=True)))
    return path
