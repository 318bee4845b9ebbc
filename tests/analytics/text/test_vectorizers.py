"""The fast vectorizers give scikit-learn's matrices and terms, on real abstracts and on hostile text."""

from __future__ import annotations

import gzip
import json
import pickle
import re
from itertools import islice

import numpy as np
import polars as pl
import pytest
from sklearn.feature_extraction import text as sk

from analytics.embeddings.base import paper_text
from analytics.text import CountVectorizer, TfidfVectorizer
from analytics.text.tokens import python_word_pattern
from tests.conftest import shared_path

EDGE_TEXTS = [
    "", "   ", "a", "Café naïve résumé — “quoted” ¿Qué? 東京大学 αβγ Straße ΣΑΣ",
    "x² and x₂, ½ cup, combining e\u0301 and i\u0307, ǅ titlecase", "tabs\tand\nnewlines\r\nNUL\x00here",
    "snake_case_words and 3.14e-5 50% $x^2$ a_b c/d the the the", "astral 𝑥 + 𝑦 \U00010100 between",
]
TFIDF = dict(min_df=3, max_df=0.5, ngram_range=(1, 2), sublinear_tf=True, max_features=5_000, dtype=np.float32,
             stop_words="english")  # as analytics.classify uses it (with max_features scaled to the corpus)


def _abstracts(n: int, skip: int = 0) -> list[str]:
    path = sorted(shared_path("data", "arxiv").glob("*.jsonl.gz"))[-1]
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        records = [json.loads(line) for line in islice(fh, skip, skip + n)]
    return [paper_text(r.get("title"), r.get("abstract")) for r in records]


def _same(ours, theirs) -> None:
    """Same shape, dtype, and arrays bit for bit: each row's entries in the same order too (scikit-learn's fitted
    matrix keeps them in order of first appearance, which a sparse product's float sums depend on)."""
    assert type(ours) is type(theirs) and ours.shape == theirs.shape and ours.dtype == theirs.dtype
    np.testing.assert_array_equal(ours.indptr, theirs.indptr)
    np.testing.assert_array_equal(ours.indices, theirs.indices)
    np.testing.assert_array_equal(ours.data, theirs.data)


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], list[str]]:
    return _abstracts(1_500) + EDGE_TEXTS, _abstracts(500, skip=1_500) + EDGE_TEXTS


def test_tfidf_equals_scikit_learn_on_real_abstracts(corpus) -> None:
    fit_docs, new_docs = corpus
    ours, theirs = TfidfVectorizer(**TFIDF), sk.TfidfVectorizer(**TFIDF)
    _same(ours.fit_transform(fit_docs), theirs.fit_transform(fit_docs))
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())
    assert ours.vocabulary_ == theirs.vocabulary_
    np.testing.assert_array_equal(ours.idf_, theirs.idf_)
    _same(ours.transform(new_docs), theirs.transform(new_docs))


@pytest.mark.parametrize("params", [
    dict(stop_words="english", ngram_range=(1, 2), min_df=2),  # BERTopic's c-TF-IDF counter
    dict(ngram_range=(1, 3), max_df=10, max_features=300),
    dict(stop_words=["we", "the", "of"], min_df=0.01, max_df=0.9),
])
def test_counts_equal_scikit_learn(corpus, params) -> None:
    fit_docs, new_docs = corpus
    ours, theirs = CountVectorizer(**params), sk.CountVectorizer(**params)
    _same(ours.fit_transform(fit_docs), theirs.fit_transform(fit_docs))
    assert list(ours.get_feature_names_out()) == list(theirs.get_feature_names_out())
    _same(ours.transform(new_docs), theirs.transform(new_docs))


def test_saved_state_pickled_or_as_arrays_transforms_the_same(corpus) -> None:
    fit_docs, new_docs = corpus
    fitted = TfidfVectorizer(**TFIDF).fit(fit_docs)
    expected = fitted.transform(new_docs)
    _same(pickle.loads(pickle.dumps(fitted)).transform(new_docs), expected)
    arrays = {k: np.frombuffer(v.tobytes(), dtype=v.dtype) for k, v in fitted.to_arrays("v_").items()}
    _same(TfidfVectorizer.from_arrays(arrays, "v_").transform(new_docs), expected)
    assert "stop_words_" not in vars(fitted)  # scikit-learn's set of every pruned term is what makes its pickles big


def test_word_pattern_is_pythons_word_class() -> None:
    """Every code point: the Rust pattern's word character is exactly Python's ``\\w``."""
    points = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    doubled = pl.Series([c + c for c in points])
    rust = doubled.str.contains(f"^{python_word_pattern()[:-len('{2,}')]}{{2}}$").to_numpy()
    python = np.fromiter((bool(re.match(r"\w", c)) for c in points), dtype=bool, count=len(points))
    assert np.array_equal(rust, python)


def test_refuses_what_scikit_learn_refuses() -> None:
    with pytest.raises(ValueError, match="string object received"):
        CountVectorizer().fit("not a list")
    with pytest.raises(ValueError, match="empty vocabulary"):
        CountVectorizer(stop_words="english").fit(["the of and", "a"])
    with pytest.raises(ValueError, match="no terms remain"):
        CountVectorizer(min_df=2).fit(["alpha beta", "gamma delta"])
    with pytest.raises(ValueError, match="not fitted"):
        CountVectorizer().transform(["x"])
