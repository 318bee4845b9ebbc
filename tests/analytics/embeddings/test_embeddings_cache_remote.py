"""The embedding cache on a URL data root: part files are referenced between versions, compaction works."""

from __future__ import annotations

import json

import fsspec
import numpy as np
import pytest

from analytics.embeddings import EmbeddingCache
from tests.analytics.embeddings.test_embeddings_cache import CountingEmbedder
from warehouse import open_warehouse


@pytest.fixture
def url(memory_url: str) -> str:
    return memory_url


def _manifest(url: str) -> dict:
    fs, root = fsspec.core.url_to_fs(url)
    return json.loads(fs.cat_file(f"{root}/warehouse/_manifests/embeddings.json"))


def test_additions_reference_the_old_parts_and_lookups_read_them(url: str) -> None:
    wh = open_warehouse(url)
    cache, v1, v2 = EmbeddingCache(wh), CountingEmbedder("v1"), CountingEmbedder("v2", dim=4)
    first = cache.embed(["a", "b"], ["text a", "text b"], v1)
    cache.embed(["a"], ["text a"], v2)
    cache.embed(["c"], ["text c"], v1)
    files = _manifest(url)["files"]
    assert files == [".versions/embeddings/000001/embedder_version=v1/part-000000.parquet",
                     ".versions/embeddings/000003/embedder_version=v1/part-000001.parquet",
                     ".versions/embeddings/000002/embedder_version=v2/part-000000.parquet"]
    v1.seen.clear()
    again = cache.embed(["b", "c", "a"], ["text b", "text c", "text a"], v1)
    assert v1.seen == []
    np.testing.assert_array_equal(again[[2, 0]], first)
    table = wh.read("embeddings")
    assert sorted(table["embedder_version"].unique()) == ["v1", "v2"] and table.shape[0] == 4
