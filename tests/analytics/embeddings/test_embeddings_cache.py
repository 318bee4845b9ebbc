"""The warehouse cache embeds each (paper, text, embedder version) once and returns aligned rows."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analytics.embeddings import EmbeddingCache
from analytics.embeddings import cache as cache_module
from analytics.embeddings.base import Embedder, l2_normalize
from warehouse import open_warehouse


class CountingEmbedder(Embedder):
    """Deterministic vectors from a hash of the text; remembers what it was asked to embed."""

    def __init__(self, version: str = "count-v1", dim: int = 8) -> None:
        self.name, self.version, self.dim = "count", version, dim
        self.seen: list[str] = []

    def encode(self, texts: list[str], batch_size: int = 256, progress: bool = False) -> np.ndarray:
        self.seen.extend(texts)
        rows = [np.frombuffer(hashlib.sha256(t.encode()).digest()[: self.dim * 4], dtype=np.uint32)
                for t in texts]
        return l2_normalize(np.array(rows, dtype=np.float64).reshape(len(texts), self.dim))


def test_only_missing_vectors_are_computed(home: Path) -> None:
    wh = open_warehouse(home)
    cache, embedder = EmbeddingCache(wh), CountingEmbedder()
    first = cache.embed(["a", "b"], ["text a", "text b"], embedder)
    assert embedder.seen == ["text a", "text b"]
    embedder.seen.clear()
    again = cache.embed(["c", "b", "a"], ["text c", "text b", "text a"], embedder)
    assert embedder.seen == ["text c"]
    np.testing.assert_array_equal(again[1:], first[::-1])
    np.testing.assert_array_equal(again, embedder.encode(["text c", "text b", "text a"]))
    assert again.dtype == np.float32 and again.shape == (3, 8)


def test_versions_are_kept_apart_and_changed_texts_recomputed(home: Path) -> None:
    wh = open_warehouse(home)
    cache, v1, v2 = EmbeddingCache(wh), CountingEmbedder("v1"), CountingEmbedder("v2", dim=4)
    cache.embed(["a"], ["old abstract"], v1)
    assert cache.embed(["a"], ["old abstract"], v2).shape == (1, 4)
    assert v2.seen == ["old abstract"]
    cache.embed(["a"], ["revised abstract"], v1)
    assert v1.seen == ["old abstract", "revised abstract"]
    table = wh.read("embeddings")
    assert sorted(table["embedder_version"].astype(str).unique()) == ["v1", "v2"]
    assert set(table.columns) == {"id", "text_hash", "vector", "embedder_version"}
    assert pd.read_parquet(wh.settings.table_dir("embeddings")).shape[0] == 3


def test_repeated_ids_are_embedded_once(home: Path) -> None:
    cache, embedder = EmbeddingCache(open_warehouse(home)), CountingEmbedder()
    out = cache.embed(["x", "y", "x"], ["t x", "t y", "t x"], embedder)
    assert embedder.seen == ["t x", "t y"]
    np.testing.assert_array_equal(out[0], out[2])
    assert cache.embed([], [], embedder).shape == (0, 8)
    with pytest.raises(ValueError, match="ids but"):
        cache.embed(["x"], [], embedder)


@pytest.mark.parametrize("root", ["home", "memory_url"])  # a local folder; object storage (manifest commits)
def test_many_small_writes_are_compacted(root: str, request: pytest.FixtureRequest,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_module, "MAX_PARTS", 3)
    wh = open_warehouse(request.getfixturevalue(root))
    cache, embedder = EmbeddingCache(wh), CountingEmbedder()
    for i in range(5):
        cache.embed([f"p{i}"], [f"text {i}"], embedder)
    assert len(wh.files("embeddings")) <= 3
    embedder.seen.clear()
    ids = [f"p{i}" for i in range(5)]
    out = cache.embed(ids, [f"text {i}" for i in range(5)], embedder)
    assert embedder.seen == []
    np.testing.assert_array_equal(out, embedder.encode([f"text {i}" for i in range(5)]))
