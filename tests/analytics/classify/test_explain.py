"""Strongest terms: the words of a paper that pushed a topic's lexical model up most."""

from __future__ import annotations

import joblib
import numpy as np
import pytest

from analytics.classify.explain import load_classifier, strongest_terms
from analytics.classify.model import PaperBatch, TopicClassifier
from tests.analytics.classify.conftest import frame_of, synthetic_records
from warehouse.settings import Settings


@pytest.fixture(scope="module")
def fitted(embedder) -> TopicClassifier:
    records = synthetic_records(200, seed=3)
    frame = frame_of(records)
    return TopicClassifier(min_positives=5).fit(PaperBatch(frame, embedder.encode([r["title"] for r in records])))


def test_strongest_terms_are_the_topic_words_of_the_paper(fitted: TopicClassifier) -> None:
    records = synthetic_records(5, seed=9)   # kinds in order: translation, protein, language model, security, physics
    frame = frame_of(records)
    protein = fitted.topic_ids_.index("protein")
    terms = strongest_terms(fitted, frame, protein, k=3)
    assert len(terms) == 5 and len(terms[1]) == 3
    words = [t for t, _ in terms[1]]
    assert "protein" in " ".join(words)
    weights = [w for _, w in terms[1]]
    assert weights == sorted(weights, reverse=True) and all(w > 0 for w in weights)
    assert terms[4] == [] or all("protein" not in t for t, _ in terms[4])   # a physics paper has no protein words
    per_row = strongest_terms(fitted, frame, [protein] * 5, k=3)
    assert per_row == terms
    with pytest.raises(ValueError, match="5 papers but 2 topic indices"):
        strongest_terms(fitted, frame, [protein, protein])


def test_load_classifier_says_why_it_cannot(tmp_path, fitted: TopicClassifier) -> None:
    settings = Settings.from_home(tmp_path)
    assert load_classifier(settings) == (None, "no classifier has been fitted yet")
    settings.models_dir.mkdir(parents=True)
    (settings.models_dir / "current.json").write_text('{"version": "v1"}', encoding="utf-8")
    model, why = load_classifier(settings)
    assert model is None and "classifier.joblib is missing" in why
    (settings.models_dir / "v1").mkdir()
    joblib.dump(fitted, settings.models_dir / "v1" / "classifier.joblib")
    model, why = load_classifier(settings)
    assert why == "" and np.array_equal(model.lexical_coef_, fitted.lexical_coef_)
