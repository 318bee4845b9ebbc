"""The supervised stage: it learns a planted topic from labels, picks thresholds for counts, and leaves topics
without enough labels to the weak path; label files parse, merge and fail clearly."""

from __future__ import annotations

import numpy as np
import orjson
import pytest
import scipy.sparse as sp

from analytics.classify.supervised import SupervisedStage, choose_threshold
from analytics.labels import combine, read_labels, shipped_labels
from analytics.taxonomy import load_taxonomy
from warehouse.errors import InputError


def _planted(n: int = 600, seed: int = 0):
    """Topic 0 is carried by word 0 and embedding axis 0 (with noise); topic 1 has 3 positives only."""
    rng = np.random.default_rng(seed)
    y = np.zeros((n, 2), dtype=bool)
    y[:, 0] = rng.random(n) < 0.3
    y[:3, 1] = True
    words = sp.csr_matrix(np.column_stack([y[:, 0] & (rng.random(n) < 0.8), rng.random((n, 50)) < 0.1]).astype(float))
    embeddings = rng.normal(0, 1, (n, 8)) + 3.0 * y[:, [0]] * np.eye(8)[0]
    weak = rng.normal(0, 1, (n, 2, 5))
    era = rng.integers(0, 4, n)
    return words, embeddings.astype(np.float32), weak, era, y


def test_learns_a_planted_topic_and_skips_a_topic_without_labels():
    words, emb, weak, era, y = _planted()
    judged = np.ones_like(y)
    stage = SupervisedStage().fit(words[:400], emb[:400], weak[:400], era[:400], y[:400], judged[:400])
    assert stage.supervised_.tolist() == [True, False]
    proba = stage.predict_proba(words[400:], emb[400:], weak[400:], era[400:])
    assert np.isnan(proba[:, 1]).all()
    chosen = proba[:, 0] >= stage.thresholds_[0]
    truth = y[400:, 0]
    f1 = 2 * (chosen & truth).sum() / (chosen.sum() + truth.sum())
    assert f1 > 0.85
    assert abs(chosen.sum() / truth.sum() - 1) < 0.25  # thresholds chosen for counts too
    # probabilities mean something: papers scored around 0.8 are mostly positives, around 0.1 mostly not
    assert truth[proba[:, 0] > 0.7].mean() > 0.8 and truth[proba[:, 0] < 0.2].mean() < 0.2


def test_only_judged_papers_teach_a_topic():
    words, emb, weak, era, y = _planted()
    judged = np.ones_like(y)
    judged[:, 0] = np.arange(len(y)) % 2 == 0  # half the papers say nothing about topic 0
    flipped = y.copy()
    flipped[~judged[:, 0], 0] = ~y[~judged[:, 0], 0]  # their (meaningless) labels are inverted
    stage = SupervisedStage().fit(words, emb, weak, era, flipped, judged)
    proba = stage.predict_proba(words, emb, weak, era)[:, 0]
    assert proba[y[:, 0]].mean() > proba[~y[:, 0]].mean() + 0.4


def test_threshold_trades_f1_against_count_bias():
    rng = np.random.default_rng(3)
    y = rng.random(400) < 0.15
    p = np.clip(np.where(y, rng.normal(0.6, 0.2, 400), rng.normal(0.25, 0.15, 400)), 0, 1)

    def f1_and_bias(threshold):
        chosen = p >= threshold
        return 2 * (chosen & y).sum() / (chosen.sum() + y.sum()), abs(chosen.sum() / y.sum() - 1)

    free, strict = f1_and_bias(choose_threshold(y, p, 0.0)), f1_and_bias(choose_threshold(y, p, 5.0))
    assert free[0] >= strict[0] and strict[1] <= free[1] and strict[1] < 0.05


def test_shipped_labels_cover_the_builtin_topics_in_every_era():
    labels = shipped_labels()
    assert labels.counts() == {"dev": 238, "train": 1968}
    y, judged = labels.matrices(load_taxonomy().ids)
    assert judged.all() and y.sum() == 1975  # topic assignments in train + dev
    y_custom, judged_custom = labels.matrices(["language_model", "astro_ml"])
    assert judged_custom[:, 0].all() and not judged_custom[:, 1].any()  # shipped labels say nothing of new topics
    years = labels.frame["submitted"].dt.year()
    assert years.min() < 2000 and years.max() >= 2025


def _write(path, rows) -> None:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))


def test_label_files_parse_skip_pending_and_fail_clearly(tmp_path):
    topics = ["language_model", "astro_ml"]
    good = tmp_path / "mine.jsonl"
    _write(good, [{"id": "2401.00001", "topics": ["astro_ml"], "title": "Galaxies", "abstract": "Stars."},
                  {"id": "2401.00002", "topics": None, "title": "Later", "abstract": "Not yet."},
                  {"id": "2401.00003", "topics": [], "title": "None", "abstract": "Nothing.",
                   "submitted": "2016-05-01T00:00:00Z"}])
    labels, pending = read_labels(good, topics)
    assert pending == 1 and len(labels) == 2
    y, judged = labels.matrices(topics)
    assert y.tolist() == [[False, True], [False, False]] and judged.all()
    assert labels.frame["submitted"].dt.year().to_list() == [None, 2016]
    unknown = tmp_path / "unknown.jsonl"
    _write(unknown, [{"id": "1", "topics": ["nope"], "title": "t"}])
    with pytest.raises(InputError, match=r"unknown.jsonl:1: unknown topic 'nope'"):
        read_labels(unknown, topics)
    untitled = tmp_path / "untitled.jsonl"
    _write(untitled, [{"id": "2401.09999", "topics": []}])
    with pytest.raises(InputError, match="not in the warehouse"):
        read_labels(untitled, topics)
    with pytest.raises(InputError, match="no labelled papers"):
        _write(untitled, [{"id": "2401.09999", "topics": None}])
        read_labels(untitled, topics)
    # a user's label for a shipped paper wins
    shipped = shipped_labels()
    first = shipped.frame["id"][0]
    _write(good, [{"id": first, "topics": ["language_model"], "title": "Mine", "abstract": "x"}])
    merged = combine([shipped, read_labels(good, load_taxonomy().ids)[0]])
    assert len(merged) == len(shipped)
    row = merged.frame["id"].to_list().index(first)
    assert merged.topics[row] == ["language_model"] and merged.frame["set"][row] == "user"
