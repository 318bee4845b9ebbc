"""``get_embedder(name, settings)``: the two built-in backends, their versions, the fast model's cache."""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Literal

from analytics.embeddings.accurate import MAX_SEQ_LENGTH, MiniLMEmbedder, minilm_path
from analytics.embeddings.base import TEXT_RECIPE, Embedder, quiet_model_loading
from analytics.embeddings.static import StaticEmbedder
from warehouse.errors import ArxivTrendsError
from warehouse.settings import Settings

EmbedderName = Literal["fast", "accurate"]
EMBEDDERS: tuple[str, ...] = ("fast", "accurate")

# The distillation recipe of the fast model; any change here must change FAST_MODEL.
PCA_DIMS = 256
SIF_COEFFICIENT = 1e-4
FAST_MODEL = f"m2v-minilm-l6-v2-pca{PCA_DIMS}-sif{SIF_COEFFICIENT:g}"
ACCURATE_MODEL = f"minilm-l6-v2-seq{MAX_SEQ_LENGTH}"


class UnknownEmbedder(ArxivTrendsError):
    """An embedder name that is not one of the built-in backends."""


def embedder_version(name: str) -> str:
    """The version string of a built-in embedder (model plus text recipe), without loading it."""
    if name == "fast":
        return f"{FAST_MODEL}-{TEXT_RECIPE}"
    if name == "accurate":
        return f"{ACCURATE_MODEL}-{TEXT_RECIPE}"
    raise UnknownEmbedder(f"unknown embedder {name!r}; choose one of: {', '.join(EMBEDDERS)}")


def fast_model_dir(settings: Settings) -> Path:
    return settings.models_dir / "embedders" / f"fast-{embedder_version('fast')}"


def distill_fast_model(target: Path) -> Path:
    """Distill the static model from the packaged MiniLM into ``target`` (once; about 20 s on 2 cores).

    Written to a temporary folder and renamed into place, so a killed run leaves no half model.
    """
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from model2vec.distill import distill

    print("embeddings: distilling the fast model from MiniLM (once, under a minute)", file=sys.stderr, flush=True)
    with quiet_model_loading():
        model = distill(minilm_path(), pca_dims=PCA_DIMS, sif_coefficient=SIF_COEFFICIENT, quantize_to="float32")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    try:
        model.save_pretrained(staging)
        os.rename(staging, target)
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / "model.safetensors").exists():  # not merely lost a race with another process
            raise
    return target


def get_embedder(name: EmbedderName | str, settings: Settings | None = None) -> Embedder:
    """The ``fast`` (distilled static, cached under ``<home>/models/embedders/``) or ``accurate`` embedder."""
    version = embedder_version(name)
    if name == "accurate":
        return MiniLMEmbedder(name, version)
    settings = settings or Settings.from_home(None)
    folder = fast_model_dir(settings)
    if not (folder / "model.safetensors").exists():
        distill_fast_model(folder)
    return StaticEmbedder(folder, name, version)
