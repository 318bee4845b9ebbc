"""Both built-in backends load offline, give unit float32 rows, and rank related texts closer."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from analytics.embeddings import Embedder, get_embedder
from analytics.embeddings import registry
from warehouse.settings import Settings

TEXTS = [
    "Neural machine translation with attention. We translate English to German with a transformer.",
    "Low-resource machine translation: multilingual models translate between many language pairs.",
    "Protein structure prediction with deep learning from amino-acid sequences.",
]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def fast_home(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings.from_home(tmp_path_factory.mktemp("fast-home"))


@pytest.fixture(scope="session")
def fast(fast_home: Settings, request: pytest.FixtureRequest) -> Embedder:
    """Distilled from the packaged MiniLM on the first run; later runs copy the model that run kept
    in pytest's cache (the distillation takes 20 s to minutes on 2 shared cores)."""
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    kept = Path(request.config.cache.mkdir("arxiv-trends-fast-embedder")) / registry.embedder_version("fast")
    target = registry.fast_model_dir(fast_home)
    if (kept / "model.safetensors").exists():
        shutil.copytree(kept, target)
    embedder = get_embedder("fast", fast_home)
    if not kept.exists():
        shutil.copytree(target, kept)
    return embedder


@pytest.fixture(scope="session")
def accurate() -> Embedder:
    return get_embedder("accurate")


@pytest.mark.parametrize("which", ["fast", "accurate"])
def test_backend_contract(which: str, request: pytest.FixtureRequest) -> None:
    embedder: Embedder = request.getfixturevalue(which)
    vectors = embedder.encode(TEXTS)
    assert embedder.name == which
    assert vectors.shape == (3, embedder.dim) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    sims = vectors @ vectors.T
    assert sims[0, 1] > sims[0, 2] and sims[0, 1] > sims[1, 2]  # translation papers closer together
    np.testing.assert_allclose(embedder.encode(TEXTS[::-1])[::-1], vectors, atol=1e-5)  # deterministic


def test_fast_model_is_cached_and_reused(fast: Embedder, fast_home: Settings,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    folder = registry.fast_model_dir(fast_home)
    assert folder.parent == fast_home.models_dir / "embedders"
    assert folder.name == f"fast-{fast.version}" and (folder / "model.safetensors").exists()

    def no_distill(target: Path) -> Path:
        raise AssertionError("the cached fast model should have been reused")

    monkeypatch.setattr(registry, "distill_fast_model", no_distill)
    again = get_embedder("fast", fast_home)
    np.testing.assert_array_equal(again.encode(TEXTS), fast.encode(TEXTS))
    assert again.version == fast.version and again.dim == fast.dim == registry.PCA_DIMS
