"""Paper embeddings: one interface, two offline backends (``fast`` static, ``accurate`` MiniLM), a cache."""

from analytics.embeddings.base import TEXT_RECIPE, Embedder, paper_text
from analytics.embeddings.cache import EmbeddingCache
from analytics.embeddings.registry import EMBEDDERS, UnknownEmbedder, embedder_version, get_embedder

__all__ = ["EMBEDDERS", "TEXT_RECIPE", "Embedder", "EmbeddingCache", "UnknownEmbedder", "embedder_version",
           "get_embedder", "paper_text"]
