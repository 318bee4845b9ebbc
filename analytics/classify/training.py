"""The labelled papers a fit learns from: the shipped ones (for the built-in topic ids the taxonomy keeps) plus the
user's ``--labels`` files, embedded and turned into the supervised stage's input."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import polars as pl

from analytics.classify.model import LabelledBatch, PaperBatch
from analytics.embeddings.base import paper_texts
from analytics.labels import FUZZY_TOPICS, LabelledPapers, combine, read_labels, shipped_labels
from analytics.taxonomy import Taxonomy, load_taxonomy
from warehouse.api import Warehouse

PAPER_FIELDS = ["title", "abstract", "categories", "submitted"]


def _lookup(wh: Warehouse):
    def lookup(ids: list[str]) -> pl.DataFrame:
        if not wh.has_table("papers"):
            return pl.DataFrame(schema={"id": pl.String})
        return wh.scan_papers().filter(pl.col("id").is_in(ids)).select("id", *PAPER_FIELDS).collect()
    return lookup


def load_labels(wh: Warehouse, taxonomy: Taxonomy, label_files: Sequence[str | Path] = ()) -> tuple[LabelledPapers, dict]:
    """The labelled papers for ``taxonomy`` and what ``current.json`` records of them (digest, files, counts)."""
    parts = [shipped_labels()] if set(load_taxonomy().ids) & set(taxonomy.ids) else []
    pending = 0
    for path in label_files:
        labelled, skipped = read_labels(path, taxonomy.ids, _lookup(wh))
        parts.append(labelled)
        pending += skipped
    labels = combine(parts)
    info = {"digest": labels.digest(), "files": [str(Path(p).resolve()) for p in label_files],
            "papers": {str(k): int(v) for k, v in labels.counts().items()}, "not_yet_labelled": pending}
    return labels, info


def labelled_batch(labels: LabelledPapers, topic_ids: list[str], vectors: np.ndarray) -> LabelledBatch:
    """The supervised stage's input; for the fuzzy-boundary topics only reference-style papers set the threshold."""
    y, judged = labels.matrices(topic_ids)
    fuzzy = np.array([t in FUZZY_TOPICS for t in topic_ids])
    threshold_rows = judged & (labels.reference()[:, None] | ~fuzzy[None, :])
    return LabelledBatch(PaperBatch(labels.frame.select(PAPER_FIELDS), vectors), y, judged, threshold_rows)


def embed_labels(labels: LabelledPapers, embedder, cache) -> np.ndarray:
    """Vectors of the labelled papers: from the embeddings cache where the warehouse holds them, else computed (and
    not stored: the cache holds the warehouse's papers)."""
    return cache.embed(labels.frame["id"].to_list(), paper_texts(labels.frame), embedder, store=False)
