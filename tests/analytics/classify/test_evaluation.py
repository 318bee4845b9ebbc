"""Precision / recall / F1 on a hand-checked toy example, and gold-file errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from analytics.classify import evaluate, read_gold
from analytics.classify.evaluation import bootstrap_intervals, macro_f1_matrix
from warehouse.errors import InputError


def test_toy_numbers(tmp_path: Path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "a", "topics": ["x"]}\n{"id": "b", "topics": ["x", "y"]}\n'
                    '{"id": "c", "topics": []}\n{"id": "d", "topics": ["y"]}\n', encoding="utf-8")
    result = evaluate({"a": ["x"], "b": ["y"], "c": ["x"]}, gold)
    # x: tp=1 (a) fp=1 (c) fn=1 (b) -> P=R=F1=0.5; y: tp=1 (b) fn=1 (d) -> P=1, R=0.5, F1=2/3
    assert result.per_topic["x"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert result.per_topic["y"]["f1"] == pytest.approx(0.6667, abs=1e-4)
    assert result.macro_f1 == pytest.approx((0.5 + 2 / 3) / 2, abs=1e-4)
    assert result.micro_f1 == pytest.approx(2 * 2 / (2 * 2 + 1 + 2), abs=1e-4)  # tp=2 fp=1 fn=2
    assert result.missing == ["d"] and result.papers == 4


def test_macro_average_skips_topics_nobody_mentions():
    result = evaluate({"a": ["x", "z"]}, {"a": ["x"]}, topics=["x", "z", "w"])
    assert result.macro_f1 == 0.5  # x: 1.0, z (predicted, never gold): 0.0, w: left out
    assert result.per_topic["w"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_bad_gold_files(tmp_path: Path):
    with pytest.raises(InputError, match="not found"):
        read_gold(tmp_path / "none.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "topics": []}\n{"id": "b"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"bad.jsonl:2"):
        read_gold(bad)


def _random_labels(n: int, topics: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    gold = rng.random((n, topics)) < 0.2
    predicted = np.where(rng.random((n, topics)) < 0.8, gold, ~gold)  # right on 80% of the cells
    return gold, predicted


def test_bootstrap_interval_brackets_the_point_estimate_and_narrows_with_more_papers():
    gold, predicted = _random_labels(2000, 6, seed=1)
    wide = evaluate({str(i): [str(t) for t in np.flatnonzero(p)] for i, p in enumerate(predicted[:100])},
                    {str(i): [str(t) for t in np.flatnonzero(g)] for i, g in enumerate(gold[:100])})
    narrow = evaluate({str(i): [str(t) for t in np.flatnonzero(p)] for i, p in enumerate(predicted)},
                      {str(i): [str(t) for t in np.flatnonzero(g)] for i, g in enumerate(gold)})
    for result in (wide, narrow):
        assert result.macro_f1_ci[0] < result.macro_f1 < result.macro_f1_ci[1]
        assert result.micro_f1_ci[0] < result.micro_f1 < result.micro_f1_ci[1]
    width = lambda ci: ci[1] - ci[0]  # noqa: E731
    assert width(narrow.macro_f1_ci) < width(wide.macro_f1_ci) / 2  # about 1/sqrt(20) as wide


def test_bootstrap_interval_is_deterministic_and_exact_for_perfect_predictions():
    gold, predicted = _random_labels(300, 4, seed=2)
    assert bootstrap_intervals(gold, predicted) == bootstrap_intervals(gold, predicted)
    perfect = bootstrap_intervals(gold, gold)
    assert perfect["macro"] == perfect["micro"] == (1.0, 1.0)
    assert all(ci == (0.0, 0.0) for ci in perfect["count_bias"])


def test_macro_f1_matrix_agrees_with_evaluate():
    gold, predicted = _random_labels(120, 5, seed=3)
    gold[:, 4] = predicted[:, 4] = False  # a topic nobody mentions is left out of the mean, as in evaluate
    result = evaluate({str(i): [str(t) for t in np.flatnonzero(p)] for i, p in enumerate(predicted)},
                      {str(i): [str(t) for t in np.flatnonzero(g)] for i, g in enumerate(gold)},
                      topics=[str(t) for t in range(5)])
    assert macro_f1_matrix(gold, predicted) == pytest.approx(result.macro_f1, abs=1e-4)


def test_count_bias_and_eras_on_a_hand_made_gold_set():
    gold = {"a": ["x"], "b": ["x"], "c": ["y"], "d": [], "e": ["x", "y"]}
    predicted = {"a": ["x"], "b": [], "c": ["y", "x"], "d": ["x"], "e": ["y"]}
    eras = {"a": 0, "b": 0, "c": 1, "d": 1, "e": 1}
    result = evaluate(predicted, gold, topics=["x", "y", "z"], eras=eras, era_names=("old", "new"))
    # x: 3 true (a, b, e), 3 predicted (a, c, d): bias 0; y: 2 true (c, e), 2 predicted: bias 0; z: no positives
    assert result.count_bias == {"x": 0.0, "y": 0.0, "z": None}
    assert result.mean_abs_count_bias == 0.0
    assert result.by_era["old"]["count_bias"]["x"] == -0.5  # a found, b missed
    assert result.by_era["old"]["per_topic"]["x"]["recall"] == 0.5 and result.by_era["old"]["papers"] == 2
    new = result.by_era["new"]
    assert new["count_bias"]["x"] == 1.0  # one true (e), two predicted (c, d)
    assert new["macro_f1"] == pytest.approx((0.0 + 1.0) / 2)  # x: tp 0 -> F1 0; y: 2 of 2 -> F1 1
    assert result.count_bias_ci["z"] is None  # no interval where resamples can lack positives


def test_count_bias_interval_brackets_the_bias():
    gold, predicted = _random_labels(500, 3, seed=4)
    result = evaluate({str(i): [str(t) for t in np.flatnonzero(p)] for i, p in enumerate(predicted)},
                      {str(i): [str(t) for t in np.flatnonzero(g)] for i, g in enumerate(gold)})
    for topic, bias in result.count_bias.items():
        low, high = result.count_bias_ci[topic]
        assert low < bias < high and bias > 0.3  # 80% right on every cell: many more predicted than true
