"""Precision / recall / F1 on a hand-checked toy example, and gold-file errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from analytics.classify import evaluate, read_gold
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
