"""The embedder interface and the one text recipe every embedder sees."""

from __future__ import annotations

import io
import sys
from abc import ABC, abstractmethod
from contextlib import contextmanager, redirect_stderr
from typing import Iterator

import numpy as np

# Bump when ``paper_text`` changes: it is part of every embedder version, so cached vectors of the
# old recipe are never mixed with new ones.
TEXT_RECIPE = "t1"


@contextmanager
def quiet_model_loading() -> Iterator[None]:
    """Load MiniLM without transformers' load report (it lists an unused ``position_ids`` buffer: harmless) and,
    when stderr is a log file rather than a terminal, without progress bars (thousands of updates in a log)."""
    from transformers.utils import logging as hf_logging

    verbosity = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    try:
        if sys.stderr.isatty():
            yield
        else:
            with redirect_stderr(io.StringIO()):  # the bars write to sys.stderr; errors still raise
                yield
    finally:
        hf_logging.set_verbosity(verbosity)


def paper_text(title: str | None, abstract: str | None) -> str:
    """Title and abstract as one passage: ``"Title. Abstract"`` with whitespace collapsed."""
    title = " ".join((title or "").split())
    abstract = " ".join((abstract or "").split())
    if title and abstract and title[-1] not in ".?!":
        title += "."
    return f"{title} {abstract}".strip()


def paper_texts(papers) -> list[str]:
    """``paper_text`` of every row of a frame with ``title`` and ``abstract`` columns."""
    return [paper_text(t, a) for t, a in zip(papers["title"].to_list(), papers["abstract"].to_list())]


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length, in float32; all-zero rows (no known token) stay zero."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, np.float32(1e-12))


class Embedder(ABC):
    """Turns texts into L2-normalised float32 vectors; ``version`` names the vectors it makes."""

    name: str
    version: str
    dim: int

    @abstractmethod
    def encode(self, texts: list[str], batch_size: int = 256, progress: bool = False) -> np.ndarray:
        """One row per text, float32, unit length (zero for a text with no known token)."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, version={self.version!r}, dim={self.dim})"
