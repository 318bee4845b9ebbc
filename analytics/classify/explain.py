"""Why a paper got a topic, in words a reader can check: the terms of its text that pushed the topic's lexical
model up most. (The rule phrases come from ``RuleEngine.score(..., keep_text=True).matched(row)``.)

Reports ask this for a few papers only (the representative ones of each topic), so it loads the fitted classifier
alone (not BERTopic, not the embedder) and works on the rows it is given.
"""

from __future__ import annotations

import pickle
from typing import Sequence

import joblib
import numpy as np
import polars as pl

from analytics.classify.model import TopicClassifier
from analytics.classify.store import CLASSIFIER_FILE, read_current
from analytics.embeddings.base import paper_texts
from warehouse.settings import Settings


def load_classifier(settings: Settings) -> tuple[TopicClassifier | None, str]:
    """The current fitted classifier (without its subtopic model), or None and the reason it cannot be had."""
    try:
        current = read_current(settings)
    except ValueError as exc:
        return None, f"models/current.json is not valid JSON ({exc})"
    if not current or not current.get("version"):
        return None, "no classifier has been fitted yet"
    path = settings.models_dir / str(current["version"]) / CLASSIFIER_FILE
    if not path.exists():
        return None, f"the model file {path} is missing"
    try:
        return joblib.load(path), ""
    except (OSError, EOFError, ValueError, AttributeError, ImportError, pickle.UnpicklingError) as exc:
        return None, f"the model file {path} could not be read ({type(exc).__name__})"


def strongest_terms(classifier: TopicClassifier, frame: pl.DataFrame, topic_index: int | Sequence[int],
                    k: int = 5) -> list[list[tuple[str, float]]]:
    """Per row of ``frame`` (title, abstract): the ``k`` words or bigrams whose TF-IDF weight times the topic's
    lexical coefficient is largest and positive, with that contribution, strongest first (ties by term). A term
    whose words a stronger one already shows is skipped ("models" after "language models").

    ``topic_index`` is one topic for every row, or one per row."""
    topics = [topic_index] * frame.height if isinstance(topic_index, (int, np.integer)) else list(topic_index)
    if len(topics) != frame.height:
        raise ValueError(f"{frame.height} papers but {len(topics)} topic indices")
    if frame.height == 0:
        return []
    words = classifier.vectorizer_.transform(paper_texts(frame)).tocsr()
    names = classifier.vectorizer_.get_feature_names_out()
    out = []
    for row, topic in enumerate(topics):
        start, end = words.indptr[row], words.indptr[row + 1]
        columns = words.indices[start:end]
        weights = words.data[start:end] * classifier.lexical_coef_[topic, columns]
        chosen: list[tuple[str, float]] = []
        shown: set[str] = set()
        for w, term in sorted((-float(w), str(names[c])) for c, w in zip(columns, weights) if w > 0):
            if len(chosen) == k:
                break
            if not set(term.split()) <= shown:
                chosen.append((term, -w))
                shown.update(term.split())
        out.append(chosen)
    return out
