"""The fast encoder equals model2vec's own encode (untruncated) while taking a faster path."""

from __future__ import annotations

import gzip
import json
from itertools import islice

import numpy as np
import pytest
from model2vec import StaticModel
from tokenizers import Tokenizer

from analytics.embeddings.accurate import minilm_path
from analytics.embeddings.base import paper_text
from analytics.embeddings.static import StaticEncoder
from tests.conftest import shared_path

EDGE_TEXTS = [
    "", "   ", ".", "Attention Is All You Need. The dominant sequence transduction models ...",
    "Café naïve résumé — “quoted” ¿Qué? 東京大学 αβγ Straße",
    "tabs\tand\nnewlines\r\nand a control\x01char and a NUL\x00here",
    "[PAD] literal added tokens [UNK] inside[PAD]text",
    "astral math 𝑥 + 𝑦 and astral punctuation \U00010100 between",
    "a" * 150 + " a very long word becomes [UNK] and is dropped",
    "Mixed-CASE, punctuation!!! (brackets) [refs 1,2] {braces} 3.14e-5 50% $x^2$ a_b c/d",
]


@pytest.fixture(scope="module")
def random_model() -> StaticModel:
    """MiniLM's WordPiece tokenizer with random vectors: the pooling path without a distillation."""
    tokenizer = Tokenizer.from_file(f"{minilm_path()}/tokenizer.json")
    tokenizer.no_truncation()
    tokenizer.no_padding()
    vectors = np.random.default_rng(0).standard_normal((tokenizer.get_vocab_size(), 32)).astype(np.float32)
    return StaticModel(vectors, tokenizer, normalize=True)


def _real_texts(n: int) -> list[str]:
    texts = []
    for name in ("daily_arxiv_cs_2025_2026-part00.jsonl.gz", "clopezvice_math_2025.jsonl.gz",
                 "kaggle_snapshot_head_2007.jsonl.gz"):
        with gzip.open(shared_path("data", "arxiv", name), "rt", encoding="utf-8") as fh:
            for line in islice(fh, n):
                rec = json.loads(line)
                texts.append(paper_text(rec.get("title"), rec.get("abstract")))
    return texts


def test_tokens_equal_the_tokenizer_on_edge_texts(random_model: StaticModel) -> None:
    encoder = StaticEncoder(random_model.embedding, random_model.tokenizer)
    unk = random_model.tokenizer.token_to_id("[UNK]")
    for text in EDGE_TEXTS:
        expected = [i for i in random_model.tokenizer.encode(text, add_special_tokens=False).ids if i != unk]
        assert encoder.tokens_of(text) == expected, text


def test_vectors_equal_model2vec_encode(random_model: StaticModel) -> None:
    encoder = StaticEncoder(random_model.embedding, random_model.tokenizer)
    got = encoder.encode(EDGE_TEXTS, batch_size=3)
    want = random_model.encode(EDGE_TEXTS, max_length=None)
    np.testing.assert_allclose(got, want, atol=1e-5)
    assert got.dtype == np.float32
    assert not got[:2].any()  # no token at all: a zero row, not NaN


@pytest.mark.slow
def test_vectors_equal_model2vec_on_real_abstracts(random_model: StaticModel) -> None:
    texts = _real_texts(1500)
    encoder = StaticEncoder(random_model.embedding, random_model.tokenizer)
    got = encoder.encode(texts, batch_size=1000)
    want = random_model.encode(texts, max_length=None)
    np.testing.assert_allclose(got, want, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_batching_and_warm_cache_do_not_change_vectors(random_model: StaticModel) -> None:
    texts = EDGE_TEXTS * 3
    cold = StaticEncoder(random_model.embedding, random_model.tokenizer).encode(texts, batch_size=len(texts))
    encoder = StaticEncoder(random_model.embedding, random_model.tokenizer)
    encoder.encode(texts[::-1])
    np.testing.assert_array_equal(encoder.encode(texts, batch_size=4), cold)
    assert encoder.encode([]).shape == (0, 32)
