"""A small themed corpus, a bag-of-words embedder, and one fitted model shared by the tests."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

import numpy as np
import pytest

from analytics.embeddings.base import Embedder, l2_normalize
from analytics.subtopics import SubtopicModel

THEMES = {  # two themes the zero-shot descriptions match, four left to be discovered
    "protein": "protein folding structure amino acid residues binding enzyme sequence",
    "translation": "translation translate languages bilingual parallel corpus english german",
    "galaxy": "galaxy stars telescope cosmic redshift luminosity halo survey",
    "quantum": "quantum qubit entanglement hamiltonian spin superconducting gate decoherence",
    "soil": "soil crop irrigation yield farming nitrogen harvest drought",
    "robot": "robot grasping manipulator gripper locomotion actuator legged arm",
}
FILLER = "we study propose results show method approach paper novel analysis".split()
ZEROSHOT = {
    "protein": "protein structure folding amino acid binding",
    "machine_translation": "translation between languages bilingual english german",
    "dialogue": "dialogue chatbot conversation turns persona",
}


class BagOfWordsEmbedder(Embedder):
    """Hashed word counts: texts sharing words are close, which is all zero-shot matching needs."""

    name, version, dim = "bow", "bow-64-v1", 64

    def encode(self, texts: list[str], batch_size: int = 256, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dim))
        for row, text in enumerate(texts):
            for word in re.findall(r"[a-z]+", text.lower()):
                out[row, hashlib.md5(word.encode()).digest()[0] % self.dim] += 1.0
        return l2_normalize(out)


def make_corpus(per_theme: int = 90, seed: int = 0) -> tuple[list[str], list[datetime]]:
    rng = np.random.default_rng(seed)
    docs, stamps = [], []
    for theme, words in THEMES.items():
        vocab = words.split()
        for _ in range(per_theme):
            picked = list(rng.choice(vocab, 7)) + list(rng.choice(FILLER, 3))
            docs.append(" ".join(picked))
            stamps.append(datetime(int(rng.integers(2019, 2024)), 6, 1, tzinfo=timezone.utc))
    return docs, stamps


@pytest.fixture(scope="session")
def embedder() -> BagOfWordsEmbedder:
    return BagOfWordsEmbedder()


@pytest.fixture(scope="session")
def corpus(embedder: BagOfWordsEmbedder) -> tuple[list[str], np.ndarray, list[datetime]]:
    docs, stamps = make_corpus()
    return docs, embedder.encode(docs), stamps


def fit_model(embedder: Embedder, docs: list[str], vectors: np.ndarray, **params) -> SubtopicModel:
    params = {"seed": 42, "zeroshot_min_similarity": 0.6, "parent_min_similarity": 0.5, **params}
    return SubtopicModel(embedder=embedder, **params).fit(docs, vectors, ZEROSHOT)


@pytest.fixture(scope="session")
def fitted(embedder, corpus) -> SubtopicModel:
    docs, vectors, _ = corpus
    return fit_model(embedder, docs, vectors)
