"""The combined estimator: deterministic fits, save/load and clone, and the 0-3 topics / [0, 1] invariants."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import pytest
from sklearn.base import clone

from analytics.classify import PaperBatch, TopicClassifier
from analytics.classify.model import top_k_mask
from analytics.taxonomy import load_taxonomy
from tests.analytics.classify.conftest import HashEmbedder, frame_of, synthetic_records


def _batch(records, embedder: HashEmbedder) -> PaperBatch:
    frame = frame_of(records)
    texts = [f"{t}. {a}" for t, a in zip(frame["title"], frame["abstract"])]
    return PaperBatch(frame, embedder.encode(texts))


@pytest.fixture(scope="module")
def data(embedder):
    return _batch(synthetic_records(300, seed=1), embedder), _batch(synthetic_records(100, seed=2), embedder)


@pytest.fixture(scope="module")
def descriptions(embedder) -> np.ndarray:
    return embedder.encode(list(load_taxonomy().descriptions().values()))


@pytest.fixture(scope="module")
def fitted(data, descriptions) -> TopicClassifier:
    return TopicClassifier(min_positives=5).fit(data[0], description_vectors=descriptions)


def test_fit_learns_weak_labels_and_is_deterministic(data, fitted, descriptions):
    again = TopicClassifier(min_positives=5).fit(data[0], description_vectors=descriptions)
    np.testing.assert_array_equal(fitted.coef_, again.coef_)
    np.testing.assert_array_equal(fitted.lexical_coef_, again.lexical_coef_)
    np.testing.assert_array_equal(fitted.predict_proba(data[1]), again.predict_proba(data[1]))
    assert fitted.n_weak_positives_["machine_translation"] == 60
    assert fitted.n_weak_positives_["governance"] == 0
    # a topic without weak positives has no learned models: its embedding and lexical probabilities stay near zero
    decision = fitted.decide(data[1])
    governance = fitted.topic_ids_.index("governance")
    assert decision.embedding[:, governance].max() < 0.01 and decision.lexical[:, governance].max() < 0.01
    # the lexical model learned the weak-labelled topic's vocabulary
    mt = fitted.topic_ids_.index("machine_translation")
    assert decision.lexical[:, mt].max() > 0.5


def test_predictions_follow_the_synthetic_topics(data, fitted):
    test = synthetic_records(100, seed=2)
    chosen = fitted.predict(data[1])
    ids = fitted.topic_ids_
    for row, record in enumerate(test):
        got = {ids[c] for c in np.flatnonzero(chosen[row])}
        assert got == ({record["x_kind"]} if record["x_kind"] else set()), (record["title"], got)


def test_invariants_scores_in_unit_interval_and_at_most_three_topics(data, fitted):
    scores = fitted.predict_proba(data[1])
    assert scores.shape == (100, 16) and np.all((scores >= 0) & (scores <= 1))
    loose = clone(fitted).set_params(threshold=0.0).fit(data[0], description_vectors=fitted.description_vectors_)
    assert np.all(loose.predict(data[1]).sum(axis=1) == 3)
    assert np.all(fitted.predict(data[1]).sum(axis=1) <= 3)


def test_top_k_mask_breaks_ties_stably():
    scores = np.array([[0.9, 0.9, 0.9, 0.9, 0.1], [0.2, 0.1, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(top_k_mask(scores, 0.5, 3), [[1, 1, 1, 0, 0], [0, 0, 0, 0, 0]])


def test_save_load_gives_identical_predictions(tmp_path: Path, data, fitted):
    joblib.dump(fitted, tmp_path / "m.joblib")
    loaded = joblib.load(tmp_path / "m.joblib")
    np.testing.assert_array_equal(loaded.predict_proba(data[1]), fitted.predict_proba(data[1]))
    np.testing.assert_array_equal(loaded.predict(data[1]), fitted.predict(data[1]))


def test_clone_keeps_params_and_drops_state(fitted):
    fresh = clone(fitted)
    assert fresh.get_params() == fitted.get_params()
    assert not hasattr(fresh, "coef_")


def test_wrong_embedding_size_is_a_clear_error(fitted):
    batch = PaperBatch(frame_of(synthetic_records(3)), np.zeros((3, 8), dtype=np.float32))
    with pytest.raises(ValueError, match="another embedder"):
        fitted.predict(batch)


def test_batch_length_mismatch():
    with pytest.raises(ValueError, match="3 papers but 2 embeddings"):
        PaperBatch(frame_of(synthetic_records(3)), np.zeros((2, 8)))
