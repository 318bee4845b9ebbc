"""Our embedders as a BERTopic embedding backend (BERTopic embeds the zero-shot descriptions with it)."""

from __future__ import annotations

import numpy as np
from bertopic.backend import BaseEmbedder

from analytics.embeddings.base import Embedder


class EmbedderBackend(BaseEmbedder):
    """Hands BERTopic the same vectors the documents were embedded with."""

    def __init__(self, embedder: Embedder) -> None:
        super().__init__()
        self.embedder = embedder

    def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
        return self.embedder.encode(list(documents), progress=verbose)
