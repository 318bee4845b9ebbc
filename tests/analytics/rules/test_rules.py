"""Rule scores: weights, title boost, excludes, category hints, and which pattern fired."""

from __future__ import annotations

import re

import numpy as np
import polars as pl
import pytest
import yaml

from analytics.rules import RuleEngine
from analytics.rules.engine import ABSTRACT_MENTIONS, TITLE_FACTOR
from analytics.taxonomy import load_taxonomy


def _frame(rows):
    return pl.DataFrame({"title": [r[0] for r in rows], "abstract": [r[1] for r in rows],
                         "categories": [r[2] for r in rows]},
                        schema={"title": pl.String, "abstract": pl.String, "categories": pl.List(pl.String)})


@pytest.fixture(scope="module")
def toy_engine(tmp_path_factory) -> RuleEngine:
    doc = {"topics": [
        {"id": "mt", "name": "MT", "part": "P", "description": "Machine translation.",
         "include": [{"pattern": r"\bmachine translation\b", "weight": 1.0},
                     {"pattern": r"\btranslat\w*", "weight": 0.5}],
         "exclude": [{"pattern": r"\btranslation invarian\w*", "weight": 2.0}],
         "categories": {"cs.CL": 0.2, "hep": -1.0}},
        {"id": "protein", "name": "Protein", "part": "P", "description": "Proteins.",
         "include": [{"pattern": r"\bproteins?\b", "weight": 1.0}]},
    ]}
    path = tmp_path_factory.mktemp("tax") / "t.yaml"
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return RuleEngine(load_taxonomy(path))


def test_weights_title_boost_exclude_and_categories(toy_engine: RuleEngine):
    result = toy_engine.score(_frame([
        ("A study", "We improve machine translation of rare words.", ["cs.LG"]),
        ("Machine Translation for all", "Nothing else here.", ["cs.CL"]),
        ("Lattices", "Translation invariance of the translated lattice.", ["hep-th"]),
        ("Nothing", "Unrelated text about galaxies.", []),
        ("Protein folding", None, None),
    ]))
    raw = result.raw
    once = ABSTRACT_MENTIONS[0]
    assert raw[0, 0] == pytest.approx(1.5 * once)  # both patterns once each (the nested one counts too)
    assert raw[1, 0] == pytest.approx((1.0 + 0.5) * TITLE_FACTOR + 0.2)
    # "translat\w*" is found twice ("Translation invariance" holds it too), the exclude once; the hep hint subtracts
    assert raw[2, 0] == pytest.approx(0.5 * ABSTRACT_MENTIONS[1] - 2.0 * once - 1.0)
    assert result.scores[2, 0] == 0.0 and np.all(result.scores[3] == 0.0)
    assert raw[4, 1] == pytest.approx(TITLE_FACTOR)
    assert np.all((result.scores >= 0) & (result.scores < 1))
    assert result.fired(0) == {"mt": [r"\bmachine translation\b", r"\btranslat\w*"]}
    assert result.fired(3) == {}


def test_repeated_abstract_mentions_count_more(toy_engine: RuleEngine):
    """A topic mentioned once in passing weighs less than one the abstract keeps coming back to."""
    result = toy_engine.score(_frame([
        ("A", "Proteins are one use case.", []),
        ("B", "Proteins fold. The protein is small.", []),
        ("C", "Protein design: proteins, a protein, more proteins.", []),
    ]))
    assert result.raw[:, 1] == pytest.approx([ABSTRACT_MENTIONS[0], ABSTRACT_MENTIONS[1], ABSTRACT_MENTIONS[2]])
    assert result.scores[0, 1] < result.scores[1, 1] < result.scores[2, 1]


def test_case_insensitive_and_word_boundaries(toy_engine: RuleEngine):
    result = toy_engine.score(_frame([("PROTEINS", "", []), ("proteinaceous", "", [])]))
    assert result.scores[0, 1] > 0 and result.scores[1, 1] == 0


def test_empty_frame(toy_engine: RuleEngine):
    result = toy_engine.score(_frame([]))
    assert result.scores.shape == (0, 2)


def test_rust_matching_agrees_with_python_on_builtin_rules():
    """The fast matcher (Rust regex) and Python's ``re`` find the same patterns on realistic text."""
    engine = RuleEngine(load_taxonomy())
    texts = [
        ("Scaling Laws for Neural Language Models", "We study empirical scaling laws for language model "
         "performance; large language models (LLMs) follow power laws. Prompting and in-context learning help."),
        ("Jailbreak attacks on VLMs", "Adversarial examples and backdoor poisoning of vision-language models, "
         "and hallucination in multimodal large language models."),
        ("AlphaFold for protein design", "Protein structure prediction with a protein language model."),
        ("Neural machine translation", "Low-resource translation with BLEU; not translation invariance."),
    ]
    result = engine.score(_frame([(t, a, ["cs.CL"]) for t, a in texts]))
    for row, (title, abstract) in enumerate(texts):
        for t, topic in enumerate(engine.taxonomy.topics):
            expected = [p.pattern for p in topic.include
                        if re.search(p.pattern, f"{title}\n{abstract}", flags=re.IGNORECASE)]
            assert sorted(result.fired(row).get(topic.id, [])) == sorted(expected), (row, topic.id)


def test_builtin_rules_are_high_precision_on_clear_cases():
    engine = RuleEngine(load_taxonomy())
    result = engine.score(_frame([
        ("Neural Machine Translation with Transformers", "We translate English to German.", ["cs.CL"]),
        ("Protein structure prediction", "We predict protein structures with AlphaFold.", ["q-bio.BM"]),
        ("Quantized Hall conductance in graphene", "Quantum Hall effect measurements.", ["cond-mat.mes-hall"]),
    ]))
    ids = engine.taxonomy.ids
    assert result.scores[0, ids.index("machine_translation")] > 0.9
    assert result.scores[1, ids.index("protein")] > 0.9
    assert result.scores[2].max() < 0.5


def test_keep_text_gives_the_matched_phrases_and_changes_nothing_else(toy_engine: RuleEngine):
    frame = _frame([
        ("Machine Translation for all", "We translate; machine translation and MACHINE TRANSLATION again.", []),
        ("Lattices", "Translation invariance only.", ["hep-th"]),
        ("Proteins", None, None),
    ])
    plain, kept = toy_engine.score(frame), toy_engine.score(frame, keep_text=True)
    assert np.array_equal(plain.raw, kept.raw) and plain.hits == kept.hits and plain.texts == {}
    # each phrase once (case-insensitively, first spelling kept), title first; an exclude match is not a reason
    assert kept.matched(0) == {"mt": ["Machine Translation", "translate"]}
    assert kept.matched(1) == {"mt": ["Translation invariance"]} and kept.fired(1) == {"mt": [r"\btranslat\w*"]}
    assert kept.matched(2) == {"protein": ["Proteins"]}
